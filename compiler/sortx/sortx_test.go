package sortx

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// maxCallKit is one past the largest CallKit number: 15 decimal digits.
const maxCallKit = 1_000_000_000_000_000

// reference is the obviously correct answer: a comparison sort and Compact.
func reference(v []int64) []int64 {
	w := slices.Clone(v)
	slices.Sort(w)
	return slices.Compact(w)
}

// gen is a named input distribution.
type gen struct {
	name string
	f    func(r *rand.Rand, n int) []int64
}

// callKitLike draws n CallKit-like numbers with about dup of them repeats
// of earlier ones: a mix of country codes and national lengths, so the
// keys are clustered the way real lists are.
func callKitLike(r *rand.Rand, n int, dup float64) []int64 {
	type plan struct {
		cc     int64 // country code
		digits int   // national number length
	}
	plans := []plan{{1, 10}, {33, 9}, {44, 10}, {49, 11}, {7, 10}, {86, 11}, {971, 9}, {351, 9}}
	v := make([]int64, n)
	for i := range v {
		if i > 0 && r.Float64() < dup {
			v[i] = v[r.IntN(i)]
			continue
		}
		p := plans[r.IntN(len(plans))]
		nat := int64(math.Pow10(p.digits))
		v[i] = p.cc*nat + r.Int64N(nat)
	}
	return v
}

var gens = []gen{
	{"callkit-20pct-dup", func(r *rand.Rand, n int) []int64 { return callKitLike(r, n, 0.2) }},
	{"uniform-callkit", func(r *rand.Rand, n int) []int64 {
		v := make([]int64, n)
		for i := range v {
			v[i] = 1 + r.Int64N(maxCallKit-1)
		}
		return v
	}},
	{"uniform-int64", func(r *rand.Rand, n int) []int64 {
		v := make([]int64, n)
		for i := range v {
			v[i] = int64(r.Uint64())
		}
		return v
	}},
	{"many-dups", func(r *rand.Rand, n int) []int64 {
		v := make([]int64, n)
		for i := range v {
			v[i] = 33_600_000_000 + r.Int64N(50)
		}
		return v
	}},
	{"all-equal", func(r *rand.Rand, n int) []int64 {
		v := make([]int64, n)
		for i := range v {
			v[i] = 33_612_345_678
		}
		return v
	}},
	{"sorted", func(r *rand.Rand, n int) []int64 {
		v := callKitLike(r, n, 0.1)
		slices.Sort(v)
		return v
	}},
	{"reversed", func(r *rand.Rand, n int) []int64 {
		v := callKitLike(r, n, 0.1)
		slices.Sort(v)
		slices.Reverse(v)
		return v
	}},
	{"negative-and-extremes", func(r *rand.Rand, n int) []int64 {
		special := []int64{math.MinInt64, math.MinInt64 + 1, -1, 0, 1, math.MaxInt64 - 1, math.MaxInt64}
		v := make([]int64, n)
		for i := range v {
			if r.IntN(4) == 0 {
				v[i] = special[r.IntN(len(special))]
			} else {
				v[i] = int64(r.Uint64()) >> r.IntN(64)
			}
		}
		return v
	}},
	{"sign-bit-only", func(r *rand.Rand, n int) []int64 {
		// Keys that differ only in the sign bit and one low bit.
		v := make([]int64, n)
		for i := range v {
			v[i] = int64(r.Uint64()&(1<<63|1) | 0x1234_5678)
		}
		return v
	}},
	{"one-digit-varies", func(r *rand.Rand, n int) []int64 {
		// Only bits 22..32 vary: every radix pass but one is skipped.
		v := make([]int64, n)
		for i := range v {
			v[i] = 33_000_000_000 | r.Int64N(1<<11)<<22
		}
		return v
	}},
	{"clustered", func(r *rand.Rand, n int) []int64 {
		// 90% in one narrow block, the rest spread: buckets of very
		// unequal sizes, partitioned again.
		v := make([]int64, n)
		for i := range v {
			if r.IntN(10) != 0 {
				v[i] = 33_600_000_000 + r.Int64N(1<<24)
			} else {
				v[i] = 1 + r.Int64N(maxCallKit-1)
			}
		}
		return v
	}},
	{"mostly-one-value", func(r *rand.Rand, n int) []int64 {
		// One bucket far bigger than a leaf, whose keys are all equal.
		v := make([]int64, n)
		for i := range v {
			if r.IntN(10) != 0 {
				v[i] = 33_612_345_678
			} else {
				v[i] = 1 + r.Int64N(maxCallKit-1)
			}
		}
		return v
	}},
	{"powers-of-two", func(r *rand.Rand, n int) []int64 {
		v := make([]int64, n)
		for i := range v {
			v[i] = int64(1) << r.IntN(63) * int64(1-2*r.IntN(2))
		}
		return v
	}},
}

