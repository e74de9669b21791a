package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/calldir/calldir/e164"
	"github.com/calldir/calldir/shard"
	"github.com/calldir/calldir/shard/livelookup"
	"github.com/calldir/calldir/validate"
	"github.com/urfave/cli/v2"
)

func inspectCommand(e *env) *cli.Command {
	var dump bool
	return &cli.Command{
		Name:      "inspect",
		Usage:     "show a build's, a shard's or a Live Caller ID Lookup export's counts, or dump its numbers as E.164",
		ArgsUsage: "BUILD_DIR|SHARD|LIVE_LOOKUP_DIR",
		Description: withExamples(`
Checks a build as validate does before printing anything of it: a build
whose shards or manifest validate reports (a shard replaced, damaged,
missing or leading outside the directory, a manifest whose counts, sizes,
SHA-256s, totals or build_id differ from its shards) is refused, its
findings on stderr, nothing on stdout, exit 1. Files the manifest does not
list are not read and do not stop it. The summary shows the region each
input was read with. With --dump, prints every entry as E.164 text, one
per line, in numeric order ("+14085555555"; identification entries add
",label" in CSV quoting), so two builds can be compared with diff. Every
shard printed is read again and checked against the manifest's count and
SHA-256 as it is printed.

A single shard file (no manifest to check it against) is read in full and
verified (order, range, checksum) before it is printed; one that does not
read is an unreadable input, exit 2.

On a Live Caller ID Lookup export, --dump prints every row of block.binpb
(its key) then of identity.binpb (key,name in CSV quoting, and
"icon=N bytes" when the row has an icon), in file order; every row of every
database is decoded and checked against the manifest first.

EXAMPLES:
   calldir inspect build
   calldir inspect build/block-0001.shard
   diff <(calldir inspect --dump old) <(calldir inspect --dump new)
   diff <(calldir inspect --dump build) <(calldir inspect --dump live)`),
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "dump", Usage: "print every number as E.164 text", Destination: &dump},
		},
		Action: func(c *cli.Context) error {
			if c.Args().Len() != 1 {
				return usagef("inspect: want one BUILD_DIR or SHARD argument")
			}
			return runInspect(c.Context, c.Args().First(), dump, e)
		},
	}
}

// runInspect verifies before it prints. A build is checked by
// validate.Build, the check validate runs, so that inspect never calls
// "verified" a build validate reports (a shard copied over from another
// build reads as a valid shard; only the manifest tells); then each shard
// is read again through shard.ReadShardIn, which checks it against the
// manifest's count and SHA-256, and printed only once it has been read in
// full. A build's files are opened through an os.Root of its directory: a
// manifest naming "../x" or a shard replaced by a symlink leading out is
// refused, never printed.
func runInspect(ctx context.Context, path string, dump bool, e *env) error {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	out := bufio.NewWriterSize(e.stdout, 256<<10)
	defer out.Flush()
	if !fi.IsDir() {
		return inspectShardFile(out, path, dump)
	}
	root, err := shard.OpenBuildRoot(path)
	if err != nil {
		return err
	}
	defer root.Close()
	if _, err := root.Lstat(livelookup.ManifestName); err == nil {
		return inspectLive(out, root, dump)
	}
	if _, err := root.Lstat(shard.ManifestName); errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%s: not a build directory: no %s", path, shard.ManifestName)
	}
	if err := checkBuild(ctx, path, e.stderr); err != nil {
		return err
	}
	// Checked above; read again (with its build_id, as diff does) in case
	// it changed since, and because a finding inspect lets through (a
	// stray file) stops validate before its build_id check.
	m, err := shard.ReadManifestIn(root)
	if err != nil {
		return err
	}
	if dump {
		// One shard at a time in memory (at most 2M entries), printed once
		// it was read in full and matched the manifest.
		for _, s := range m.Shards {
			nums := make([]int64, 0, s.Count)
			var labels []string
			h, err := shard.ReadShardIn(root, s, func(n int64, label string) error {
				nums = append(nums, n)
				if label != "" { // identification: a label is never empty
					labels = append(labels, label)
				}
				return nil
			})
			if err != nil {
				return err
			}
			if h.Kind == shard.KindIdentify && len(labels) != len(nums) {
				return fmt.Errorf("%s: %d labels for %d entries", filepath.Join(path, s.File), len(labels), len(nums))
			}
			printEntries(out, h.Kind, nums, labels)
		}
		return nil
	}
	hdrs := make([]shard.Header, len(m.Shards))
	for i, s := range m.Shards {
		if hdrs[i], err = shard.ReadShardIn(root, s, nil); err != nil {
			return err
		}
	}
	printBuildSummary(out, path, m)
	for i, s := range m.Shards {
		printShardLine(out, s.File, hdrs[i])
	}
	return nil
}

