package main

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"

	"github.com/calldir/calldir/e164"
	"github.com/calldir/calldir/shard"
	"github.com/urfave/cli/v2"
)

func inspectCommand(e *env) *cli.Command {
	var dump bool
	return &cli.Command{
		Name:      "inspect",
		Usage:     "show a build's or a shard's header and counts, or dump its numbers as E.164",
		ArgsUsage: "BUILD_DIR|SHARD",
		Description: withExamples(`
Reads every shard in full, so the counts shown are verified (order, range,
checksum). With --dump, prints every entry as E.164 text, one per line, in
numeric order ("+14085555555"; identification entries add ",label" in CSV
quoting), so two builds can be compared with diff.

EXAMPLES:
   calldir inspect build
   calldir inspect build/block-0001.shard
   diff <(calldir inspect --dump old) <(calldir inspect --dump new)`),
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

func runInspect(path string, dump bool, e *env) error {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	out := bufio.NewWriterSize(e.stdout, 256<<10)
	defer out.Flush()
	if !fi.IsDir() {
		return inspectShard(path, path, dump, out)
	}
	f, err := os.Open(filepath.Join(path, shard.ManifestName))
	if err != nil {
		return fmt.Errorf("%s: not a build directory: %w", path, err)
	}
	m, err := shard.ReadManifest(f)
	f.Close()
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
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
	}
	for _, s := range m.Shards {
		if !filepath.IsLocal(s.File) {
			return fmt.Errorf("%s: manifest names shard %q outside the build directory", path, s.File)
		}
		if err := inspectShard(filepath.Join(path, s.File), s.File, dump, out); err != nil {
			return err
		}
	}
	return nil
}

func inspectShard(path, name string, dump bool, out *bufio.Writer) error {
	f, err := shard.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	h := f.Header()
	var cw *csv.Writer
	if dump && h.Kind == shard.KindIdentify {
		cw = csv.NewWriter(out)
		defer cw.Flush()
	}
	var buf []byte
	for {
		rec, err := f.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		if !dump {
			continue
		}
		if cw != nil {
			cw.Write([]string{e164.Format(rec.Number), f.Labels()[rec.Label]})
			continue
		}
		buf = append(buf[:0], '+')
		buf = strconv.AppendInt(buf, rec.Number, 10)
		buf = append(buf, '\n')
		out.Write(buf)
	}
	if !dump {
		fmt.Fprintf(out, "  %s: %s, %s entries, %s .. %s", name, h.Kind, group(int64(h.Count)), e164.Format(h.First), e164.Format(h.Last))
		if h.Kind == shard.KindIdentify {
			fmt.Fprintf(out, ", %d labels", h.LabelCount)
		}
		fmt.Fprintf(out, ", %s bytes, crc32c %08x, verified\n", group(int64(h.FileSize())), h.BodyCRC)
	}
	return nil
}
