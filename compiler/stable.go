package compiler

import (
	"fmt"
	"sort"

	"github.com/calldir/calldir/shard"
)

// StableLayout places sorted numbers into the extensions of a base build,
// so that a small list change touches few shards: each non-empty base shard
// owns the numbers from its first number up to the next shard's first (the
// first shard everything below, the last everything above), and keeps its
// extension number. A range that now holds more than max entries is
// re-split into balanced parts; the first keeps the extension, the others
// get new extension numbers after the base's, and all are marked Resplit
// (devices load them completely). Empty base shards stay empty.
func StableLayout(ents Entries, base *shard.Manifest, kind shard.Kind, maxPer int) ([]Placement, error) {
	total := ents.Len()
	var owners []shard.ShardInfo
	var empty []int
	next := 1
	for _, s := range base.Shards {
		if s.Kind != kind.String() {
			return nil, &UsageError{fmt.Sprintf("the base build has %s shards; this compile makes %s shards", s.Kind, kind)}
		}
		next = max(next, s.Extension+1)
		if s.Count == 0 {
			empty = append(empty, s.Extension)
			continue
		}
		owners = append(owners, s)
	}
	if len(owners) == 0 && len(empty) == 0 {
		return Layout(total, maxPer), nil
	}
	sort.Slice(owners, func(i, j int) bool { return owners[i].First < owners[j].First })
	bounds := make([]int64, 0, len(owners))
	for _, o := range owners[min(1, len(owners)):] {
		bounds = append(bounds, o.First)
	}
	ranks, err := countBelow(ents, bounds)
	if err != nil {
		return nil, err
	}
	var out []Placement
	for i, o := range owners {
		start := 0
		if i > 0 {
			start = ranks[i-1]
		}
		end := total
		if i+1 < len(owners) {
			end = ranks[i]
		}
		parts := shard.Split(end-start, maxPer)
		if len(parts) <= 1 {
			out = append(out, Placement{Span: shard.Span{Start: start, End: end}, Extension: o.Extension})
			continue
		}
		for k, p := range parts {
			ext := o.Extension
			if k > 0 {
				ext = next
				next++
			}
			out = append(out, Placement{Span: shard.Span{Start: start + p.Start, End: start + p.End}, Extension: ext, Resplit: true})
		}
	}
	if len(owners) == 0 { // every base shard was empty: the first takes all
		ext := empty[0]
		empty = empty[1:]
		for k, p := range shard.Split(total, maxPer) {
			pl := Placement{Span: p, Extension: ext}
			if k > 0 {
				pl.Extension, pl.Resplit = next, true
				next++
			}
			out = append(out, pl)
		}
	}
	for _, ext := range empty {
		out = append(out, Placement{Span: shard.Span{Start: total, End: total}, Extension: ext})
	}
	return out, nil
}

// countBelow returns, for each of the ascending bounds, how many entries
// are below it, in one pass.
func countBelow(ents Entries, bounds []int64) ([]int, error) {
	ranks := make([]int, len(bounds))
	k := 0
	err := ents.Each(func(i int, n int64) error {
		for k < len(bounds) && bounds[k] <= n {
			ranks[k] = i
			k++
		}
		return nil
	})
	for ; k < len(bounds); k++ {
		ranks[k] = ents.Len()
	}
	return ranks, err
}
