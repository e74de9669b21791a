package compiler

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/calldir/calldir/shard"
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
	of := "the build in " + e.Dir
	if e.Against == ShrinkBase {
		of = "the base build " + e.Dir
	}
	return fmt.Sprintf("the new build holds %d entries, %d fewer than the %d of %s (%.1f%%, more than %g%% may not be dropped)",
		e.Next, e.Prev-e.Next, e.Prev, of, e.Dropped()*100, e.MaxShrink*100)
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

// InsideOutputError is a path the run reads or writes that lies inside
// the output directory, which is replaced as a whole: the swap would
// delete it. Contains is set when the output lies inside the path instead.
type InsideOutputError struct {
	Role, Path string // "input", "rejects", "delta", …
	Out        string
	Contains   bool
}

func (e *InsideOutputError) Error() string {
	if e.Contains {
		return fmt.Sprintf("%s %s contains the output %s: refusing to write one inside the other", e.Role, e.Path, e.Out)
	}
	return fmt.Sprintf("%s %s is inside the output %s, which is replaced as a whole: it would be deleted", e.Role, e.Path, e.Out)
}

// ReportIsInputError is a report path that is also an input: the report
// would replace the list it reports on.
type ReportIsInputError struct {
	Role, Path, Input string
}

func (e *ReportIsInputError) Error() string {
	return fmt.Sprintf("%s %s is the input %s: the report would replace it", e.Role, e.Path, e.Input)
}

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
// ("input", "--rejects"). "" and "-" (stdin) are skipped by the checks.
type NamedPath struct{ Role, Path string }

// CheckOutside refuses paths that lie inside out (after resolving
// symbolic links): the swap that puts the new output in place would delete
// them. A path whose role is in containers may not contain out either.
func CheckOutside(out string, paths []NamedPath, containers ...string) error {
	o, err := resolvePath(out)
	if err != nil {
		return err
	}
	for _, p := range paths {
		if p.Path == "" || p.Path == "-" {
			continue
		}
		r, err := resolvePath(p.Path)
		if err != nil {
			return err
		}
		if inside(r, o) {
			return &InsideOutputError{Role: p.Role, Path: p.Path, Out: out}
		}
		if slices.Contains(containers, p.Role) && inside(o, r) {
			return &InsideOutputError{Role: p.Role, Path: p.Path, Out: out, Contains: true}
		}
	}
	return nil
}

// CheckReportsNotInputs refuses a path whose role is one of reports that
// is also one of the other paths (the inputs).
func CheckReportsNotInputs(paths []NamedPath, reports ...string) error {
	inputs := map[string]string{}
	for _, p := range paths {
		if p.Path == "" || p.Path == "-" || slices.Contains(reports, p.Role) {
			continue
		}
		r, err := resolvePath(p.Path)
		if err != nil {
			return err
		}
		inputs[r] = p.Path
	}
	for _, p := range paths {
		if p.Path == "" || !slices.Contains(reports, p.Role) {
			continue
		}
		r, err := resolvePath(p.Path)
		if err != nil {
			return err
		}
		if in, ok := inputs[r]; ok {
			return &ReportIsInputError{Role: p.Role, Path: p.Path, Input: in}
		}
	}
	return nil
}

// inside reports whether path is dir or below it (both absolute, clean).
func inside(path, dir string) bool {
	rel, err := filepath.Rel(dir, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// resolvePath makes p absolute with symbolic links resolved, as far as it
// exists: the part that does not exist yet is appended as written.
func resolvePath(p string) (string, error) {
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", err
	}
	rest := ""
	for cur := abs; ; {
		r, err := filepath.EvalSymlinks(cur)
		if err == nil {
			return filepath.Join(r, rest), nil
		}
		if !errors.Is(err, os.ErrNotExist) {
			return "", fmt.Errorf("resolve %s: %w", p, err)
		}
		parent := filepath.Dir(cur)
		if parent == cur {
			return abs, nil
		}
		rest = filepath.Join(filepath.Base(cur), rest)
		cur = parent
	}
}

func joinInts(v []int) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = fmt.Sprint(x)
	}
	return strings.Join(s, ", ")
}
