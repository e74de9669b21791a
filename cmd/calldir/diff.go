package main

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/calldir/calldir/compiler"
	"github.com/calldir/calldir/shard"
	"github.com/urfave/cli/v2"
)

func diffCommand(e *env) *cli.Command {
	var out string
	var chunk int
	var quiet, allowEmpty bool
	var maxShrink string
	return &cli.Command{
		Name:      "diff",
		Usage:     "write the delta that turns one build into another, for incremental loads",
		ArgsUsage: "OLD_BUILD NEW_BUILD",
		Description: withExamples(`
Per extension, the numbers to remove and to add (identification: label
changes are a removal and an addition), as shard files in requests of at most
--chunk entries (removals first), with delta.json naming the base and target
builds by build_id. An extension that is new in NEW_BUILD, or was re-split by
compile --base, is shipped whole (mode complete); one that is gone is cleared.
A device applies a delta only on top of the exact build it names as base;
otherwise it does a complete load (see docs/EXTENSION.md).

A delta that clears whole extensions needs --allow-empty, and one whose
target holds more than --max-shrink fewer entries than its base is refused:
on a device either would drop numbers its user expects to keep blocked.

Prints a summary: added, removed, relabelled, per country calling code.

EXAMPLES:
   calldir diff build-2026-11-24 build-2026-11-25 --out delta-2026-11-25
   calldir compile --base build-old --delta delta-new -o build-new lists/*.txt`),
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "out", Aliases: []string{"o"}, Usage: "delta `DIR` (replaced atomically)", Destination: &out, Required: true},
			&cli.IntFlag{Name: "chunk", Value: compiler.DefaultChunk, Usage: "at most `N` entries per incremental request", Destination: &chunk},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "no summary", Destination: &quiet},
			&cli.BoolFlag{Name: "allow-empty", Usage: "allow a delta that clears whole extensions, or empties the build", Destination: &allowEmpty},
			&cli.StringFlag{Name: "max-shrink", Value: defaultMaxShrink, Usage: "refuse a delta whose target holds more than `P%` fewer entries than its base (100% allows any)", Destination: &maxShrink},
		},
		Action: func(c *cli.Context) error {
			if c.Args().Len() != 2 {
				return usagef("diff: want OLD_BUILD NEW_BUILD")
			}
			shrink, err := parseShrink(maxShrink)
			if err != nil {
				return err
			}
			if err := checkChunk(chunk); err != nil {
				return err
			}
			j := compiler.DiffJob{Out: out, Old: c.Args().Get(0), New: c.Args().Get(1),
				DeltaOptions: compiler.DeltaOptions{Chunk: chunk, ToolVersion: Version,
					Guard: &compiler.Guard{AllowEmpty: allowEmpty, MaxShrink: shrink}}}
			return runDiff(c.Context, j, quiet, e.stderr)
		},
	}
}

func runDiff(ctx context.Context, j compiler.DiffJob, quiet bool, w io.Writer) error {
	dm, err := compiler.RunDiff(ctx, j)
	if err != nil {
		return err
	}
	if !quiet {
		printDeltaSummary(w, j.Out, dm)
	}
	return nil
}

func printDeltaSummary(w io.Writer, dir string, dm *shard.DeltaManifest) {
	s := dm.Summary
	modes := map[string]int{}
	requests := 0
	for _, x := range dm.Extensions {
		modes[x.Mode]++
		requests += len(x.Requests)
	}
	var ms []string
	for _, m := range []string{shard.ModeIncremental, shard.ModeComplete, shard.ModeClear} {
		if modes[m] > 0 {
			ms = append(ms, fmt.Sprintf("%d %s", modes[m], m))
		}
	}
	if len(ms) == 0 {
		ms = append(ms, "no extension changed")
	}
	fmt.Fprintf(w, "calldir: delta %s: build %.12s… -> %.12s…: %s added, %s removed, %s relabelled; %s; %d request(s) of at most %s\n",
		dir, dm.Base, dm.Target, group(s.Added), group(s.Removed), group(s.Relabelled), strings.Join(ms, ", "), requests, group(int64(dm.Chunk)))
	ccs := make([]string, 0, len(s.ByCountry))
	for cc := range s.ByCountry {
		ccs = append(ccs, cc)
	}
	sort.Slice(ccs, func(i, j int) bool { return len(ccs[i]) < len(ccs[j]) || len(ccs[i]) == len(ccs[j]) && ccs[i] < ccs[j] })
	for _, cc := range ccs {
		c := s.ByCountry[cc]
		fmt.Fprintf(w, "  +%-4s %s added, %s removed, %s relabelled\n", cc, group(c.Added), group(c.Removed), group(c.Relabelled))
	}
}