// checkBuild runs validate's check of the build dir and refuses it with
// findingsError (exit 1, what validate exits for the same damage) when
// validate reports anything about the manifest or the files it lists; the
// findings, in validate's words, go to stderr. Stray files are let
// through: inspect does not read them, and a .DS_Store beside the shards
// changes nothing it prints.
func checkBuild(ctx context.Context, dir string, stderr io.Writer) error {
	r, err := validate.Build(ctx, dir)
	if err != nil {
		return err
	}
	n := 0
	for _, f := range r.Findings {
		if f.Kind == validate.KindStrayFile {
			continue
		}
		fmt.Fprintf(stderr, "calldir: %s\n", f)
		n++
	}
	if n > 0 {
		fmt.Fprintf(stderr, "calldir: inspect: %s: %d finding(s) (calldir validate %s lists them all); nothing printed\n", dir, n, dir)
		return findingsError{fmt.Sprintf("%d finding(s)", n)}
	}
	return nil
}

// inspectShardFile prints a shard named on the command line, opened as
// given, once it was read in full and verified.
func inspectShardFile(out *bufio.Writer, path string, dump bool) error {
	f, err := shard.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	recs, err := f.Records()
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	h := f.Header()
	if !dump {
		printShardLine(out, path, h)
		return nil
	}
	nums := make([]int64, len(recs))
	var labels []string
	if h.Kind == shard.KindIdentify {
		labels = make([]string, len(recs))
	}
	for i, rec := range recs {
		nums[i] = rec.Number
		if labels != nil {
			labels[i] = f.Labels()[rec.Label]
		}
	}
	printEntries(out, h.Kind, nums, labels)
	return nil
}

// printBuildSummary prints a checked build's manifest: how it was made and
// what each input gave. The region shown is each source's: a source with
// its own region (a [[source]] region, "PATH;region=XX") was read with it,
// not with options.region.
func printBuildSummary(out *bufio.Writer, path string, m *shard.Manifest) {
	o := m.Options
	fmt.Fprintf(out, "build %s: calldir %s, kind %s, %s, accept %s, max %s per shard\n",
		path, m.ToolVersion, o.Kind, sourceRegions(m), o.Accept, group(int64(o.MaxPerShard)))
	t := m.Totals
	fmt.Fprintf(out, "  %s lines, %s accepted, %s rejected, %s duplicates, %s allowlisted -> %s entries in %d shard(s)\n",
		group(t.Lines), group(t.Accepted), group(t.Rejected), group(t.Duplicates), group(t.Allowlisted), group(t.Entries), t.Shards)
	for _, in := range m.Inputs {
		fmt.Fprintf(out, "  %-6s %s (%s, region %s, %s bytes): %s lines, %s accepted, %s rejected\n",
			in.Role, in.Path, in.Format, inputRegion(in, o), group(in.Bytes), group(in.Lines), group(in.Accepted), group(in.Rejected))
	}
}

// inputRegion is the default region the input was read with.
func inputRegion(in shard.InputStats, o shard.BuildOptions) string {
	if in.Region != "" {
		return in.Region
	}
	return o.Region
}

// sourceRegions names the regions the build's sources were read with, in
// the order of the sources: "region FR", "regions FR, CH"; options.region
// when the build has no source.
func sourceRegions(m *shard.Manifest) string {
	var rs []string
	for _, in := range m.Inputs {
		if r := inputRegion(in, m.Options); in.Role == "source" && !slices.Contains(rs, r) {
			rs = append(rs, r)
		}
	}
	switch len(rs) {
	case 0:
		return "region " + m.Options.Region
	case 1:
		return "region " + rs[0]
	}
	return "regions " + strings.Join(rs, ", ")
}

