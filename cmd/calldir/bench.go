package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/calldir/calldir/compiler"
	"github.com/calldir/calldir/compiler/bench"
	"github.com/calldir/calldir/compiler/bench/gen"
	"github.com/calldir/calldir/shard/outfs"
	"github.com/calldir/calldir/validate/verifier"
	"github.com/urfave/cli/v2"
)

type benchOpts struct {
	lines  int
	seed   uint64
	dir    string
	format string
	replay int
	memory string
	input  string
	stages string
}

func benchCommand(e *env) *cli.Command {
	var o benchOpts
	return &cli.Command{
		Name:      "bench",
		Usage:     "measure each stage against its baseline on a generated input, in one run",
		ArgsUsage: " ",
		Description: withExamples(`
Generates an input of --lines lines (mixed US and international formats,
about 20% repeats, 1% bad lines) and measures, side by side in the same run
(the machine is shared and noisy: read the ratios, not the times):

   normalize US    calldir's normalization of US lines, one core,
                   vs phonenumbers' Parse + IsPossibleNumber + Format(E164)
   normalize intl  the same on "+cc" lines of many countries
   sort + dedupe   the radix sort of as many numbers as lines
                   vs slices.Sort + slices.Compact
   compile         the whole compile of the input file (every core, shards
                   written) vs merely reading and splitting its lines
   replay          one complete load on the SQLite model (statements,
                   model, checks) vs the same statements through the driver

The ratio is calldir's throughput over the baseline's (for compile, the
reading speed over the compile's: how many times the compile costs the read).

EXAMPLES:
   calldir bench
   calldir bench --lines 100000000 --replay 500000 --memory 256MB`),
		Flags: []cli.Flag{
			&cli.IntFlag{Name: "lines", Value: 1_000_000, Usage: "`N` lines of generated input", Destination: &o.lines},
			&cli.Uint64Flag{Name: "seed", Value: 1, Usage: "`SEED` of the generated input", Destination: &o.seed},
			&cli.StringFlag{Name: "dir", Usage: "work in `DIR` (default: a temporary directory, removed)", Destination: &o.dir},
			&cli.IntFlag{Name: "replay", Value: 200_000, Usage: "`N` entries for the replay stage (0 skips it)", Destination: &o.replay},
			&cli.StringFlag{Name: "memory", Value: sizeText(compiler.DefaultMemory), Usage: "compile's --memory `SIZE` (the compile command's default)", Destination: &o.memory},
			&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Value: "text", Usage: "output `FORMAT`: text or json", Destination: &o.format},
			&cli.StringFlag{Name: "input", Usage: "compile `FILE` (a text list) instead of a generated input; --lines still sizes the other stages", Destination: &o.input},
			&cli.StringFlag{Name: "stages", Value: "normalize,sort,compile,replay", Usage: "the `STAGES` to run, comma-separated", Destination: &o.stages},
		},
		Action: func(c *cli.Context) error {
			if c.Args().Len() > 0 {
				return usagef("bench takes no arguments")
			}
			if o.lines < 1000 || o.lines > 2_000_000_000 {
				return usagef("--lines %d: want 1,000 to 2,000,000,000", o.lines)
			}
			if o.format != "text" && o.format != "json" {
				return usagef("--format %q: want text or json", o.format)
			}
			if o.replay < 0 {
				return usagef("--replay %d: want a number of entries, or 0 to skip the replay stage", o.replay)
			}
			for _, st := range strings.Split(o.stages, ",") {
				if !slices.Contains(benchStages, st) {
					return usagef("--stages: unknown stage %q (want some of %s)", st, strings.Join(benchStages, ","))
				}
			}
			return runBench(c.Context, o, e)
		},
	}
}

