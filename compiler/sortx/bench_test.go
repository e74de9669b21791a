package sortx

import (
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"
)

// The comparison in docs/PERFORMANCE.md ("Sort + dedupe") runs side by side with
//
//	go test -run '^$' -bench '50M$' -benchtime 3x ./compiler/sortx
//
// and the quick one with -bench '1M$'.

// benchInputs caches the generated inputs: 50M CallKit-like numbers take
// seconds to draw, and every benchmark must sort the same numbers.
var benchInputs sync.Map // int → []int64

func benchInput(n int) []int64 {
	if v, ok := benchInputs.Load(n); ok {
		return v.([]int64)
	}
	v := callKitLike(rand.New(rand.NewPCG(uint64(n), 7)), n, 0.2)
	benchInputs.Store(n, v)
	return v
}

// benchSort times sortFn over a fresh copy of the input each iteration;
// the copy is outside the timer.
func benchSort(b *testing.B, n int, sortFn func([]int64) []int64) {
	in := benchInput(n)
	work := make([]int64, n)
	runtime.GC()
	b.ReportAllocs()
	b.SetBytes(int64(n) * 8)
	b.ResetTimer()
	var cpu time.Duration
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		copy(work, in)
		b.StartTimer()
		c0 := cpuTime()
		if out := sortFn(work); len(out) == 0 {
			b.Fatal("empty result")
		}
		cpu += cpuTime() - c0
	}
	// CPU time of the whole process (all workers, and the GC): for the
	// sequential sorts it is the wall time the benchmark would take on an
	// idle machine.
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
}

func slicesSortCompact(v []int64) []int64 {
	slices.Sort(v)
	return slices.Compact(v)
}

// lsdOnly is a plain LSD radix sort of the whole slice, without the MSD
// stage: kept to show what the MSD stage buys at sizes past the caches.
func lsdOnly(scratch []int64) func([]int64) []int64 {
	h := new(histograms)
	return func(v []int64) []int64 {
		lo, nbits := keyRange(v)
		return v[:dedupe(v, lsd(v, scratch[:len(v)], uint64(lo), nbits, h))]
	}
}

const (
	n50M = 50_000_000
	n1M  = 1_000_000
)

func BenchmarkSlicesSortCompact50M(b *testing.B) { benchSort(b, n50M, slicesSortCompact) }
func BenchmarkSortDedupe50M(b *testing.B)        { benchSort(b, n50M, SortDedupe) }
func BenchmarkSorterSortDedupe50M(b *testing.B) {
	var s Sorter
	benchSort(b, n50M, s.SortDedupe)
}
func BenchmarkSortDedupeParallel50M(b *testing.B) {
	var s Sorter
	benchSort(b, n50M, func(v []int64) []int64 { return s.SortDedupeParallel(v, 0) })
}
func BenchmarkLSDOnly50M(b *testing.B) { benchSort(b, n50M, lsdOnly(make([]int64, n50M))) }

func BenchmarkSlicesSortCompact1M(b *testing.B) { benchSort(b, n1M, slicesSortCompact) }
func BenchmarkSortDedupe1M(b *testing.B)        { benchSort(b, n1M, SortDedupe) }
func BenchmarkSorterSortDedupe1M(b *testing.B) {
	var s Sorter
	benchSort(b, n1M, s.SortDedupe)
}
func BenchmarkSortDedupeParallel1M(b *testing.B) {
	var s Sorter
	benchSort(b, n1M, func(v []int64) []int64 { return s.SortDedupeParallel(v, 0) })
}
func BenchmarkLSDOnly1M(b *testing.B) { benchSort(b, n1M, lsdOnly(make([]int64, n1M))) }

// BenchmarkRunsSpill pushes CallKit-like numbers through Runs with a budget
// far below their size, then reads the merge twice, as the shard split
// does (Count, then Next): bytes are the input's, 8 per number.
func BenchmarkRunsSpill(b *testing.B) {
	tests := []struct {
		n      int
		budget int64 // bytes
	}{
		{1_000_000, 2 << 20},
		{10_000_000, 16 << 20},
	}
	for _, tt := range tests {
		b.Run(fmt.Sprintf("%dM/budget=%dMiB", tt.n/1_000_000, tt.budget>>20), func(b *testing.B) {
			in := benchInput(tt.n)
			dir := b.TempDir()
			b.ReportAllocs()
			b.SetBytes(int64(tt.n) * 8)
			var spilled int
			var diskBytes int64
			for i := 0; i < b.N; i++ {
				r := NewRuns(dir, tt.budget)
				if err := r.AddSlice(in); err != nil {
					b.Fatal(err)
				}
				m, err := r.Iterator()
				if err != nil {
					b.Fatal(err)
				}
				if _, err := m.Count(); err != nil {
					b.Fatal(err)
				}
				for _, ok := m.Next(); ok; _, ok = m.Next() {
				}
				if err := m.Err(); err != nil {
					b.Fatal(err)
				}
				spilled, diskBytes = r.Spilled(), dirSize(b, dir)
				if err := r.Close(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(spilled), "runs")
			b.ReportMetric(float64(diskBytes)/float64(tt.n), "disk-B/number")
		})
	}
}

func dirSize(b *testing.B, dir string) int64 {
	entries, err := os.ReadDir(dir)
	if err != nil {
		b.Fatal(err)
	}
	var n int64
	for _, e := range entries {
		fi, err := e.Info()
		if err != nil {
			b.Fatal(err)
		}
		n += fi.Size()
	}
	return n
}

// BenchmarkMerge times one pass of the merge alone over the runs of 10M
// numbers (9 runs on disk, and the last in memory).
func BenchmarkMerge(b *testing.B) {
	const n = 10_000_000
	in := benchInput(n)
	r := NewRuns(b.TempDir(), 16<<20)
	defer r.Close()
	if err := r.AddSlice(in); err != nil {
		b.Fatal(err)
	}
	m, err := r.Iterator()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(n * 8)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := m.Reset(); err != nil {
			b.Fatal(err)
		}
		for _, ok := m.Next(); ok; _, ok = m.Next() {
		}
		if err := m.Err(); err != nil {
			b.Fatal(err)
		}
	}
}
