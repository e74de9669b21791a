package compiler

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"

	"github.com/calldir/calldir/shard/outfs"

	"github.com/calldir/calldir/e164"
	"github.com/calldir/calldir/shard"
)

// DefaultChunk is the default number of entries per incremental request:
// the size Saracroche settled on after cutting its reloads from 50,000 to
// 10,000 and then to 5,000 (CALLKIT.md §4.7).
const DefaultChunk = 5000

// change is one entry of an extension's delta.
type change struct {
	num   int64
	label string // additions to identification extensions
}

// extDelta is the difference of one extension between two builds.
type extDelta struct {
	ext        int
	kind       shard.Kind
	mode       string
	removes    []change // sorted
	adds       []change // sorted
	relabelled int64
	complete   *shard.ExtEntries // mode complete: the target's entries
}

// diffExt compares the entries of one extension. Identification numbers
// whose label changed are removed and added again with the new label.
func diffExt(ext int, old, new *shard.ExtEntries) *extDelta {
	d := &extDelta{ext: ext}
	switch {
	case new == nil:
		d.kind, d.mode = old.Kind, shard.ModeClear
		for _, n := range old.Numbers {
			d.removes = append(d.removes, change{num: n})
		}
		return d
	case old == nil || old.Kind != new.Kind:
		d.kind, d.mode, d.complete = new.Kind, shard.ModeComplete, new
		for j, n := range new.Numbers {
			c := change{num: n}
			if new.Kind == shard.KindIdentify {
				c.label = new.Labels[j]
			}
			d.adds = append(d.adds, c)
		}
		return d
	}
	d.kind, d.mode = new.Kind, shard.ModeIncremental
	if new.Info.Resplit {
		d.mode, d.complete = shard.ModeComplete, new
	}
	ident := new.Kind == shard.KindIdentify
	i, j := 0, 0
	for i < len(old.Numbers) || j < len(new.Numbers) {
		switch {
		case j == len(new.Numbers) || (i < len(old.Numbers) && old.Numbers[i] < new.Numbers[j]):
			d.removes = append(d.removes, change{num: old.Numbers[i]})
			i++
		case i == len(old.Numbers) || new.Numbers[j] < old.Numbers[i]:
			c := change{num: new.Numbers[j]}
			if ident {
				c.label = new.Labels[j]
			}
			d.adds = append(d.adds, c)
			j++
		default: // the same number
			if ident && old.Labels[i] != new.Labels[j] {
				d.removes = append(d.removes, change{num: old.Numbers[i]})
				d.adds = append(d.adds, change{num: new.Numbers[j], label: new.Labels[j]})
				d.relabelled++
			}
			i++
			j++
		}
	}
	if len(d.removes) == 0 && len(d.adds) == 0 && d.mode == shard.ModeIncremental {
		return nil
	}
	return d
}

// diffBuilds computes, per extension, what turns old into new. Extensions
// whose entries did not change are left out.
func diffBuilds(old, new *shard.Build) []*extDelta {
	exts := map[int]bool{}
	for e := range old.Exts {
		exts[e] = true
	}
	for e := range new.Exts {
		exts[e] = true
	}
	order := make([]int, 0, len(exts))
	for e := range exts {
		order = append(order, e)
	}
	sort.Ints(order)
	var out []*extDelta
	for _, e := range order {
		if d := diffExt(e, old.Exts[e], new.Exts[e]); d != nil {
			out = append(out, d)
		}
	}
	return out
}

// writeDeltaFiles writes the delta's request files and its manifest, last,
// into tmp.
func writeDeltaFiles(ctx context.Context, tmp string, old, new *shard.Build, o DeltaOptions) (*shard.DeltaManifest, error) {
	dm := &shard.DeltaManifest{
		Format: shard.DeltaFormat, FormatVersion: shard.DeltaVersion, ToolVersion: o.ToolVersion,
		Base: old.Manifest.BuildID, Target: new.Manifest.BuildID, Chunk: o.Chunk,
		Extensions: []shard.DeltaExt{},
	}
	deltas := diffBuilds(old, new)
	summarize(dm, old, new)
	for _, d := range deltas {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		de, err := writeExtDelta(tmp, d, o.Chunk)
		if err != nil {
			return nil, err
		}
		dm.Extensions = append(dm.Extensions, de)
	}
	b, err := dm.Marshal()
	if err != nil {
		return nil, err
	}
	return dm, outfs.WriteNew(filepath.Join(tmp, shard.DeltaManifestName), b)
}

