package compiler

import (
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
// removed: in memory, or streamed from sorted runs on disk when the
// compile is bounded by Options.Memory. Each may be called more than once.
type Entries interface {
	Len() int
	Each(fn func(i int, n int64) error) error
}

// NumberSlice is Entries held in a sorted slice.
type NumberSlice []int64

func (s NumberSlice) Len() int { return len(s) }

func (s NumberSlice) Each(fn func(int, int64) error) error {
	for i, n := range s {
		if err := fn(i, n); err != nil {
			return err
		}
	}
	return nil
}

// Keys in the runs carry the source of each number in their low bits, so
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

// runEntries streams the union of the sorted runs and the ranges
// (patterns), each distinct number once, minus the allowlist.
type runEntries struct {
	runs   *sortx.Runs
	ranges intervals
	allow  []int64 // sorted
	n      int
}

// newRunEntries merges everything once: it counts the entries and fills
// the per-source statistics (stats has one entry per source, then one for
// the patterns).
func newRunEntries(runs *sortx.Runs, ranges intervals, allow []int64, stats []sourceStats) (*runEntries, int64, int64, error) {
	e := &runEntries{runs: runs, ranges: ranges, allow: allow}
	var distinct, allowed int64
	err := e.walk(func(n int64, src int, dup bool, listed bool) error {
		if src == rangeSrc {
			src = len(stats) - 1 // the last entry is the patterns'
		}
		if src < len(stats) {
			s := &stats[src]
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
				s.byCountry[countryOf(n)]++
			}
		}
		if dup {
			return nil
		}
		distinct++
		if listed {
			allowed++
		}
		return nil
	})
	e.n = int(distinct - allowed)
	return e, distinct, allowed, err
}

// walk calls fn for every (number, source) pair in order: dup is true for
// every source of a number after its first (its owner); listed when the
// number is allowlisted. Range numbers come with source rangeSrc.
func (e *runEntries) walk(fn func(n int64, src int, dup, listed bool) error) error {
	m, err := e.runs.Iterator()
	if err != nil {
		return err
	}
	key, rok := m.Next()
	k := 0
	var cur int64 // next number of the current range
	if len(e.ranges) > 0 {
		cur = e.ranges[0][0]
	}
	j := 0
	last, any := int64(0), false
	for {
		var n int64
		src := rangeSrc
		fromRun := false
		inRange := k < len(e.ranges)
		rn := key >> srcBits
		switch {
		case rok && (!inRange || rn <= cur):
			n, src, fromRun = rn, int(key&(MaxSources-1)), true
		case inRange:
			n = cur
		default:
			return m.Err()
		}
		if fromRun {
			key, rok = m.Next()
		} else if cur == e.ranges[k][1] {
			if k++; k < len(e.ranges) {
				cur = e.ranges[k][0]
			}
		} else {
			cur++
		}
		dup := any && n == last
		last, any = n, true
		for j < len(e.allow) && e.allow[j] < n {
			j++
		}
		if err := fn(n, src, dup, j < len(e.allow) && e.allow[j] == n); err != nil {
			return err
		}
	}
}

func (e *runEntries) Len() int { return e.n }

func (e *runEntries) Each(fn func(int, int64) error) error {
	i := 0
	return e.walk(func(n int64, _ int, dup, listed bool) error {
		if dup || listed {
			return nil
		}
		err := fn(i, n)
		i++
		return err
	})
}
