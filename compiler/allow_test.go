package compiler

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/calldir/calldir/e164"
	"github.com/calldir/calldir/shard"
)

func TestAllowSetCount(t *testing.T) {
	rs := func(ivs ...[2]int64) []Range {
		var out []Range
		for _, iv := range ivs {
			out = append(out, Range{Lo: iv[0], Hi: iv[1]})
		}
		return out
	}
	for _, tc := range []struct {
		name   string
		nums   []int64
		ranges []Range
		lo, hi int64
		want   int64
	}{
		{"empty", nil, nil, 1, 100, 0},
		{"numbers only", []int64{5, 1, 5, 9, 20}, nil, 1, 9, 3},
		{"bounds included", []int64{1, 9}, nil, 1, 9, 2},
		{"range inside", nil, rs([2]int64{10, 19}), 1, 100, 10},
		{"range across lo", nil, rs([2]int64{10, 19}), 15, 100, 5},
		{"range across hi", nil, rs([2]int64{10, 19}), 1, 12, 3},
		{"range holding the span", nil, rs([2]int64{10, 19}), 12, 13, 2},
		{"ranges overlapping, counted once", nil, rs([2]int64{10, 19}, [2]int64{15, 29}, [2]int64{30, 30}), 1, 100, 21},
		{"numbers inside ranges counted once", []int64{12, 15, 40}, rs([2]int64{10, 19}), 1, 100, 11},
		{"outside", []int64{5}, rs([2]int64{10, 19}), 20, 100, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := newAllowSet(slices.Clone(tc.nums), tc.ranges)
			if got := a.count(tc.lo, tc.hi); got != tc.want {
				t.Errorf("count(%d, %d) = %d, want %d", tc.lo, tc.hi, got, tc.want)
			}
			// The cursor agrees with count, one number at a time.
			c := allowCursor{a: &a}
			var n int64
			for x := tc.lo; x <= tc.hi; x++ {
				if c.has(x) {
					n++
				}
			}
			if n != tc.want {
				t.Errorf("cursor: %d allowlisted in [%d, %d], want %d", n, tc.lo, tc.hi, tc.want)
			}
		})
	}
}

