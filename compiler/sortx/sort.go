package sortx

import (
	"math/bits"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
)

// A large slice is sorted in two stages:
//
//	v ──MSD partition by the top bits of the key range──▶ buckets (≤ leafMax numbers)
//	  ──LSD radix sort of each bucket, in L2──▶ dedupe in place ──▶ close the gaps
//
// A plain LSD sort of 50M numbers makes four or five passes that each read
// and write 400 MB scattered over 2048 places of DRAM; after one MSD pass
// every bucket and its scratch fit in L2 (or at worst L3), so the LSD passes
// run from cache: 1.4 times faster than LSD alone at 50M (BenchmarkLSDOnly).
// The buckets are independent, which is also what the parallel variant
// distributes. A bucket bigger than leafMax (clustered input: one country's
// numbers) is partitioned again, on its own key range.

const (
	// leafTarget is the bucket size, in numbers, a partition aims at:
	// 64 Ki numbers are 512 KiB, as much again of scratch, about the size
	// of L2 (1 MiB a core here). Of 16, 32, 64, 128 and 256 Ki, 64 Ki
	// measured fastest at 50M: smaller buckets need more partitioning.
	leafTarget = 64 << 10
	// leafMax is the largest bucket sorted without partitioning again.
	leafMax = 2 * leafTarget
	// partitionBits is the widest MSD digit: a partition of a large
	// slice writes to 2^10 places in DRAM at once, which measured a few
	// per cent faster here than 2^11.
	partitionBits = 10
	// parallelMin is the smallest share of a parallel pass, in numbers;
	// below it a goroutine costs more than it saves.
	parallelMin = 1 << 16
)

// Sorter sorts and deduplicates int64 slices, keeping its scratch memory
// (as long as the largest slice sorted) for the next call. The zero value
// is ready to use. A Sorter is not safe for concurrent use.
type Sorter struct {
	scratch []int64
	hists   []*histograms     // one per worker
	counts  [][maxRadix]int   // one per chunk of a parallel partition
	starts  [maxRadix + 1]int // bucket starts of the current partition
}

// SortDedupe sorts v ascending in place and removes duplicates; it returns
// the distinct values, a prefix of v. The rest of v is left in an
// unspecified order. It allocates a scratch slice as long as v.
func SortDedupe(v []int64) []int64 {
	var s Sorter
	return s.SortDedupe(v)
}

// SortDedupeParallel is SortDedupe on up to workers goroutines (0 or less:
// GOMAXPROCS). The result is the same as SortDedupe's.
func SortDedupeParallel(v []int64, workers int) []int64 {
	var s Sorter
	return s.SortDedupeParallel(v, workers)
}

// SortDedupe is the package-level SortDedupe with s's scratch.
func (s *Sorter) SortDedupe(v []int64) []int64 {
	return s.sortDedupe(v, 1)
}

// SortDedupeParallel is the package-level SortDedupeParallel with s's
// scratch.
func (s *Sorter) SortDedupeParallel(v []int64, workers int) []int64 {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	return s.sortDedupe(v, workers)
}

// Release drops the scratch memory, so that a long-lived Sorter does not
// hold on to it between rare large sorts.
func (s *Sorter) Release() {
	*s = Sorter{}
}

// bucket is a range of v and scratch whose keys share all but their low
// nbits bits.
type bucket struct {
	lo, hi int
	inV    bool   // the numbers are in v[lo:hi], else in scratch[lo:hi]
	bias   uint64 // the keys are uint64(x)-bias
	nbits  uint   // keys share all but their low nbits bits
	exact  bool   // bias is the minimum and nbits the width of the range
	m      int    // once sorted: distinct numbers, at v[lo:lo+m]
}

