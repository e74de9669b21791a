package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/calldir/calldir/e164/baseline"
	"github.com/calldir/calldir/fixtures/gen"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/calldir/calldir/compiler"
	"github.com/calldir/calldir/compiler/sortx"
	"github.com/calldir/calldir/e164"
	"github.com/calldir/calldir/shard"
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

// benchRow is one stage measured against its baseline in the same run.
type benchRow struct {
	Stage      string  `json:"stage"`
	Unit       string  `json:"unit"`
	Calldir    float64 `json:"calldir"`  // units per second
	Baseline   float64 `json:"baseline"` // units per second
	BaselineIs string  `json:"baseline_is"`
	// Ratio is calldir's throughput over the baseline's, except for the
	// compile, where it is the baseline's over calldir's: how many times
	// the compile costs the read (the help says so).
	Ratio float64 `json:"ratio"`
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
	if dir == "" {
		d, err := os.MkdirTemp("", "calldir-bench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
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
	var rows []benchRow
	if run("normalize") {
		for _, mix := range []gen.Mix{gen.US, gen.Intl} {
			say("bench: normalize %s", mix)
			r, err := benchNormalize(mix, min(o.lines, 300_000), o.seed)
			if err != nil {
				return err
			}
			rows = append(rows, r)
		}
	}
	if run("sort") {
		say("bench: sort + dedupe")
		rows = append(rows, benchSort(o.lines, o.seed))
	}
	if run("compile") {
		input := o.input
		if input == "" {
			input = filepath.Join(dir, "input.txt")
			say("bench: generating %s lines in %s", group(int64(o.lines)), input)
			if err := generate(input, o.lines, o.seed, gen.Mixed); err != nil {
				return err
			}
		}
		say("bench: compile %s", input)
		r, err := benchCompile(ctx, input, dir, mem)
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
			Lines    int        `json:"lines"`
			CPUs     int        `json:"cpus"`
			PeakRSS  int64      `json:"peak_rss_bytes"`
			Stages   []benchRow `json:"stages"`
			GoOSArch string     `json:"goos_goarch"`
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

func generate(path string, n int, seed uint64, mix gen.Mix) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := gen.Lines(f, n, seed, mix); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// timed runs fn at least once and for at least 300 ms, and returns the
// units per second.
func timed(units int, fn func()) float64 {
	start, runs := time.Now(), 0
	for runs == 0 || time.Since(start) < 300*time.Millisecond {
		fn()
		runs++
	}
	return float64(units) * float64(runs) / time.Since(start).Seconds()
}

func benchNormalize(mix gen.Mix, n int, seed uint64) (benchRow, error) {
	var buf bytes.Buffer
	if err := gen.Lines(&buf, n, seed, mix); err != nil {
		return benchRow{}, err
	}
	lines := bytes.Split(bytes.TrimSuffix(buf.Bytes(), []byte{'\n'}), []byte{'\n'})
	strs := make([]string, len(lines))
	for i, l := range lines {
		strs[i] = string(l)
	}
	norm, err := e164.New("US", e164.PolicyPossible)
	if err != nil {
		return benchRow{}, err
	}
	var sink int64
	fast := timed(len(lines), func() {
		for _, l := range lines {
			r, _ := norm.NormalizeBytes(l)
			sink += r.Number
		}
	})
	base := timed(len(strs), func() {
		for _, s := range strs {
			v, _ := baseline.Normalize(s, "US")
			sink += v
		}
	})
	_ = sink
	return benchRow{Stage: "normalize " + string(mix), Unit: "lines", Calldir: fast, Baseline: base,
		BaselineIs: "phonenumbers Parse+IsPossibleNumber+Format, 1 core", Ratio: fast / base}, nil
}

func benchSort(n int, seed uint64) benchRow {
	r := rand.New(rand.NewPCG(seed, 7))
	src := make([]int64, n)
	for i := range src {
		if i > 0 && r.IntN(5) == 0 {
			src[i] = src[r.IntN(i)]
		} else {
			src[i] = 10_000_000_000 + r.Int64N(90_000_000_000)
		}
	}
	work := make([]int64, n)
	var s sortx.Sorter
	fast := timed(n, func() {
		copy(work, src)
		s.SortDedupe(work)
	})
	base := timed(n, func() {
		copy(work, src)
		slices.Sort(work)
		_ = slices.Compact(work)
	})
	return benchRow{Stage: "sort + dedupe", Unit: "numbers", Calldir: fast, Baseline: base,
		BaselineIs: "slices.Sort + slices.Compact", Ratio: fast / base}
}

func benchCompile(ctx context.Context, input, dir string, mem int64) (benchRow, error) {
	fi, err := os.Stat(input)
	if err != nil {
		return benchRow{}, err
	}
	// The baseline first, so both start from the same page cache.
	var lines int
	readStart := time.Now()
	f, err := os.Open(input)
	if err != nil {
		return benchRow{}, err
	}
	br := bufio.NewReaderSize(f, 256<<10)
	for {
		_, err := br.ReadSlice('\n')
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
			f.Close()
			return benchRow{}, err
		}
		lines++
	}
	f.Close()
	read := time.Since(readStart)

	norm, err := e164.New("US", e164.PolicyPossible)
	if err != nil {
		return benchRow{}, err
	}
	// The memory limit that calldir compile sets, for the same collector
	// behaviour (and figures) as the command.
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(compiler.HeapLimit(mem)))
	start := time.Now()
	res, err := compiler.Compile(ctx, compiler.Options{Sources: []compiler.Source{{Path: input}}, Kind: shard.KindBlock,
		Normalizer: norm, MaxPerShard: shard.DefaultMaxPerShard, Memory: mem, TempDir: dir})
	if err != nil {
		return benchRow{}, err
	}
	defer res.Close()
	m := &shard.Manifest{Format: shard.ManifestFormat, FormatVersion: shard.ManifestVersion, ToolVersion: Version, Inputs: res.Inputs}
	if err := compiler.WriteBuild(ctx, filepath.Join(dir, "build"), res, m, compiler.Layout(res.Len(), shard.DefaultMaxPerShard)); err != nil {
		return benchRow{}, err
	}
	took := time.Since(start)
	mb := float64(fi.Size()) / 1e6
	return benchRow{Stage: "compile (1 file)", Unit: "MB", Calldir: mb / took.Seconds(), Baseline: mb / read.Seconds(),
		BaselineIs: fmt.Sprintf("reading and splitting its %s lines (ratio: compile time over read time)", group(int64(lines))), Ratio: took.Seconds() / read.Seconds()}, nil
}

func benchReplay(ctx context.Context, dir string, n int) (benchRow, error) {
	d1, d2 := filepath.Join(dir, "replay"), filepath.Join(dir, "raw")
	for _, d := range []string{d1, d2} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return benchRow{}, err
		}
	}
	start := time.Now()
	if err := verifier.RawSQLLoad(ctx, d2, n); err != nil {
		return benchRow{}, err
	}
	raw := time.Since(start)
	start = time.Now()
	if err := verifier.ReplayLoad(ctx, d1, n); err != nil {
		return benchRow{}, err
	}
	rep := time.Since(start)
	return benchRow{Stage: "replay", Unit: "entries", Calldir: float64(n) / rep.Seconds(), Baseline: float64(n) / raw.Seconds(),
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