func TestSortDedupe(t *testing.T) {
	sizes := []int{0, 1, 2, 255, 256, 257, 10_000, leafMax, leafMax + 1, 300_000, 1_000_000}
	if !long {
		sizes = []int{0, 1, 2, 255, 256, 257, 10_000, leafMax + 1, 300_000}
	}
	var s Sorter // reused across every case: stale scratch must not leak into results
	for _, g := range gens {
		for _, n := range sizes {
			t.Run(fmt.Sprintf("%s/%d", g.name, n), func(t *testing.T) {
				r := rand.New(rand.NewPCG(uint64(n), 42))
				in := g.f(r, n)
				want := reference(in)

				got := SortDedupe(slices.Clone(in))
				assertEqual(t, "SortDedupe", got, want)

				got = s.SortDedupe(slices.Clone(in))
				assertEqual(t, "Sorter.SortDedupe", got, want)

				for _, w := range []int{0, 2, 3} {
					got = SortDedupeParallel(slices.Clone(in), w)
					assertEqual(t, fmt.Sprintf("SortDedupeParallel(%d)", w), got, want)
				}
			})
		}
	}
}

// TestSortDedupeInPlace checks that the result is a prefix of the input
// slice, not a copy.
func TestSortDedupeInPlace(t *testing.T) {
	tests := []struct {
		name string
		n    int
	}{
		{"small", 100},
		{"lsd", 10_000},
		{"msd", 200_000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := callKitLike(rand.New(rand.NewPCG(1, 2)), tt.n, 0.2)
			got := SortDedupe(v)
			if len(got) == 0 || &got[0] != &v[0] {
				t.Fatalf("result is not a prefix of the input")
			}
		})
	}
}

func TestDigitPlan(t *testing.T) {
	tests := []struct {
		nbits, passes, width uint
	}{
		{0, 0, 0},
		{1, 1, 1},
		{11, 1, 11},
		{12, 2, 6},
		{39, 4, 10},
		{50, 5, 10},
		{64, 6, 11},
	}
	for _, tt := range tests {
		p, w := digitPlan(tt.nbits)
		if p != tt.passes || w != tt.width {
			t.Errorf("digitPlan(%d) = %d, %d; want %d, %d", tt.nbits, p, w, tt.passes, tt.width)
		}
	}
}

func TestDedupe(t *testing.T) {
	tests := []struct {
		in, want []int64
	}{
		{nil, nil},
		{[]int64{5}, []int64{5}},
		{[]int64{5, 5, 5}, []int64{5}},
		{[]int64{1, 2, 2, 3, 3, 3, 4}, []int64{1, 2, 3, 4}},
		{[]int64{math.MinInt64, math.MinInt64, 0, math.MaxInt64, math.MaxInt64}, []int64{math.MinInt64, 0, math.MaxInt64}},
	}
	for _, tt := range tests {
		v := slices.Clone(tt.in)
		got := v[:dedupe(v, v)]
		assertEqual(t, fmt.Sprint(tt.in), got, tt.want)
	}
}

func assertEqual(t *testing.T, what string, got, want []int64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: got %d numbers, want %d", what, len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("%s: at %d got %d, want %d", what, i, got[i], want[i])
		}
	}
}