func (s *Sorter) sortDedupe(v []int64, workers int) []int64 {
	n := len(v)
	if n < smallSort {
		return sortSmall(v)
	}
	if cap(s.scratch) < n {
		s.scratch = nil // let the old one go before allocating
		s.scratch = make([]int64, n)
	}
	scratch := s.scratch[:n]
	workers = max(1, min(workers, n/parallelMin))
	for len(s.hists) < workers {
		s.hists = append(s.hists, new(histograms))
	}
	if len(s.counts) < workers {
		s.counts = make([][maxRadix]int, workers)
	}

	lo, nbits := keyRangeParallel(v, workers)
	if nbits == 0 {
		return v[:1]
	}
	bias := uint64(lo)
	if n <= leafMax {
		return v[:dedupe(v, lsd(v, scratch, bias, nbits, s.hists[0]))]
	}

	// Partition until every bucket is small; the buckets left are leaves.
	var leaves []bucket
	pending := []bucket{{lo: 0, hi: n, inV: true, bias: bias, nbits: nbits, exact: true}}
	for len(pending) > 0 {
		b := pending[len(pending)-1]
		pending = pending[:len(pending)-1]
		src, dst := v[b.lo:b.hi], scratch[b.lo:b.hi]
		if !b.inV {
			src, dst = dst, src
		}
		if !b.exact {
			// A big bucket is a cluster (one country's numbers, say)
			// that may fill a small part of its key range: partitioning
			// on its actual range splits it evenly, for one read pass.
			lo, nbits := keyRangeParallel(src, workers)
			b.bias, b.nbits, b.exact = uint64(lo), nbits, true
			if nbits == 0 {
				leaves = append(leaves, b)
				continue
			}
		}
		width := partitionWidth(b.hi-b.lo, b.nbits)
		shift := b.nbits - width
		moved := s.partition(src, dst, b.bias, shift, width, workers)
		for d := range 1 << width {
			c := bucket{lo: b.lo + s.starts[d], hi: b.lo + s.starts[d+1], inV: b.inV != moved, bias: b.bias, nbits: shift}
			switch {
			case c.hi == c.lo:
			case c.hi-c.lo <= leafMax || c.nbits == 0:
				leaves = append(leaves, c)
			default:
				pending = append(pending, c)
			}
		}
	}

	// Leaves were found depth-first; their order in v is key order.
	slices.SortFunc(leaves, func(a, b bucket) int { return a.lo - b.lo })
	if workers == 1 {
		// In order, each leaf's distinct values go straight to the end
		// of the output so far, which never passes the leaf's start.
		out := 0
		for i := range leaves {
			out += sortLeaf(v[out:], v, scratch, &leaves[i], s.hists[0])
		}
		return v[:out]
	}

	// In parallel, each leaf writes its distinct values at its own start
	// (leaves never share a value), then the gaps are closed in order.
	var next atomic.Int64
	parallel(workers, func(w int) {
		h := s.hists[w]
		for {
			i := int(next.Add(1) - 1)
			if i >= len(leaves) {
				return
			}
			l := &leaves[i]
			l.m = sortLeaf(v[l.lo:], v, scratch, l, h)
		}
	})
	out := 0
	for _, l := range leaves {
		out += copy(v[out:], v[l.lo:l.lo+l.m])
	}
	return v[:out]
}

// sortLeaf sorts one leaf and writes its distinct values at the start of
// out, which is v from at most b.lo on; it returns how many.
func sortLeaf(out, v, scratch []int64, b *bucket, h *histograms) int {
	seg, other := v[b.lo:b.hi], scratch[b.lo:b.hi]
	if !b.inV {
		seg, other = other, seg
	}
	res := seg
	switch {
	case b.nbits == 0: // all equal
	case len(seg) < smallSort:
		slices.Sort(seg)
	default:
		res = lsd(seg, other, b.bias, b.nbits, h)
	}
	return dedupe(out, res)
}

// partitionWidth is the number of key bits to partition a bucket of size
// numbers on, so that a uniform bucket splits into pieces of about
// leafTarget numbers.
func partitionWidth(size int, nbits uint) uint {
	w := uint(bits.Len(uint(size / leafTarget)))
	return max(1, min(w, partitionBits, nbits))
}

// partition moves src into dst grouped by the width-bit digit of the key at
// shift, filling s.starts with the start of each digit's group (and
// s.starts[radix] = len(src)). When every key has the same digit it moves
// nothing and returns false: the numbers stay in src.
func (s *Sorter) partition(src, dst []int64, bias uint64, shift, width uint, workers int) bool {
	n := len(src)
	radix := 1 << width
	mask := uint64(radix - 1)
	k := max(1, min(workers, n/parallelMin))
	chunk := func(c int) []int64 { return src[c*n/k : (c+1)*n/k] }

	parallel(k, func(c int) {
		cnt := &s.counts[c]
		clear(cnt[:radix])
		for _, x := range chunk(c) {
			cnt[(uint64(x)-bias)>>shift&mask&(maxRadix-1)]++
		}
	})
	// s.counts[c][d] becomes where chunk c writes its next number of
	// digit d: the chunks' shares of a group follow each other in chunk
	// order, which keeps equal digits in input order.
	sum := 0
	for d := range radix {
		s.starts[d] = sum
		for c := range k {
			t := s.counts[c][d]
			s.counts[c][d] = sum
			sum += t
		}
	}
	s.starts[radix] = n
	d0 := (uint64(src[0]) - bias) >> shift & mask
	if s.starts[d0+1]-s.starts[d0] == n {
		return false
	}
	dst = dst[:n]
	parallel(k, func(c int) {
		off := &s.counts[c]
		for _, x := range chunk(c) {
			d := (uint64(x) - bias) >> shift & mask & (maxRadix - 1)
			i := off[d]
			dst[i] = x
			off[d] = i + 1
		}
	})
	return true
}

// keyRangeParallel is keyRange on up to workers goroutines.
func keyRangeParallel(v []int64, workers int) (lo int64, nbits uint) {
	n := len(v)
	k := max(1, min(workers, n/parallelMin))
	if k == 1 {
		return keyRange(v)
	}
	los, his := make([]int64, k), make([]int64, k)
	parallel(k, func(c int) {
		part := v[c*n/k : (c+1)*n/k]
		l, h := part[0], part[0]
		for _, x := range part {
			l = min(l, x)
			h = max(h, x)
		}
		los[c], his[c] = l, h
	})
	lo, hi := slices.Min(los), slices.Max(his)
	return lo, uint(bits.Len64(uint64(hi) - uint64(lo)))
}

// parallel runs f(0), …, f(k-1) concurrently and waits for them; with
// k == 1 it calls f(0) on the caller's goroutine.
func parallel(k int, f func(i int)) {
	if k == 1 {
		f(0)
		return
	}
	var wg sync.WaitGroup
	for i := range k {
		wg.Go(func() { f(i) })
	}
	wg.Wait()
}
