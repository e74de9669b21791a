package compiler

import (
	"context"
	"math"
	"strconv"
	"sync"

	"github.com/calldir/calldir/compiler/sortx"
	"github.com/calldir/calldir/e164"
)

// ccTable maps the first three digits of a number to its country calling
// code (country codes are prefix-free, at most three digits).
var ccTable = sync.OnceValue(func() *[1000]int32 {
	var t [1000]int32
	for p := 100; p < 1000; p++ {
		t[p] = int32(e164.CountryCode(int64(p) * 1_000_000_000))
	}
	return &t
})

// countryOf returns the country calling code of a number, without
// allocating.
func countryOf(n int64) int {
	if n < 100 {
		return e164.CountryCode(n)
	}
	for n >= 1000 {
		n /= 10
	}
	return int(ccTable()[n])
}

func countryKey(cc int) string { return strconv.Itoa(cc) }

// Entries are a build's sorted, distinct blocking numbers, allowlist
// removed: a slice, or for a blocking compile packed delta varints, in a
// temporary file past a budget. Each may be called more than once.
type Entries interface {
	Len() int
	Each(fn func(i int, n int64) error) error
	// Span calls fn with the entries start..end (exclusive), in order, a
	// block of at most len(buf) at a time (in buf or not); calls for
	// different spans may run at the same time.
	Span(start, end int, buf []int64, fn func([]int64) error) error
}

// NumberSlice is Entries held in a sorted slice.
type NumberSlice []int64

func (s NumberSlice) Len() int { return len(s) }

func (s NumberSlice) Span(start, end int, buf []int64, fn func([]int64) error) error {
	for start < end {
		k := min(end-start, max(len(buf), 1))
		if err := fn(s[start : start+k]); err != nil {
			return err
		}
		start += k
	}
	return nil
}

func (s NumberSlice) Each(fn func(int, int64) error) error {
	for i, n := range s {
		if err := fn(i, n); err != nil {
			return err
		}
	}
	return nil
}

// Keys in the buckets carry the source of each number in their low bits, so
// that one sort groups each number's sources together: key = n<<srcBits |
// source. CallKit numbers have at most 15 digits (< 2^50), which leaves 13
// bits: up to 8,192 sources. Duplicates within a source are equal keys and
// vanish in the sort's dedupe; duplicates across sources are equal numbers
// with different sources.
const (
	srcBits    = 13
	MaxSources = 1 << srcBits
	rangeSrc   = MaxSources - 1 // patterns and ranges own what no list has
)

func sourceKey(n int64, src int) int64 { return n<<srcBits | int64(src) }

// sourceStats are the per-source counts that only the merge can tell.
type sourceStats struct {
	distinct    int64        // distinct numbers of the source
	across      int64        // of them, also in an earlier source
	allowlisted int64        // of the numbers the source owns, removed by the allowlist
	byCountry   *[1000]int64 // numbers the source brought to the build, per country calling code
}

// runEntries are a blocking build's entries: the union of the sorted buckets
// and the ranges (patterns), each distinct number once, minus the
// allowlist, merged once and packed (see sortx.Packed).
type runEntries struct {
	buckets *sortx.Buckets
	ranges  intervals
	allow   allowSet
	packed  *sortx.Packed
}

// mergeInput is what newRunEntries merges, and where.
type mergeInput struct {
	buckets    *sortx.Buckets
	ranges     intervals
	allow      allowSet
	stats      []sourceStats // one per source, then one for the patterns
	dir        string        // for the packed entries' file
	packMemory int64         // bytes of packed entries held in memory
	progress   func(Progress)
}

// newRunEntries merges everything once: it packs the entries, counts them
// and fills the per-source statistics (in.stats). The buckets are closed at
// the end, their files removed: the packed entries are all that is left,
// in memory up to in.packMemory bytes, in a file in in.dir past it. It
// returns the distinct numbers and, of them, the allowlisted ones.
func newRunEntries(ctx context.Context, in mergeInput) (*runEntries, int64, int64, error) {
	e := &runEntries{buckets: in.buckets, ranges: in.ranges, allow: in.allow, packed: sortx.NewPacked(in.dir, in.packMemory)}
	m := &merger{ctx: ctx, stats: in.stats, packed: e.packed, progress: in.progress, keys: int64(in.buckets.Len())}
	err := e.walk(m)
	if err == nil {
		err = e.packed.Finish()
	}
	if cerr := in.buckets.Close(); err == nil {
		err = cerr
	}
	return e, m.distinct, m.allowed, err
}

// merger takes the (number, source) pairs of a walk: it counts them, fills
// the per-source statistics and packs the entries.
type merger struct {
	ctx      context.Context
	stats    []sourceStats
	packed   *sortx.Packed
	progress func(Progress)
	keys     int64 // in the buckets, for progress

	steps             int
	distinct, allowed int64
	cc                ccCache
}

// add takes one pair: dup when the number came from an earlier source
// already, listed when the allowlist has it.
func (m *merger) add(n int64, src int, dup, listed bool) error {
	if m.steps++; m.steps&0xffff == 0 {
		if err := m.ctx.Err(); err != nil {
			return err
		}
		if m.progress != nil && m.steps&0xfffff == 0 {
			m.progress(Progress{Sorted: int64(m.steps), Keys: m.keys})
		}
	}
	if src == rangeSrc {
		src = len(m.stats) - 1 // the last entry is the patterns'
	}
	if src < len(m.stats) {
		s := &m.stats[src]
		s.distinct++
		if dup {
			s.across++
			return nil
		}
		if listed {
			s.allowlisted++
		} else {
			if s.byCountry == nil {
				s.byCountry = new([1000]int64)
			}
			s.byCountry[m.cc.of(n)]++
		}
	}
	if dup {
		return nil
	}
	m.distinct++
	if listed {
		m.allowed++
		return nil
	}
	return m.packed.Append(n)
}