// TestAllowlistPatterns: a pattern or range in an allowlist allows every
// number in it, listed or blocked by a pattern, in builds of both kinds;
// an allowlist's bad lines are rejects (role "allow") that count in the
// totals the reject threshold reads.
func TestAllowlistPatterns(t *testing.T) {
	numbers := func(first, last int64) string {
		var b strings.Builder
		for n := first; n <= last; n++ {
			fmt.Fprintf(&b, "+%d\n", n)
		}
		return b.String()
	}
	type want struct {
		entries     int64
		allowlisted int64   // Totals.Allowlisted
		owned       int64   // the first source's InputStats.Allowlisted
		lines       int64   // Totals.Lines: sources and allowlists
		rejected    int64   // Totals.Rejected
		duplicates  int64   // Totals.Duplicates: the sources' only
		patternsIn  int64   // the allowlist's InputStats.Patterns
		patternAllw []int64 // per blocked pattern, its allowlisted numbers
		absent      []int64 // numbers that must not be entries
		present     []int64 // numbers that must be
		rejects     []string
	}
	for _, tc := range []struct {
		name   string
		kind   shard.Kind
		source string
		allow  string
		want   want
	}{
		{
			name:   "pattern removes listed numbers",
			source: numbers(12125550100, 12125550199) + "+12125550200\n+12125550099\n+442079460958\n",
			allow:  "+1 212 555 01##\n",
			want: want{entries: 3, allowlisted: 100, owned: 100, lines: 104, patternsIn: 1,
				absent: []int64{12125550100, 12125550150, 12125550199}, present: []int64{12125550099, 12125550200, 442079460958}},
		},
		{
			name:   "range and X wildcards",
			source: numbers(12125550100, 12125550299),
			allow:  "+12125550100..+12125550149\n+1 212 555 02XX\n",
			want: want{entries: 50, allowlisted: 150, owned: 150, lines: 202, patternsIn: 2,
				absent: []int64{12125550149, 12125550200, 12125550299}, present: []int64{12125550150, 12125550199}},
		},
		{
			name:   "pattern inside a blocked pattern",
			source: "+1 212 555 0###\n",
			allow:  "+1 212 555 01##\n",
			want: want{entries: 900, allowlisted: 100, lines: 2, patternsIn: 1, patternAllw: []int64{100},
				absent: []int64{12125550100, 12125550199}, present: []int64{12125550000, 12125550099, 12125550200, 12125550999}},
		},
		{
			name:   "range across a blocked pattern's ends, with a listed number inside both",
			source: "+1 212 555 01##\n+12125550150\n+1 212 555 03##\n",
			allow:  "+12125550050..+12125550159\n+1 212 555 0399\n",
			want: want{entries: 139, allowlisted: 61, owned: 1, lines: 5, duplicates: 1, patternsIn: 1, patternAllw: []int64{60, 1},
				absent: []int64{12125550100, 12125550150, 12125550159, 12125550399}, present: []int64{12125550160, 12125550300, 12125550398}},
		},
		{
			name:   "pattern and numbers in one allowlist",
			source: "+1 212 555 0###\n",
			allow:  "+1 212 555 01##\n+12125550150\n+12125550500\n",
			want: want{entries: 899, allowlisted: 101, lines: 4, patternsIn: 1, patternAllw: []int64{101},
				absent: []int64{12125550150, 12125550500}, present: []int64{12125550501}},
		},
		{
			name:   "bad lines are rejected and counted",
			source: numbers(12125550100, 12125550109),
			allow:  "+1 212 555 01\nhello\n+999 ####\n12..5\n+1 212 555 010#\n",
			want: want{entries: 0, allowlisted: 10, owned: 10, lines: 15, rejected: 4, patternsIn: 1,
				rejects: []string{"allow.txt:1 allow too-short", "allow.txt:2 allow no-digits", "allow.txt:3 allow bad-pattern", "allow.txt:4 allow bad-pattern"}},
		},
		{
			name:   "identify: pattern removes labelled numbers",
			kind:   shard.KindIdentify,
			source: "phone,label\n+12125550100,A\n+12125550150,B\n+12125550200,C\n",
			allow:  "+1 212 555 01##\n",
			want: want{entries: 1, allowlisted: 2, lines: 4, patternsIn: 1,
				absent: []int64{12125550100, 12125550150}, present: []int64{12125550200}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			name := "list.txt"
			if tc.kind == shard.KindIdentify {
				name = "list.csv"
			}
			src := writeTestFile(t, dir, name, tc.source)
			allow := writeTestFile(t, dir, "allow.txt", tc.allow)
			kind := tc.kind
			if kind == 0 {
				kind = shard.KindBlock
			}
			var rejects []string
			opts := Options{Kind: kind, Normalizer: blockNormalizer(t, "US"), MaxPerShard: shard.DefaultMaxPerShard, TempDir: dir,
				Sources: []Source{{Path: src}}, Allow: []Source{{Path: allow}},
				OnReject: func(r Reject) {
					rejects = append(rejects, fmt.Sprintf("%s:%d %s %s", filepath.Base(r.Source), r.Line, r.Role, r.Reason))
				}}
			res, err := Compile(context.Background(), opts)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Close()
			w := tc.want
			tt := res.Totals
			if tt.Entries != w.entries || tt.Allowlisted != w.allowlisted || tt.Lines != w.lines || tt.Rejected != w.rejected || tt.Duplicates != w.duplicates {
				t.Errorf("totals %+v, want entries %d, allowlisted %d, lines %d, rejected %d, duplicates %d",
					tt, w.entries, w.allowlisted, w.lines, w.rejected, w.duplicates)
			}
			if tt.Lines != tt.Accepted+tt.Rejected {
				t.Errorf("totals: %d lines, %d accepted + %d rejected", tt.Lines, tt.Accepted, tt.Rejected)
			}
			if in := res.Inputs[0]; kind == shard.KindBlock && in.Allowlisted != w.owned {
				t.Errorf("source: %d allowlisted, want %d", in.Allowlisted, w.owned)
			}
			if in := res.Inputs[1]; in.Role != "allow" || in.Patterns != w.patternsIn || in.Rejected != w.rejected {
				t.Errorf("allowlist: %+v, want %d patterns, %d rejected", in, w.patternsIn, w.rejected)
			}
			var pa []int64
			for _, p := range res.Patterns {
				pa = append(pa, p.Allowlisted)
				if p.Entries != p.Size-p.Allowlisted {
					t.Errorf("pattern %+v: entries not size − allowlisted", p)
				}
			}
			if !slices.Equal(pa, w.patternAllw) {
				t.Errorf("patterns' allowlisted %v, want %v", pa, w.patternAllw)
			}
			var got []int64
			res.Entries().Each(func(_ int, n int64) error { got = append(got, n); return nil })
			if int64(len(got)) != w.entries {
				t.Errorf("%d entries, want %d", len(got), w.entries)
			}
			for _, n := range w.absent {
				if _, ok := slices.BinarySearch(got, n); ok {
					t.Errorf("%s is an entry: the allowlist has it", e164.Format(n))
				}
			}
			for _, n := range w.present {
				if _, ok := slices.BinarySearch(got, n); !ok {
					t.Errorf("%s is not an entry", e164.Format(n))
				}
			}
			if !slices.Equal(rejects, w.rejects) {
				t.Errorf("rejects %q, want %q", rejects, w.rejects)
			}
		})
	}
}
