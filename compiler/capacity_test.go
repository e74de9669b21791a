package compiler

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/calldir/calldir/compiler/sortx"
	"github.com/calldir/calldir/shard"
)

// TestRangeCapacity: ranges are refused when even their distinct numbers,
// less the allowlisted ones, cannot fit 9,999 shards of MaxPerShard; the
// union counts, not the sum, so overlapping patterns and allowlists that
// bring the entries within the bound pass.
func TestRangeCapacity(t *testing.T) {
	rng := func(s string) Range {
		r, err := ParsePattern(s)
		if err != nil {
			t.Fatal(err)
		}
		r.Source = "test"
		return r
	}
	many := func(s string, n int) []Range {
		var rs []Range
		for range n {
			rs = append(rs, rng(s))
		}
		return rs
	}
	dir := t.TempDir()
	allow := func(n int) string {
		var b strings.Builder
		for i := range n {
			fmt.Fprintf(&b, "+1202555%04d\n", i)
		}
		p := filepath.Join(dir, fmt.Sprintf("allow%d.txt", n))
		if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	// A pattern and a range: 9,000 numbers allowed.
	allowPatterns := filepath.Join(dir, "allow-patterns.txt")
	if err := os.WriteFile(allowPatterns, []byte("+1 202 555 1###\n+12025552000..+12025559999\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	list := filepath.Join(dir, "list.txt")
	if err := os.WriteFile(list, []byte("+14155550101\n+1 202 555 ####\n+1 202 555 ####\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		per     int
		ranges  []Range
		sources []string
		allow   []string
		refused bool
	}{
		// 9,999 shards of 1: 9,999 entries at most.
		{"one range of 10,000", 1, many("+1 202 555 ####", 1), nil, nil, true},
		{"one range of 1,000", 1, many("+1 202 555 0###", 1), nil, nil, false},
		{"20 copies: sum 20,000, union 1,000", 1, many("+1 202 555 0###", 20), nil, nil, false},
		{"disjoint ranges, 10,000 in all", 1, append(many("+1 202 555 0###", 1), many("+1 202 555 1000..+1 202 555 9999", 1)...), nil, nil, true},
		{"allowlist brings 10,000 to 9,999", 1, many("+1 202 555 ####", 1), nil, []string{allow(1)}, false},
		{"allowlist outside the range", 1, many("+1 202 556 ####", 1), nil, []string{allow(1)}, true},
		{"allowlist patterns bring 10,000 to 1,000", 1, many("+1 202 555 ####", 1), nil, []string{allowPatterns}, false},
		{"allowlist patterns bring 100,000 to 91,000", 1, many("+1 202 55# ####", 1), nil, []string{allowPatterns}, true},
		{"allowlist patterns outside the range", 1, many("+1 202 556 ####", 1), nil, []string{allowPatterns}, true},
		{"list patterns overlap", 1, nil, []string{list}, nil, true},
		{"list patterns overlap, fit", 2, nil, []string{list}, nil, false},
		{"list pattern and --pattern overlap", 2, many("+1 202 555 ####", 1), []string{list}, nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := Options{Kind: shard.KindBlock, Normalizer: blockNormalizer(t, "US"), MaxPerShard: tc.per, TempDir: t.TempDir(), Ranges: tc.ranges}
			for _, s := range tc.sources {
				opts.Sources = append(opts.Sources, Source{Path: s})
			}
			for _, a := range tc.allow {
				opts.Allow = append(opts.Allow, Source{Path: a})
			}
			res, err := Compile(context.Background(), opts)
			var ts *TooManyShardsError
			if got := errors.As(err, &ts); got != tc.refused {
				t.Fatalf("refused %v (%v), want %v", got, err, tc.refused)
			}
			if err == nil {
				res.Close()
			} else if !strings.Contains(err.Error(), "a build holds") {
				t.Errorf("error: %v", err)
			}
		})
	}
}

// TestRangeSpace: ranges that fit a build but not, packed, the spill
// directory are refused before they are expanded, naming the directory.
func TestRangeSpace(t *testing.T) {
	defer func(f func(string) int64) { sortx.FreeSpace = f }(sortx.FreeSpace)
	sortx.FreeSpace = func(string) int64 { return 1 << 20 }
	dir := t.TempDir()
	r, _ := ParsePattern("+1 202 #######") // 10M numbers, 10 MB packed
	opts := Options{Kind: shard.KindBlock, Normalizer: blockNormalizer(t, "US"), MaxPerShard: shard.DefaultMaxPerShard, TempDir: dir, Memory: 8 << 20, Ranges: []Range{r}}
	_, err := Compile(context.Background(), opts)
	var se *sortx.SpaceError
	if !errors.As(err, &se) || se.Dir != dir || se.Avail != 1<<20 || se.Need < 8<<20 {
		t.Fatalf("error %v, want a SpaceError of %s", err, dir)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("%d files in the spill directory", len(ents))
	}
}
