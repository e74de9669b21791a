package compiler

import (
	"fmt"
	"math"
	"math/bits"

	"github.com/calldir/calldir/shard"
)

// Identification builds: the accepted lines are collected with their
// labels (interned in the order they first appear), sorted by number in
// input order, and the first label of each number wins.
// sortIdents returns the entries of chunks (in input order) in one slice
// sorted by number, input order kept among equal numbers: an LSD radix sort
// over the bits in which the numbers differ, stable by construction. The
// first pass reads the chunks, so that they can go before the second
// pass's scratch is made. (slices.SortStableFunc, in place, is
// O(n log² n); docs/PERFORMANCE.md has the figures.)
func sortIdents(chunks [][]identEntry) []identEntry {
	n := 0
	lo, hi := int64(math.MaxInt64), int64(math.MinInt64)
	for _, ch := range chunks {
		n += len(ch)
		for _, e := range ch {
			lo, hi = min(lo, e.num), max(hi, e.num)
		}
	}
	if n == 0 {
		return nil
	}
	const maxWidth = 11
	nbits := uint(bits.Len64(uint64(hi - lo)))
	passes := max(1, (nbits+maxWidth-1)/maxWidth)
	width := (nbits + passes - 1) / passes
	mask := uint64(1)<<width - 1
	counts := make([][]int, passes)
	for p := range counts {
		counts[p] = make([]int, 1<<width)
	}
	for _, ch := range chunks {
		for _, e := range ch {
			k := uint64(e.num - lo)
			for p := range passes {
				counts[p][k>>(uint(p)*width)&mask]++
			}
		}
	}
	starts := func(c []int) {
		sum := 0
		for i, k := range c {
			c[i], sum = sum, sum+k
		}
	}
	dst := make([]identEntry, n)
	starts(counts[0])
	for i, ch := range chunks {
		for _, e := range ch {
			d := uint64(e.num-lo) & mask
			dst[counts[0][d]] = e
			counts[0][d]++
		}
		chunks[i] = nil
	}
	var scratch []identEntry
	for p := uint(1); p < passes; p++ {
		c := counts[p]
		if c[uint64(dst[0].num-lo)>>(p*width)&mask] == n {
			continue // every number has this digit
		}
		if scratch == nil {
			scratch = make([]identEntry, n)
		}
		starts(c)
		for _, e := range dst {
			d := uint64(e.num-lo) >> (p * width) & mask
			scratch[c[d]] = e
			c[d]++
		}
		dst, scratch = scratch, dst
	}
	return dst
}

// identChunk is how many identification entries a chunk of
// compilation.idents holds (1.5 MiB).
const identChunk = 64 << 10

// identEntry is an accepted identification line before dedupe.
type identEntry struct {
	num   int64
	label uint32
	src   uint32
	line  int64
}

// dedupeIdent sorts identification entries by number, keeping input order
// among equal numbers, and keeps the first label of each number.
func (c *compilation) dedupeIdent(res *Result) {
	idents := sortIdents(c.idents)
	c.idents = nil
	distinct := 0
	for i := range idents {
		if i == 0 || idents[i].num != idents[i-1].num {
			distinct++
		}
	}
	res.Numbers = make([]int64, 0, distinct)
	res.Labels = make([]uint32, 0, distinct)
	for i := 0; i < len(idents); {
		first := idents[i]
		j := i + 1
		for ; j < len(idents) && idents[j].num == first.num; j++ {
			e := idents[j]
			if e.label == first.label {
				continue
			}
			res.Totals.LabelConflicts++
			if c.opts.OnConflict != nil {
				c.opts.OnConflict(Conflict{
					Number: e.num, Source: c.opts.Sources[e.src].name(), Line: e.line, Label: c.table[e.label],
					KeptSource: c.opts.Sources[first.src].name(), KeptLine: first.line, KeptLabel: c.table[first.label],
				})
			}
		}
		res.Numbers = append(res.Numbers, first.num)
		res.Labels = append(res.Labels, first.label)
		i = j
	}
	res.Totals.Duplicates = sourcesAccepted(res, len(c.opts.Sources)) - int64(len(res.Numbers))
}

func (c *compilation) accept(n int64, label []byte, src uint32, line int64) {
	if c.opts.Kind == shard.KindBlock {
		if err := c.buckets.Add(sourceKey(n, int(src))); err != nil && c.err == nil {
			c.err = fmt.Errorf("sort: %w", err)
		}
		return
	}
	id, ok := c.labelID[string(label)] // no string made to look it up
	if !ok {
		l := string(label)
		id = uint32(len(c.table))
		c.labelID[l] = id
		c.table = append(c.table, l)
	}
	if k := len(c.idents); k == 0 || len(c.idents[k-1]) == identChunk {
		c.idents = append(c.idents, make([]identEntry, 0, identChunk))
	}
	last := &c.idents[len(c.idents)-1]
	*last = append(*last, identEntry{num: n, label: id, src: src, line: line})
}
