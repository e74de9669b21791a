// Package bench measures the compiler's stages against their baselines in
// one run, for `calldir bench`: the machines are shared and noisy, so each
// stage is timed beside a baseline doing the same work the plain way, and
// the ratio is what is read. It holds the benchmark-only code (the
// generated inputs, the phonenumbers baseline, the sorter) so that the
// command depends on one package and the compiler exports nothing for it.
package bench

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/calldir/calldir/compiler"
	"github.com/calldir/calldir/compiler/bench/gen"
	"github.com/calldir/calldir/compiler/sortx"
	"github.com/calldir/calldir/e164"
	"github.com/calldir/calldir/e164/baseline"
	"github.com/calldir/calldir/shard"
)

// Row is one stage measured against its baseline in the same run.
type Row struct {
	Stage      string  `json:"stage"`
	Unit       string  `json:"unit"`
	Calldir    float64 `json:"calldir"`  // units per second
	Baseline   float64 `json:"baseline"` // units per second
	BaselineIs string  `json:"baseline_is"`
	// Ratio is calldir's throughput over the baseline's, except for the
	// compile, where it is the baseline's over calldir's: how many times
	// the compile costs the read.
	Ratio float64 `json:"ratio"`
}

// Timed runs fn at least once and for at least 300 ms, and returns the
// units per second.
func Timed(units int, fn func()) float64 {
	start, runs := time.Now(), 0
	for runs == 0 || time.Since(start) < 300*time.Millisecond {
		fn()
		runs++
	}
	return float64(units) * float64(runs) / time.Since(start).Seconds()
}

// Generate writes n generated lines of the mix to path.
func Generate(path string, n int, seed uint64, mix gen.Mix) error {
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

// Normalize times calldir's normalization of n generated lines of the mix
// against phonenumbers' Parse, IsPossibleNumber and Format, one core each.
func Normalize(mix gen.Mix, n int, seed uint64) (Row, error) {
	var buf bytes.Buffer
	if err := gen.Lines(&buf, n, seed, mix); err != nil {
		return Row{}, err
	}
	lines := bytes.Split(bytes.TrimSuffix(buf.Bytes(), []byte{'\n'}), []byte{'\n'})
	strs := make([]string, len(lines))
	for i, l := range lines {
		strs[i] = string(l)
	}
	norm, err := e164.New("US", e164.PolicyPossible)
	if err != nil {
		return Row{}, err
	}
	var sink int64
	fast := Timed(len(lines), func() {
		for _, l := range lines {
			r, _ := norm.NormalizeBytes(l)
			sink += r.Number
		}
	})
	base := Timed(len(strs), func() {
		for _, s := range strs {
			v, _ := baseline.Normalize(s, "US")
			sink += v
		}
	})
	_ = sink
	return Row{Stage: "normalize " + string(mix), Unit: "lines", Calldir: fast, Baseline: base,
		BaselineIs: "phonenumbers Parse+IsPossibleNumber+Format, 1 core", Ratio: fast / base}, nil
}

// Sort times the compiler's radix sort and dedupe of n numbers (about 20%
// repeats) against slices.Sort and slices.Compact.
func Sort(n int, seed uint64) Row {
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
	fast := Timed(n, func() {
		copy(work, src)
		s.SortDedupe(work)
	})
	base := Timed(n, func() {
		copy(work, src)
		slices.Sort(work)
		_ = slices.Compact(work)
	})
	return Row{Stage: "sort + dedupe", Unit: "numbers", Calldir: fast, Baseline: base,
		BaselineIs: "slices.Sort + slices.Compact", Ratio: fast / base}
}

// CompileOptions is what Compile measures.
type CompileOptions struct {
	Input   string // a text list
	Dir     string // where the build and the spill files go
	Memory  int64  // the compile's memory budget, bytes
	Version string // recorded in the build's manifest
}

// Compile times a whole compile of the input (every core, the build
// written, as `calldir compile` runs it) against reading and splitting its
// lines; the baseline runs first, so both start from the same page cache.
func Compile(ctx context.Context, o CompileOptions) (Row, error) {
	fi, err := os.Stat(o.Input)
	if err != nil {
		return Row{}, err
	}
	readStart := time.Now()
	lines, err := countLines(o.Input)
	if err != nil {
		return Row{}, err
	}
	read := time.Since(readStart)
	norm, err := e164.New("US", e164.PolicyPossible)
	if err != nil {
		return Row{}, err
	}
	start := time.Now()
	_, err = compiler.Run(ctx, compiler.Job{
		Options: compiler.Options{Sources: []compiler.Source{{Path: o.Input}}, Kind: shard.KindBlock,
			Normalizer: norm, MaxPerShard: shard.DefaultMaxPerShard, Memory: o.Memory, TempDir: o.Dir},
		Out:      filepath.Join(o.Dir, "build"),
		Manifest: shard.Manifest{ToolVersion: o.Version},
	})
	if err != nil {
		return Row{}, err
	}
	took := time.Since(start)
	mb := float64(fi.Size()) / 1e6
	return Row{Stage: "compile (1 file)", Unit: "MB", Calldir: mb / took.Seconds(), Baseline: mb / read.Seconds(),
		BaselineIs: fmt.Sprintf("reading and splitting its %d lines (ratio: compile time over read time)", lines),
		Ratio:      took.Seconds() / read.Seconds()}, nil
}

// countLines reads path and splits it into lines, the compile's baseline.
func countLines(path string) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 256<<10)
	lines := 0
	for {
		_, err := br.ReadSlice('\n')
		if errors.Is(err, io.EOF) {
			return lines, nil
		}
		if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
			return 0, err
		}
		lines++
	}
}
