package compiler

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/calldir/calldir/shard"
	"github.com/calldir/calldir/shard/outfs"
)

// The guards of this file stop a run that would ship fewer numbers than
// its user expects: an empty build wipes every device's extension at the
// next reload, and a build that lost half its entries to a bad feed is
// almost as bad. Each refusal is a typed error; the CLI words it with the
// flag that allows it.

// DefaultMaxShrink is the share of the previous build's entries a new
// build may drop before Guard refuses it.
const DefaultMaxShrink = 0.5

// Guard says what a run may drop.
type Guard struct {
	AllowEmpty bool    // a build of 0 entries, or a delta that empties extensions
	MaxShrink  float64 // fraction of the previous build's entries a new one may drop
}

// EmptyBuildError is a build that would hold no entries.
type EmptyBuildError struct {
	Inputs   []shard.InputStats // what each input gave
	Patterns int                // patterns and ranges, every number allowlisted
}

func (e *EmptyBuildError) Error() string {
	return "the build would hold 0 entries: loading it empties the extension on every device"
}

// ShrinkError is a build (or a delta's target) holding too many fewer
// entries than the build it replaces.
type ShrinkError struct {
	What       string // "build" ("" too) or "export"
	List       string // the list that shrank ("block"), when the output holds several or the new one lacks it
	Against    string // ShrinkOut or ShrinkBase: the build compared with
	Dir        string // its directory
	Prev, Next int64  // entries
	MaxShrink  float64
}

// What a ShrinkError compares with: the build being replaced, or the base
// build (of --base, or of a delta).
const (
	ShrinkOut  = "out"
	ShrinkBase = "base"
)

func (e *ShrinkError) Error() string {
	of := "the " + e.Noun() + " in " + e.Dir
	if e.Against == ShrinkBase {
		of = "the base build " + e.Dir
	}
	return fmt.Sprintf("the new %s holds %d %s, %d fewer than the %d of %s (%.1f%%, more than %g%% may not be dropped)",
		e.Noun(), e.Next, e.Entries(), e.Prev-e.Next, e.Prev, of, e.Dropped()*100, e.MaxShrink*100)
}

// Noun is what shrank: "build" or "export".
func (e *ShrinkError) Noun() string {
	if e.What == "" {
		return "build"
	}
	return e.What
}

// Entries names what is counted: "entries", "block entries", "identity
// numbers".
func (e *ShrinkError) Entries() string {
	n := "entries"
	if e.What == "export" {
		n = "numbers"
	}
	if e.List != "" {
		n = e.List + " " + n
	}
	return n
}

// Dropped is the share of Prev that is gone.
func (e *ShrinkError) Dropped() float64 { return float64(e.Prev-e.Next) / float64(e.Prev) }

// EmptiedError is a delta that leaves extensions of its base without
// entries.
type EmptiedError struct {
	Base       string // the base build's directory
	Extensions []int
}

func (e *EmptiedError) Error() string {
	return fmt.Sprintf("the delta empties extension(s) %s of %s: devices would lose every entry of them", joinInts(e.Extensions), e.Base)
}

// OverlapError is a write that is, contains or lies inside another path
// the run reads or writes (shard/outfs): refused before any work.
type OverlapError = outfs.OverlapError

// TooManyShardsError is a build whose entries need more shards than a
// build holds (maxShards) at MaxPerShard entries each. Pattern, when set,
// is the largest of the patterns whose numbers alone cannot fit.
type TooManyShardsError struct {
	Entries     int64
	Shards      int64
	MaxPerShard int
	Pattern     *Range
}

func (e *TooManyShardsError) Error() string { return e.Explain("raise the entries per shard") }

// need says what the entries need.
func (e *TooManyShardsError) need() string {
	what := fmt.Sprintf("%d entries", e.Entries)
	if e.Pattern != nil {
		what = fmt.Sprintf("patterns: %d distinct numbers (overlaps and allowlisted numbers counted out)", e.Entries)
	}
	return fmt.Sprintf("%s need %d shards of %d, that is %d extensions", what, e.Shards, e.MaxPerShard, e.Shards)
}

// hint says how to fit, with raise naming the way to raise the entries per
// shard (the CLI names its flag).
func (e *TooManyShardsError) hint(raise string) string {
	h := fmt.Sprintf("%s (at most %d)", raise, shard.MaxEntriesPerRequest)
	if p := e.Pattern; p != nil {
		where := p.Source
		if p.Line > 0 {
			where += fmt.Sprintf(":%d", p.Line)
		}
		h = fmt.Sprintf("the largest is %q (%s), %d numbers; narrow the patterns or %s; nothing written", p.Text, where, p.Size(), h)
	}
	return h
}

// Explain words the error with the given way to raise the entries per
// shard ("raise --max-per-shard").
func (e *TooManyShardsError) Explain(raise string) string {
	return fmt.Sprintf("%s: more than the %d a build holds; %s", e.need(), maxShards, e.hint(raise))
}

// CheckEmpty refuses a build of 0 entries unless AllowEmpty.
func (g Guard) CheckEmpty(entries int64, inputs []shard.InputStats, patterns int) error {
	if entries > 0 || g.AllowEmpty {
		return nil
	}
	return &EmptyBuildError{Inputs: inputs, Patterns: patterns}
}

// CheckShrink refuses a new build of next entries that drops more than
// MaxShrink of prev, the entries of the build in dir (prev < 0: nothing to
// compare with); against is ShrinkOut or ShrinkBase.
func (g Guard) CheckShrink(against, dir string, prev, next int64) error {
	if prev <= 0 || next >= prev || next == 0 && g.AllowEmpty {
		return nil
	}
	if float64(prev-next) <= g.MaxShrink*float64(prev) {
		return nil
	}
	return &ShrinkError{Against: against, Dir: dir, Prev: prev, Next: next, MaxShrink: g.MaxShrink}
}

// CheckEmptied refuses a new build (target: entries per extension) that
// leaves extensions of base without entries, unless AllowEmpty.
func (g Guard) CheckEmptied(base *shard.Build, target map[int]int64) error {
	if g.AllowEmpty {
		return nil
	}
	var emptied []int
	for ext, e := range base.Exts {
		if len(e.Numbers) > 0 && target[ext] == 0 {
			emptied = append(emptied, ext)
		}
	}
	if len(emptied) == 0 {
		return nil
	}
	slices.Sort(emptied)
	return &EmptiedError{Base: base.Dir, Extensions: emptied}
}

// A NamedPath is a path a run reads or writes, with its role for messages
// ("input", "rejects"). "" and "-" (stdin) are skipped by the checks.
type NamedPath struct{ Role, Path string }

// checkCounts refuses a new output (what: "build" or "export" at dir)
// holding next numbers per list that drops more than MaxShrink of a list
// prev holds. It runs under the output's lock just before the swap.
func (g Guard) checkCounts(what, dir string, prev *outfs.State, next map[string]int64) error {
	if prev == nil || prev.Contents == nil {
		return nil
	}
	lists := slices.Sorted(maps.Keys(prev.Counts))
	for _, l := range lists {
		if err := g.CheckShrink(ShrinkOut, dir, prev.Count(l), next[l]); err != nil {
			se := err.(*ShrinkError)
			se.What = what
			if len(next) > 0 && next[l] == 0 || len(lists) > 1 {
				se.List = l
			}
			return se
		}
	}
	return nil
}

func joinInts(v []int) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = fmt.Sprint(x)
	}
	return strings.Join(s, ", ")
}