// printShardLine prints the summary line of a verified shard.
func printShardLine(out *bufio.Writer, name string, h shard.Header) {
	fmt.Fprintf(out, "  %s: %s, %s entries, %s .. %s", name, h.Kind, group(int64(h.Count)), e164.Format(h.First), e164.Format(h.Last))
	if h.Kind == shard.KindIdentify {
		fmt.Fprintf(out, ", %d labels", h.LabelCount)
	}
	fmt.Fprintf(out, ", %s bytes, crc32c %08x, verified\n", group(int64(h.FileSize())), h.BodyCRC)
}

// printEntries prints verified entries as E.164 text, one a line, with
// their labels (one per number, identification only) in CSV quoting.
func printEntries(out *bufio.Writer, kind shard.Kind, nums []int64, labels []string) {
	if kind == shard.KindIdentify {
		cw := csv.NewWriter(out)
		for i, n := range nums {
			cw.Write([]string{e164.Format(n), labels[i]})
		}
		cw.Flush()
		return
	}
	var buf []byte
	for _, n := range nums {
		buf = append(buf[:0], '+')
		buf = strconv.AppendInt(buf, n, 10)
		buf = append(buf, '\n')
		out.Write(buf)
	}
}

// inspectLive verifies an export (every row decoded and checked, each
// database's rows, size and SHA-256 against the manifest) and then prints
// its summary, or with dump every row.
func inspectLive(out *bufio.Writer, root *os.Root, dump bool) error {
	f, err := shard.OpenFileIn(root, livelookup.ManifestName)
	if err != nil {
		return err
	}
	m, err := livelookup.ReadManifest(f)
	f.Close()
	if err != nil {
		return fmt.Errorf("%s: %w", root.Name(), err)
	}
	for _, d := range m.Databases {
		if err := eachLiveRow(root, d, nil); err != nil {
			return err
		}
	}
	if !dump {
		fmt.Fprintf(out, "live lookup %s: calldir %s, key forms %v\n", root.Name(), m.ToolVersion, m.KeyForms)
		for _, d := range m.Databases {
			fmt.Fprintf(out, "  %s: %s, %s numbers, %s rows, %s bytes, sha256 %.12s…, %d PIR shard(s) (%s), build %.12s…, verified\n",
				d.File, d.Kind, group(d.Numbers), group(d.Rows), group(d.Bytes), d.SHA256, d.Shards, d.Config, d.BuildID)
			if d.Kind == "identity" {
				fmt.Fprintf(out, "    category %s, cache %d minutes, %s icons, largest value %s bytes\n", d.Category, d.CacheExpiryMinutes, group(d.Icons), group(int64(d.MaxValueBytes)))
			}
		}
		return nil
	}
	cw := csv.NewWriter(out)
	defer cw.Flush()
	for _, d := range m.Databases {
		err := eachLiveRow(root, d, func(key []byte, id livelookup.Identity) {
			if d.Kind == "block" {
				cw.Write([]string{string(key)})
				return
			}
			rec := []string{string(key), id.Name}
			if id.Icon != nil {
				rec = append(rec, fmt.Sprintf("icon=%d bytes", len(id.Icon)))
			}
			cw.Write(rec)
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// eachLiveRow reads one database of an export, checking every key and
// value, and its rows, size and SHA-256 against the manifest; fn (when
// not nil) gets each row.
func eachLiveRow(root *os.Root, d livelookup.Database, fn func([]byte, livelookup.Identity)) error {
	path := filepath.Join(root.Name(), d.File)
	f, err := shard.OpenFileIn(root, d.File)
	if err != nil {
		return err
	}
	defer f.Close()
	h := sha256.New()
	rd := livelookup.NewReader(io.TeeReader(f, h))
	for {
		row, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		if _, _, err := livelookup.ParseKey(row.Key); err != nil {
			return fmt.Errorf("%s: row %d: %w", path, row.Index, err)
		}
		id, err := livelookup.CheckValue(d.Kind, row.Value)
		if err != nil {
			return fmt.Errorf("%s: row %d: %w", path, row.Index, err)
		}
		if fn != nil {
			fn(row.Key, id)
		}
	}
	if sum := hex.EncodeToString(h.Sum(nil)); rd.Rows() != d.Rows || sum != d.SHA256 {
		return fmt.Errorf("%s: %d rows, SHA-256 %.12s…; the manifest says %d rows, %.12s…: replaced or damaged; run calldir validate", path, rd.Rows(), sum, d.Rows, d.SHA256)
	}
	return nil
}