func runBench(ctx context.Context, o benchOpts, e *env) error {
	dir := o.dir
	var p outfs.Plan
	p.WriteInto("dir", dir)
	if err := p.Check(); err != nil {
		return err
	}
	if dir == "" {
		d, remove, err := outfs.ScratchDir("calldir-bench-")
		if err != nil {
			return err
		}
		defer remove()
		dir = d
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	mem, err := parseSize(o.memory)
	if err != nil {
		return usagef("--memory %q: want a size such as 256MB", o.memory)
	}
	say := func(format string, a ...any) {
		if o.format == "text" {
			fmt.Fprintf(e.stderr, format+"\n", a...)
		}
	}
	run := func(stage string) bool { return slices.Contains(strings.Split(o.stages, ","), stage) }
	var rows []bench.Row
	if run("normalize") {
		for _, mix := range []gen.Mix{gen.US, gen.Intl} {
			say("bench: normalize %s", mix)
			r, err := bench.Normalize(mix, min(o.lines, 300_000), o.seed)
			if err != nil {
				return err
			}
			rows = append(rows, r)
		}
	}
	if run("sort") {
		say("bench: sort + dedupe")
		rows = append(rows, bench.Sort(o.lines, o.seed))
	}
	if run("compile") {
		input := o.input
		if input == "" {
			input = filepath.Join(dir, "input.txt")
			say("bench: generating %s lines in %s", group(int64(o.lines)), input)
			if err := bench.Generate(input, o.lines, o.seed, gen.Mixed); err != nil {
				return err
			}
		}
		say("bench: compile %s", input)
		r, err := bench.Compile(ctx, bench.CompileOptions{Input: input, Dir: dir, Memory: mem, Version: Version})
		if err != nil {
			return err
		}
		rows = append(rows, r)
	}
	if run("replay") && o.replay > 0 {
		say("bench: replay")
		r, err := benchReplay(ctx, dir, o.replay)
		if err != nil {
			return err
		}
		rows = append(rows, r)
	}
	peak := peakRSS()
	if o.format == "json" {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			Lines    int         `json:"lines"`
			CPUs     int         `json:"cpus"`
			PeakRSS  int64       `json:"peak_rss_bytes"`
			Stages   []bench.Row `json:"stages"`
			GoOSArch string      `json:"goos_goarch"`
		}{o.lines, runtime.NumCPU(), peak, rows, runtime.GOOS + "/" + runtime.GOARCH})
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "stage\tcalldir\tbaseline\tratio\tbaseline is\n")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s %s/s\t%s %s/s\t%.2fx\t%s\n", r.Stage, group(int64(r.Calldir)), r.Unit, group(int64(r.Baseline)), r.Unit, r.Ratio, r.BaselineIs)
	}
	tw.Flush()
	what := group(int64(o.lines)) + " lines"
	if o.input != "" {
		what = "compile input " + o.input
	}
	fmt.Fprintf(e.stdout, "bench: %s, %d CPUs, peak RSS of the whole run %s\n", what, runtime.NumCPU(), bytesText(peak))
	return nil
}

var benchStages = []string{"normalize", "sort", "compile", "replay"}

func benchReplay(ctx context.Context, dir string, n int) (bench.Row, error) {
	rep, raw, err := verifier.Benchmark(ctx, dir, n)
	if err != nil {
		return bench.Row{}, err
	}
	return bench.Row{Stage: "replay", Unit: "entries", Calldir: float64(n) / rep.Seconds(), Baseline: float64(n) / raw.Seconds(),
		BaselineIs: "the same statements through the driver", Ratio: raw.Seconds() / rep.Seconds()}, nil
}

// peakRSS reads the process's peak resident set (VmHWM) on Linux; 0
// elsewhere.
func peakRSS() int64 { return vmHWM("self") }

// vmHWM reads the peak resident memory of a process ("self" or a PID) from
// /proc, in bytes; 0 where there is no /proc.
func vmHWM(pid string) int64 {
	b, err := os.ReadFile("/proc/" + pid + "/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			var kb int64
			fmt.Sscanf(strings.TrimSpace(v), "%d", &kb)
			return kb << 10
		}
	}
	return 0
}
