package compiler

import (
	"cmp"
	"context"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"

	"github.com/calldir/calldir/compiler/sortx"
)

// TestWalkSameAsModel compares newRunEntries (the chunked walk of the
// sorted buckets with ranges and an allowlist of numbers and ranges) with
// a model: every (number, source) pair in order, a list's before a
// range's, each given to a merger one at a time, allowlisted or not.
func TestWalkSameAsModel(t *testing.T) {
	for seed := uint64(1); seed <= sweep[uint64](100, 1000); seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			r := rand.New(rand.NewPCG(seed, 99))
			sources := 1 + r.IntN(3)
			// Numbers from a narrow window, so that sources, ranges and
			// the allowlist meet; some far away, in other buckets.
			base := int64(12125550000)
			num := func() int64 {
				if r.IntN(10) == 0 {
					return int64(4420_7946_0000) + r.Int64N(500)
				}
				return base + r.Int64N(int64(50+r.IntN(5000)))
			}
			var keys []int64
			for range r.IntN(20_000) {
				keys = append(keys, sourceKey(num(), r.IntN(sources)))
			}
			var rs []Range
			for range r.IntN(4) {
				lo := num()
				rs = append(rs, Range{Lo: lo, Hi: lo + r.Int64N(300)})
			}
			ranges := coalesce(rs)
			var allowNums []int64
			for range r.IntN(200) {
				allowNums = append(allowNums, num())
			}
			var allowRanges []Range
			for range r.IntN(4) {
				lo := num()
				allowRanges = append(allowRanges, Range{Lo: lo, Hi: lo + r.Int64N(400)})
			}
			listed := func(n int64) bool {
				for _, a := range allowRanges {
					if a.Lo <= n && n <= a.Hi {
						return true
					}
				}
				return slices.Contains(allowNums, n)
			}
			allow := newAllowSet(slices.Clone(allowNums), allowRanges)

			dir := t.TempDir()
			b := sortx.NewBuckets(dir, 1<<20)
			if err := b.Part(0).AddSlice(keys); err != nil {
				t.Fatal(err)
			}
			stats := make([]sourceStats, sources+1)
			e, distinct, allowed, err := newRunEntries(context.Background(), mergeInput{buckets: b, ranges: ranges, allow: allow, stats: stats, dir: dir, packMemory: 1 << 20})
			if err != nil {
				t.Fatal(err)
			}
			defer e.close()
			var got []int64
			if err := e.Each(func(_ int, n int64) error { got = append(got, n); return nil }); err != nil {
				t.Fatal(err)
			}

			// The model.
			type pair struct {
				n   int64
				src int
			}
			var pairs []pair
			sorted := slices.Clone(keys)
			slices.Sort(sorted)
			for _, k := range slices.Compact(sorted) {
				pairs = append(pairs, pair{k >> srcBits, int(k & (MaxSources - 1))})
			}
			for _, iv := range ranges {
				for n := iv[0]; n <= iv[1]; n++ {
					pairs = append(pairs, pair{n, rangeSrc})
				}
			}
			slices.SortStableFunc(pairs, func(a, b pair) int {
				if c := cmp.Compare(a.n, b.n); c != 0 {
					return c
				}
				return a.src - b.src // rangeSrc is the largest
			})
			wantStats := make([]sourceStats, sources+1)
			packed := sortx.NewPacked(dir, 1<<20)
			m := &merger{ctx: context.Background(), stats: wantStats, packed: packed}
			for i, p := range pairs {
				dup := i > 0 && pairs[i-1].n == p.n
				if err := m.add(p.n, p.src, dup, listed(p.n)); err != nil {
					t.Fatal(err)
				}
			}
			if err := packed.Finish(); err != nil {
				t.Fatal(err)
			}
			defer packed.Close()
			var want []int64
			if err := packed.Reader().Span(0, packed.Len(), make([]int64, 512), func(ns []int64) error { want = append(want, ns...); return nil }); err != nil {
				t.Fatal(err)
			}
			if distinct != m.distinct || allowed != m.allowed {
				t.Errorf("distinct %d, allowed %d; model %d, %d", distinct, allowed, m.distinct, m.allowed)
			}
			if !slices.Equal(got, want) {
				t.Errorf("%d entries, model %d", len(got), len(want))
			}
			if !reflect.DeepEqual(stats, wantStats) {
				t.Errorf("stats differ:\n walk:  %+v\n model: %+v", stats, wantStats)
			}
		})
	}
}
