package sortx

import (
	"math/bits"
	"slices"
)

const (
	// smallSort is the length below which slices.Sort wins: every radix
	// pass pays a prefix sum over up to 2048 counters whatever the length.
	smallSort = 256

	// maxDigitBits is the widest radix digit: 2^11 counters of 8 bytes
	// (16 KiB) stay in L1 while a pass scatters. Measured here (10M
	// numbers, sorted by LSD alone), 8-, 11- and 16-bit digits came
	// within 15% of each other, fewer passes paying for bigger counters;
	// but the buckets LSD sorts hold about 64 Ki numbers, for which 65536
	// counters per pass are too many, and 12-bit digits measured 5%
	// slower at 50M than 11. A 50-bit CallKit key takes five 10-bit
	// passes.
	maxDigitBits = 11
	maxRadix     = 1 << maxDigitBits
	maxDigits    = (64 + maxDigitBits - 1) / maxDigitBits // 6 passes for any 64-bit key
)

// histograms holds the counters of every digit of one LSD sort, filled in
// a single read pass. 6 × 2048 × 8 bytes = 96 KiB, so it lives on the heap
// (in a Sorter or a worker), never on a goroutine stack.
type histograms [maxDigits][maxRadix]int

// digitPlan splits the low nbits bits of a key into the fewest passes of at
// most maxDigitBits bits, all of the same width: 50 bits is 5 × 10 bits
// rather than 4 × 11 + 6, which keeps every counter array small.
func digitPlan(nbits uint) (passes, width uint) {
	if nbits == 0 {
		return 0, 0
	}
	passes = (nbits + maxDigitBits - 1) / maxDigitBits
	width = (nbits + passes - 1) / passes
	return passes, width
}

// lsd sorts a ascending by the low nbits bits of uint64(x)-bias, with b
// (at least as long as a) as scratch, and returns the one of a and
// b[:len(a)] that holds the result. Bits of the key above nbits must be
// equal for every element (they are: the caller either passes the whole
// key range, or a bucket whose high bits are its bucket number).
//
// Subtracting bias, the minimum, as uint64 maps int64 order onto uint64
// order (the wrap-around is the sign-bit flip) and drops the leading bits
// that every key shares.
func lsd(a, b []int64, bias uint64, nbits uint, h *histograms) []int64 {
	n := len(a)
	b = b[:n]
	passes, width := digitPlan(nbits)
	if passes == 0 || n < 2 {
		return a
	}
	radix := 1 << width
	mask := uint64(radix - 1)
	for p := range passes {
		clear(h[p][:radix])
	}
	countDigits(a, bias, passes, width, h)

	src, dst := a, b
	for p := range passes {
		c := &h[p]
		shift := p * width
		// A digit that every key shares leaves the order as it is: skip
		// the pass (the counters are filled for every digit in one read,
		// so this costs one comparison).
		if c[(uint64(src[0])-bias)>>shift&mask] == n {
			continue
		}
		sum := 0
		for i := range c[:radix] {
			k := c[i]
			c[i] = sum
			sum += k
		}
		for _, x := range src {
			d := (uint64(x) - bias) >> shift & mask & (maxRadix - 1)
			i := c[d]
			dst[i] = x
			c[d] = i + 1
		}
		src, dst = dst, src
	}
	return src
}

// countDigits fills the counters of passes digits of width bits in one
// read of a. Each pass count has its own loop so that the loop body
// increments exactly the live counters.
func countDigits(a []int64, bias uint64, passes, width uint, h *histograms) {
	m := uint64(1)<<width - 1
	w := width
	h0, h1, h2, h3, h4, h5 := &h[0], &h[1], &h[2], &h[3], &h[4], &h[5]
	switch passes {
	case 1:
		for _, x := range a {
			k := uint64(x) - bias
			h0[k&m&(maxRadix-1)]++
		}
	case 2:
		for _, x := range a {
			k := uint64(x) - bias
			h0[k&m&(maxRadix-1)]++
			h1[k>>w&m&(maxRadix-1)]++
		}
	case 3:
		for _, x := range a {
			k := uint64(x) - bias
			h0[k&m&(maxRadix-1)]++
			h1[k>>w&m&(maxRadix-1)]++
			h2[k>>(2*w)&m&(maxRadix-1)]++
		}
	case 4:
		for _, x := range a {
			k := uint64(x) - bias
			h0[k&m&(maxRadix-1)]++
			h1[k>>w&m&(maxRadix-1)]++
			h2[k>>(2*w)&m&(maxRadix-1)]++
			h3[k>>(3*w)&m&(maxRadix-1)]++
		}
	case 5:
		for _, x := range a {
			k := uint64(x) - bias
			h0[k&m&(maxRadix-1)]++
			h1[k>>w&m&(maxRadix-1)]++
			h2[k>>(2*w)&m&(maxRadix-1)]++
			h3[k>>(3*w)&m&(maxRadix-1)]++
			h4[k>>(4*w)&m&(maxRadix-1)]++
		}
	default:
		for _, x := range a {
			k := uint64(x) - bias
			h0[k&m&(maxRadix-1)]++
			h1[k>>w&m&(maxRadix-1)]++
			h2[k>>(2*w)&m&(maxRadix-1)]++
			h3[k>>(3*w)&m&(maxRadix-1)]++
			h4[k>>(4*w)&m&(maxRadix-1)]++
			h5[k>>(5*w)&m&(maxRadix-1)]++
		}
	}
}

// dedupe copies the distinct values of the sorted src to dst and returns
// how many. dst may be src itself, or start before src in the same array
// (each write lands at or before the element being read), or be disjoint
// with len(dst) >= len(src).
func dedupe(dst, src []int64) int {
	if len(src) == 0 {
		return 0
	}
	dst = dst[:len(src)]
	last := src[0]
	dst[0] = last
	j := 1
	for _, x := range src[1:] {
		// Store unconditionally and advance conditionally: with 20%
		// duplicates a branch would mispredict often.
		dst[j] = x
		if x != last {
			j++
		}
		last = x
	}
	return j
}

// keyRange returns the smallest value of a and the number of significant
// bits of max-min as uint64: the bits a radix sort must look at.
func keyRange(a []int64) (lo int64, nbits uint) {
	lo, hi := a[0], a[0]
	for _, x := range a {
		lo = min(lo, x)
		hi = max(hi, x)
	}
	return lo, uint(bits.Len64(uint64(hi) - uint64(lo)))
}

// sortSmall sorts and deduplicates a short slice with a comparison sort.
func sortSmall(v []int64) []int64 {
	slices.Sort(v)
	return slices.Compact(v)
}