func writeExtDelta(tmp string, d *extDelta, chunk int) (shard.DeltaExt, error) {
	de := shard.DeltaExt{Extension: d.ext, Kind: d.kind.String(), Mode: d.mode,
		Added: int64(len(d.adds)) - d.relabelled, Removed: int64(len(d.removes)) - d.relabelled, Relabelled: d.relabelled}
	sub := fmt.Sprintf("ext-%04d", d.ext)
	switch d.mode {
	case shard.ModeClear:
		de.Requests = []shard.DeltaRequest{{RemoveAll: true}}
		return de, nil
	case shard.ModeComplete:
		res := entriesResult(d.kind, d.complete.Numbers, d.complete.Labels)
		f, err := writeDeltaFile(tmp, sub, "complete.shard", shard.OpComplete, res)
		if err != nil {
			return de, err
		}
		de.Requests = []shard.DeltaRequest{{Files: []shard.DeltaFile{f}}}
		return de, nil
	}
	removeOp, addOp := shard.OpRemoveBlock, shard.OpAddBlock
	if d.kind == shard.KindIdentify {
		removeOp, addOp = shard.OpRemoveIdentify, shard.OpAddIdentify
	}
	// Requests take removals first, then additions, at most chunk entries
	// each; a request may hold the end of the removals and the start of the
	// additions (the extension flushes between them).
	ri, ai, n := 0, 0, 0
	for ri < len(d.removes) || ai < len(d.adds) {
		n++
		var req shard.DeltaRequest
		room := chunk
		if ri < len(d.removes) {
			k := min(room, len(d.removes)-ri)
			res := entriesResult(shard.KindBlock, numsOf(d.removes[ri:ri+k]), nil)
			f, err := writeDeltaFile(tmp, sub, fmt.Sprintf("%04d-remove.shard", n), removeOp, res)
			if err != nil {
				return de, err
			}
			req.Files = append(req.Files, f)
			ri += k
			room -= k
		}
		if room > 0 && ai < len(d.adds) {
			k := min(room, len(d.adds)-ai)
			part := d.adds[ai : ai+k]
			var labels []string
			if d.kind == shard.KindIdentify {
				for _, c := range part {
					labels = append(labels, c.label)
				}
			}
			res := entriesResult(d.kind, numsOf(part), labels)
			f, err := writeDeltaFile(tmp, sub, fmt.Sprintf("%04d-add.shard", n), addOp, res)
			if err != nil {
				return de, err
			}
			req.Files = append(req.Files, f)
			ai += k
		}
		de.Requests = append(de.Requests, req)
	}
	return de, nil
}

func numsOf(cs []change) []int64 {
	out := make([]int64, len(cs))
	for i, c := range cs {
		out[i] = c.num
	}
	return out
}

// entriesResult wraps entries as a Result, for writeShard.
func entriesResult(kind shard.Kind, nums []int64, labels []string) *Result {
	res := &Result{Kind: kind, Numbers: nums}
	if kind == shard.KindIdentify {
		ids := map[string]uint32{}
		for _, l := range labels {
			id, ok := ids[l]
			if !ok {
				id = uint32(len(res.Table))
				ids[l] = id
				res.Table = append(res.Table, l)
			}
			res.Labels = append(res.Labels, id)
		}
	}
	return res
}

func writeDeltaFile(tmp, sub, name, op string, res *Result) (shard.DeltaFile, error) {
	if err := os.MkdirAll(filepath.Join(tmp, sub), 0o755); err != nil {
		return shard.DeltaFile{}, err
	}
	info, err := writeShard(filepath.Join(tmp, sub), name, res, shard.Span{Start: 0, End: len(res.Numbers)})
	if err != nil {
		return shard.DeltaFile{}, err
	}
	return shard.DeltaFile{File: sub + "/" + name, Op: op, Count: info.Count, SHA256: info.SHA256}, nil
}

// summarize counts what changed in the list as a whole (a number that
// moved between extensions is neither added nor removed), in all and per
// country calling code.
func summarize(dm *shard.DeltaManifest, old, new *shard.Build) {
	type entry struct {
		num   int64
		label string
	}
	all := func(b *shard.Build) []entry {
		var out []entry
		for _, e := range b.Exts {
			for i, n := range e.Numbers {
				en := entry{num: n}
				if e.Labels != nil {
					en.label = e.Labels[i]
				}
				out = append(out, en)
			}
		}
		sort.Slice(out, func(i, j int) bool { return out[i].num < out[j].num })
		return out
	}
	by := map[string]shard.CountryDelta{}
	count := func(n int64, f func(*shard.CountryDelta)) {
		k := strconv.Itoa(e164.CountryCode(n))
		c := by[k]
		f(&c)
		by[k] = c
	}
	o, w := all(old), all(new)
	i, j := 0, 0
	for i < len(o) || j < len(w) {
		switch {
		case j == len(w) || (i < len(o) && o[i].num < w[j].num):
			dm.Summary.Removed++
			count(o[i].num, func(x *shard.CountryDelta) { x.Removed++ })
			i++
		case i == len(o) || w[j].num < o[i].num:
			dm.Summary.Added++
			count(w[j].num, func(x *shard.CountryDelta) { x.Added++ })
			j++
		default:
			if o[i].label != w[j].label {
				dm.Summary.Relabelled++
				count(w[j].num, func(x *shard.CountryDelta) { x.Relabelled++ })
			}
			i++
			j++
		}
	}
	if len(by) > 0 {
		dm.Summary.ByCountry = by
	}
}
