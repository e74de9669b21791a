package compiler

import (
	"slices"
	"sort"
)

// An allowlist holds numbers and, in a text list, patterns and ranges
// ("+1 212 555 01##", "+12125550100..+12125550199"), read as a source's
// are (compilation.pattern). A pattern allows every number in it: it is
// kept as an interval, like a blocked range, and subtracted the same lazy
// way, never expanded into numbers:
//
//	blocked ranges − allowed   rangeEntries, patternStats (counts per interval)
//	listed numbers − allowed   runEntries.walk, subtract (a cursor, ascending)
//	blocked range ∩ allowed    skipped in one step by the walk (merger.addAllowed)

// allowSet is the allowlists once read: their numbers that no allowed
// range holds, and their ranges, coalesced. The two are disjoint, so that
// a count is a sum.
type allowSet struct {
	nums   []int64   // sorted, distinct
	ranges intervals // sorted, coalesced
}

// newAllowSet sorts nums (in place) and drops the repeats and the numbers
// that a range of rs holds.
func newAllowSet(nums []int64, rs []Range) allowSet {
	slices.Sort(nums)
	nums = slices.Compact(nums)
	a := allowSet{ranges: coalesce(rs)}
	if len(a.ranges) == 0 {
		a.nums = nums
		return a
	}
	out := nums[:0]
	k := 0
	for _, n := range nums {
		for k < len(a.ranges) && a.ranges[k][1] < n {
			k++
		}
		if k < len(a.ranges) && a.ranges[k][0] <= n {
			continue
		}
		out = append(out, n)
	}
	a.nums = out
	return a
}

// count is how many numbers of [lo, hi] are allowlisted.
func (a allowSet) count(lo, hi int64) int64 {
	i, _ := slices.BinarySearch(a.nums, lo)
	j, _ := slices.BinarySearch(a.nums, hi+1) // hi ≤ shard.MaxNumber: no overflow
	n := int64(j - i)
	k := sort.Search(len(a.ranges), func(k int) bool { return a.ranges[k][1] >= lo })
	for ; k < len(a.ranges) && a.ranges[k][0] <= hi; k++ {
		n += min(hi, a.ranges[k][1]) - max(lo, a.ranges[k][0]) + 1
	}
	return n
}

// allowCursor answers for numbers that never go down from one call to
// the next, moving through the set once.
type allowCursor struct {
	a    *allowSet
	i, k int // the first number, and the first range, not below the last asked
}

func (c *allowCursor) seek(n int64) {
	for c.i < len(c.a.nums) && c.a.nums[c.i] < n {
		c.i++
	}
	for c.k < len(c.a.ranges) && c.a.ranges[c.k][1] < n {
		c.k++
	}
}

// has reports whether n is allowlisted. It is on the walk's path for
// every number near an allowlisted one: the ranges are looked at only
// when there are some.
func (c *allowCursor) has(n int64) bool {
	nums := c.a.nums
	for c.i < len(nums) && nums[c.i] < n {
		c.i++
	}
	if c.i < len(nums) && nums[c.i] == n {
		return true
	}
	return len(c.a.ranges) > 0 && c.rangeEnd(n) >= 0
}

// rangeEnd is the last number of the allowed range that holds n, or -1
// when none does.
func (c *allowCursor) rangeEnd(n int64) int64 {
	rs := c.a.ranges
	for c.k < len(rs) && rs[c.k][1] < n {
		c.k++
	}
	if c.k < len(rs) && rs[c.k][0] <= n {
		return rs[c.k][1]
	}
	return -1
}

// none reports whether no number of [lo, hi] is allowlisted.
func (c *allowCursor) none(lo, hi int64) bool {
	c.seek(lo)
	return (c.i >= len(c.a.nums) || c.a.nums[c.i] > hi) && (c.k >= len(c.a.ranges) || c.a.ranges[c.k][0] > hi)
}