// addAllowed takes k numbers of src in a row, each the first of its number
// and allowlisted: what k calls of add would do, at once. The walk skips a
// blocked range's numbers inside an allowed range so (an allowlist pattern
// over a large blocked one costs nothing per number).
func (m *merger) addAllowed(src int, k int64) error {
	if err := m.ctx.Err(); err != nil {
		return err
	}
	if src == rangeSrc {
		src = len(m.stats) - 1
	}
	if src < len(m.stats) {
		m.stats[src].distinct += k
		m.stats[src].allowlisted += k
	}
	m.distinct += k
	m.allowed += k
	return nil
}

// close removes the packed entries' file, if any.
func (e *runEntries) close() error { return e.packed.Close() }

// ccCache is countryOf for ascending numbers: the calling code is the
// same over [lo, hi), the numbers of one length and first three digits.
type ccCache struct {
	lo, hi int64
	cc     int
}

func (c *ccCache) of(n int64) int {
	if n >= c.lo && n < c.hi {
		return c.cc
	}
	if n < 1000 {
		return countryOf(n)
	}
	p := int64(1)
	for n/p >= 1000 {
		p *= 10
	}
	c.lo, c.hi = n/p*p, (n/p+1)*p
	c.cc = int(ccTable()[n/p]) // countryOf(n), without dividing again
	return c.cc
}

// walk gives m every (number, source) pair in order: dup is true for every
// source of a number after its first (its owner); listed when the number
// is allowlisted. Range numbers come with source rangeSrc. The sorted
// buckets come in chunks: a chunk that no range number precedes and no
// allowlisted number falls in goes to m without those tests. A run of
// range numbers inside an allowed range, up to the next listed number,
// goes to m at once (merger.addAllowed).
func (e *runEntries) walk(m *merger) error {
	it, err := e.buckets.Iterator()
	if err != nil {
		return err
	}
	k := 0
	var cur int64 // next number of the current range
	if len(e.ranges) > 0 {
		cur = e.ranges[0][0]
	}
	allow := allowCursor{a: &e.allow}
	last, any := int64(0), false
	// one gives m the number n (from src), after the allowlist test.
	one := func(n int64, src int) error {
		dup := any && n == last
		last, any = n, true
		return m.add(n, src, dup, allow.has(n))
	}
	// rangeNext gives m the next range number and moves past it or, when
	// an allowed range holds it, every range number up to the end of that
	// range or to limit (the number before the next listed one), whichever
	// comes first: no list has them, so each is the first of its number.
	rangeNext := func(limit int64) error {
		n, end := cur, cur
		if !(any && n == last) { // the same number as a list's is a duplicate: one at a time
			if a := allow.rangeEnd(n); a >= 0 {
				end = min(a, e.ranges[k][1], limit)
			}
		}
		if end == e.ranges[k][1] {
			if k++; k < len(e.ranges) {
				cur = e.ranges[k][0]
			}
		} else {
			cur = end + 1
		}
		if end == n {
			return one(n, rangeSrc)
		}
		last, any = end, true
		return m.addAllowed(rangeSrc, end-n+1)
	}
	for {
		chunk, ok := it.NextChunk()
		if !ok {
			break
		}
		for len(chunk) > 0 {
			first, lastN := chunk[0]>>srcBits, chunk[len(chunk)-1]>>srcBits
			// No range number comes first and no allowlisted number falls
			// in the chunk: it goes whole.
			if (k >= len(e.ranges) || cur > lastN) && allow.none(first, lastN) {
				for _, key := range chunk {
					n := key >> srcBits
					dup := any && n == last
					last, any = n, true
					if err := m.add(n, int(key&(MaxSources-1)), dup, false); err != nil {
						return err
					}
				}
				break
			}
			// A range number or an allowlisted one is near: one at a time.
			// A list's number comes before the same number of a range.
			key := chunk[0]
			if n := key >> srcBits; k < len(e.ranges) && cur < n {
				if err := rangeNext(n - 1); err != nil {
					return err
				}
				continue
			}
			chunk = chunk[1:]
			if err := one(key>>srcBits, int(key&(MaxSources-1))); err != nil {
				return err
			}
		}
	}
	if err := it.Err(); err != nil {
		return err
	}
	for k < len(e.ranges) {
		if err := rangeNext(math.MaxInt64); err != nil {
			return err
		}
	}
	return nil
}

func (e *runEntries) Len() int { return e.packed.Len() }

func (e *runEntries) Each(fn func(int, int64) error) error {
	i := 0
	buf := make([]int64, 4096)
	return e.packed.Reader().Span(0, e.packed.Len(), buf, func(ns []int64) error {
		for _, n := range ns {
			if err := fn(i, n); err != nil {
				return err
			}
			i++
		}
		return nil
	})
}

// Span decodes the entries start..end (exclusive) a block at a time into
// buf; calls for different spans may run at the same time.
func (e *runEntries) Span(start, end int, buf []int64, fn func([]int64) error) error {
	return e.packed.Reader().Span(start, end, buf, fn)
}
