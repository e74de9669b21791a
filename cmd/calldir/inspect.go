package main

import (
	"bufio"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"

	"github.com/calldir/calldir/e164"
	"github.com/calldir/calldir/shard"
	"github.com/calldir/calldir/shard/livelookup"
	"github.com/urfave/cli/v2"
)

func inspectCommand(e *env) *cli.Command {
	var dump bool
	return &cli.Command{
		Name:      "inspect",
		Usage:     "show a build's, a shard's or a Live Caller ID Lookup export's counts, or dump its numbers as E.164",
		ArgsUsage: "BUILD_DIR|SHARD|LIVE_LOOKUP_DIR",
		Description: withExamples(`
Reads every shard in full, so the counts shown are verified (order, range,
checksum). With --dump, prints every entry as E.164 text, one per line, in
numeric order ("+14085555555"; identification entries add ",label" in CSV
quoting), so two builds can be compared with diff.

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
			return runInspect(c.Args().First(), dump, e)
		},
	}
}

// runInspect verifies before it prints: every shard of a build is read in
// full and checked (order, range, count, first/last, checksum) before the
// first line goes out, so a damaged shard fails the command with nothing
// on stdout instead of printing a wrong number that a diff of two dumps
// would show as a real change. A build's files are opened through an
// os.Root of its directory: a manifest naming "../x" or a shard replaced by
// a symlink leading out is refused, never printed.
func runInspect(path string, dump bool, e *env) error {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	out := bufio.NewWriterSize(e.stdout, 256<<10)
	defer out.Flush()
	if !fi.IsDir() {
		// A shard named on the command line is opened as given.
		open := func() (*shard.File, error) { return shard.Open(path) }
		h, labels, recs, err := readShard(open, path, dump)
		if err != nil {
			return err
		}
		printShard(out, path, h, labels, recs, dump)
		return nil
	}
	root, err := shard.OpenBuildRoot(path)
	if err != nil {
		return err
	}
	defer root.Close()
	if _, err := root.Lstat(livelookup.ManifestName); err == nil {
		return inspectLive(out, root, dump)
	}
	f, err := shard.OpenFileIn(root, shard.ManifestName)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%s: not a build directory: no %s", path, shard.ManifestName)
	}
	if err != nil {
		return err
	}
	m, err := shard.ReadManifest(f)
	f.Close()
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	// First pass: verify every shard, streaming, keeping only headers.
	hdrs := make([]shard.Header, len(m.Shards))
	for i, s := range m.Shards {
		if !filepath.IsLocal(s.File) {
			return fmt.Errorf("%s: manifest names shard %q outside the build directory", path, s.File)
		}
		open := func() (*shard.File, error) { return shard.OpenIn(root, s.File) }
		if hdrs[i], _, _, err = readShard(open, filepath.Join(path, s.File), false); err != nil {
			return err
		}
	}
	if !dump {
		o := m.Options
		fmt.Fprintf(out, "build %s: calldir %s, kind %s, region %s, accept %s, max %s per shard\n",
			path, m.ToolVersion, o.Kind, o.Region, o.Accept, group(int64(o.MaxPerShard)))
		t := m.Totals
		fmt.Fprintf(out, "  %s lines, %s accepted, %s rejected, %s duplicates, %s allowlisted -> %s entries in %d shard(s)\n",
			group(t.Lines), group(t.Accepted), group(t.Rejected), group(t.Duplicates), group(t.Allowlisted), group(t.Entries), t.Shards)
		for _, in := range m.Inputs {
			fmt.Fprintf(out, "  %-6s %s (%s, %s bytes): %s lines, %s accepted, %s rejected\n",
				in.Role, in.Path, in.Format, group(in.Bytes), group(in.Lines), group(in.Accepted), group(in.Rejected))
		}
		for i, s := range m.Shards {
			printShard(out, s.File, hdrs[i], nil, nil, false)
		}
		return nil
	}
	// Second pass: each shard into memory (at most 32 MB), verified again
	// (it may have changed since the first pass), then printed.
	for _, s := range m.Shards {
		open := func() (*shard.File, error) { return shard.OpenIn(root, s.File) }
		h, labels, recs, err := readShard(open, filepath.Join(path, s.File), true)
		if err != nil {
			return err
		}
		printShard(out, s.File, h, labels, recs, true)
	}
	return nil
}

// readShard reads a whole shard and verifies it; with keep it returns its
// labels and records, all of them verified before any is returned.
func readShard(open func() (*shard.File, error), path string, keep bool) (shard.Header, []string, []shard.Record, error) {
	f, err := open()
	if err != nil {
		return shard.Header{}, nil, nil, err
	}
	defer f.Close()
	if keep {
		recs, err := f.Records()
		if err != nil {
			return shard.Header{}, nil, nil, fmt.Errorf("%s: %w", path, err)
		}
		return f.Header(), f.Labels(), recs, nil
	}
	for {
		_, err := f.Next()
		if errors.Is(err, io.EOF) {
			return f.Header(), nil, nil, nil
		}
		if err != nil {
			return shard.Header{}, nil, nil, fmt.Errorf("%s: %w", path, err)
		}
	}
}

// printShard prints a verified shard: its entries as E.164 text with dump,
// its summary line without.
func printShard(out *bufio.Writer, name string, h shard.Header, labels []string, recs []shard.Record, dump bool) {
	if !dump {
		fmt.Fprintf(out, "  %s: %s, %s entries, %s .. %s", name, h.Kind, group(int64(h.Count)), e164.Format(h.First), e164.Format(h.Last))
		if h.Kind == shard.KindIdentify {
			fmt.Fprintf(out, ", %d labels", h.LabelCount)
		}
		fmt.Fprintf(out, ", %s bytes, crc32c %08x, verified\n", group(int64(h.FileSize())), h.BodyCRC)
		return
	}
	if h.Kind == shard.KindIdentify {
		cw := csv.NewWriter(out)
		for _, rec := range recs {
			cw.Write([]string{e164.Format(rec.Number), labels[rec.Label]})
		}
		cw.Flush()
		return
	}
	var buf []byte
	for _, rec := range recs {
		buf = append(buf[:0], '+')
		buf = strconv.AppendInt(buf, rec.Number, 10)
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
