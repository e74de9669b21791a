package compiler

import (
	"cmp"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/calldir/calldir/shard"
)

// TestIdentifyFirstLabelWins compiles identification lists full of
// repeated numbers with other labels, over several sources, against a
// model: each number keeps the label of its first line in input order
// (sources in order, lines in order), and every later line with another
// label is a conflict, reported in number order, then input order.
func TestIdentifyFirstLabelWins(t *testing.T) {
	for seed := uint64(1); seed <= 20; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			r := rand.New(rand.NewPCG(seed, 5))
			dir := t.TempDir()
			type occ struct {
				num   int64
				src   int
				line  int64
				label string
			}
			var occs []occ
			var srcs []Source
			for s := range 1 + r.IntN(3) {
				var b strings.Builder
				b.WriteString("phone,name\n")
				lines := 1 + r.IntN(3000)
				for l := range lines {
					n := int64(12125550000 + r.IntN(1+r.IntN(400)))
					label := fmt.Sprintf("L%d", r.IntN(4))
					fmt.Fprintf(&b, "+1 %d,%s\n", n-10_000_000_000, label)
					occs = append(occs, occ{n, s, int64(l + 2), label})
				}
				path := filepath.Join(dir, fmt.Sprintf("s%d.csv", s))
				if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
					t.Fatal(err)
				}
				srcs = append(srcs, Source{Path: path})
			}
			var conflicts []Conflict
			res, err := Compile(context.Background(), Options{Sources: srcs, Kind: shard.KindIdentify, Normalizer: blockNormalizer(t, "US"),
				MaxPerShard: shard.DefaultMaxPerShard, TempDir: dir, OnConflict: func(c Conflict) { conflicts = append(conflicts, c) }})
			if err != nil {
				t.Fatal(err)
			}
			defer res.Close()

			// The model: occs are in input order already.
			kept := map[int64]occ{}
			var wantConf []Conflict
			for _, o := range occs {
				k, ok := kept[o.num]
				if !ok {
					kept[o.num] = o
					continue
				}
				if o.label != k.label {
					wantConf = append(wantConf, Conflict{Number: o.num, Source: srcs[o.src].Path, Line: o.line, Label: o.label,
						KeptSource: srcs[k.src].Path, KeptLine: k.line, KeptLabel: k.label})
				}
			}
			slices.SortStableFunc(wantConf, func(a, b Conflict) int { return cmp.Compare(a.Number, b.Number) })
			nums := make([]int64, 0, len(kept))
			for n := range kept {
				nums = append(nums, n)
			}
			slices.Sort(nums)
			if !slices.Equal(res.Numbers, nums) {
				t.Fatalf("%d numbers, model %d", len(res.Numbers), len(nums))
			}
			for i, n := range nums {
				if got := res.Table[res.Labels[i]]; got != kept[n].label {
					t.Fatalf("number %d: label %q, want %q (line %d of source %d)", n, got, kept[n].label, kept[n].line, kept[n].src)
				}
			}
			if !reflect.DeepEqual(conflicts, wantConf) {
				t.Fatalf("%d conflicts, model %d", len(conflicts), len(wantConf))
			}
			if res.Totals.LabelConflicts != int64(len(wantConf)) {
				t.Errorf("LabelConflicts %d, want %d", res.Totals.LabelConflicts, len(wantConf))
			}
		})
	}
}

// TestSortIdents compares the radix sort of identification entries with a
// stable sort by number, over chunkings, ranges of every width (one pass
// to five, digits all numbers share) and sizes down to none.
func TestSortIdents(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 9))
	for i := range 400 {
		n := r.IntN(3000)
		if i < 5 {
			n = i
		}
		base := 1 + r.Int64N(1e14)
		span := int64(1) << r.IntN(51)
		var all []identEntry
		for k := range n {
			num := base + r.Int64N(span)
			if r.IntN(4) == 0 && k > 0 {
				num = all[r.IntN(k)].num // repeats, whose input order must stay
			}
			if i%7 == 0 {
				num = base + r.Int64N(span)>>20<<20 // low digits all zero
			}
			all = append(all, identEntry{num: num, label: uint32(k), src: uint32(r.IntN(3)), line: int64(k)})
		}
		var chunks [][]identEntry
		for rest := all; len(rest) > 0; {
			k := 1 + r.IntN(len(rest))
			chunks = append(chunks, slices.Clone(rest[:k]))
			rest = rest[k:]
		}
		want := slices.Clone(all)
		slices.SortStableFunc(want, func(a, b identEntry) int { return cmp.Compare(a.num, b.num) })
		got := sortIdents(chunks)
		if !slices.Equal(got, want) && !(len(got) == 0 && len(want) == 0) {
			t.Fatalf("case %d (%d entries, span %d): differs from the stable sort", i, n, span)
		}
	}
}
