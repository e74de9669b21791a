package compiler

import (
	"fmt"
	"math"
	"slices"

	"github.com/calldir/calldir/compiler/sortx"
	"github.com/calldir/calldir/shard"
)

// A build holds at most maxShards shards of MaxPerShard entries
// (output.go). Ranges are expanded only when the entries are packed, after
// every input is read, so without a check "+1 ##########" (ten billion
// numbers) would be packed and spilled, gigabytes of it, before the layout
// refused it. A range's size is known when it is parsed, and the distinct numbers of the ranges less the allowlisted ones
// are a lower bound of the entries: a build they cannot fit in is refused
// at once, with nothing read, packed or written:
//
//	--pattern, config patterns   before any input is read
//	patterns in lists            while reading, once they pass the bound
//	with allowlists              once the allowlists are read (they may
//	                             take numbers out of a range), before any
//	                             range is expanded
//
// The union of the ranges counts, not the sum of their sizes, so that
// overlapping patterns are not refused. The same bound, a byte a number
// (the packed entries past their memory), is checked against the free
// space of the spill directory.

// rangeGuard is the running check of the ranges while reading.
type rangeGuard struct {
	next int64 // compilation.rangeNs above which the union may not fit
	at   int   // ranges at the last union
}

// capacity is the most entries a build of c holds. Without MaxPerShard
// (validate --raw) it is the most any build holds.
func (c *compilation) capacity() (limit int64, per int) {
	per = c.opts.MaxPerShard
	if per <= 0 {
		per = shard.MaxEntriesPerRequest
	}
	return int64(per) * maxShards, per
}

// rangeEntries is the count of distinct numbers in rs that are not
// allowlisted.
func rangeEntries(rs []Range, allow allowSet) int64 {
	var n int64
	for _, iv := range coalesce(rs) {
		n += iv[1] - iv[0] + 1 - allow.count(iv[0], iv[1])
	}
	return n
}

// checkRanges refuses ranges whose distinct numbers, less those in allow,
// cannot fit in a build or, packed, in the spill directory. It returns
// their count.
func (c *compilation) checkRanges(rs []Range, allow allowSet) (int64, error) {
	if c.opts.Kind != shard.KindBlock || len(rs) == 0 {
		return 0, nil
	}
	n := rangeEntries(rs, allow)
	if limit, per := c.capacity(); n > limit {
		big := rs[0]
		for _, r := range rs {
			if r.Size() > big.Size() {
				big = r
			}
		}
		shards := (n + int64(per) - 1) / int64(per)
		return n, &TooManyShardsError{Entries: n, Shards: shards, MaxPerShard: per, Pattern: &big}
	}
	// The packed entries keep their share of the budget in memory; past
	// it, a number of a range is at least a byte of the spill file.
	if err := sortx.CheckSpace(c.opts.TempDir, n-sortx.Budget(c.opts.Memory).Packed()); err != nil {
		return n, fmt.Errorf("patterns: %d numbers to pack: %w", n, err)
	}
	return n, nil
}

// guardBeforeReading checks the ranges of the options before any input is
// read, and sets up the running check. With allowlists, both wait for
// them.
func (c *compilation) guardBeforeReading() error {
	if len(c.opts.Allow) > 0 {
		c.guard.next = math.MaxInt64
		return nil
	}
	n, err := c.checkRanges(c.opts.Ranges, allowSet{})
	if err != nil {
		return err
	}
	limit, _ := c.capacity()
	c.guard.next = limit - n // union ≤ n + the sizes added: fits below this
	return nil
}

// guardRanges is the running check of addRange. It takes the union again
// only when the sizes added since the last one could have passed the
// bound, and past 1,024 ranges at most once per doubling of them: the
// check before any range is expanded (Compile) is exact.
func (c *compilation) guardRanges() {
	g := &c.guard
	if c.err != nil || c.rangeNs <= g.next {
		return
	}
	if k := len(c.ranges); k > 1024 && k < 2*g.at {
		return
	}
	g.at = len(c.ranges)
	n, err := c.checkRanges(append(slices.Clip(c.ranges), c.opts.Ranges...), allowSet{})
	if err != nil {
		c.err = err
		c.cancel(err) // stops the block pipeline too; Compile returns c.err
		return
	}
	limit, _ := c.capacity()
	g.next = c.rangeNs + limit - n
}
