package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/calldir/calldir/shard"
)

// The guards of this file stop a run that would ship fewer numbers than
// its user expects: an empty build wipes every device's extension at the
// next reload, and a build that lost half its entries to a bad feed is
// almost as bad. Both are refused (exit 2) unless a flag says they are
// meant.

// defaultMaxShrink is --max-shrink's default: a new build may hold at most
// this much fewer entries than the build it replaces.
const defaultMaxShrink = "50%"

// parseShrink reads --max-shrink: a percentage ("50%", "100%"; the % may be
// left out), returned as a fraction.
func parseShrink(s string) (float64, error) {
	t := strings.TrimSuffix(strings.TrimSpace(s), "%")
	v, err := strconv.ParseFloat(t, 64)
	if err != nil || v < 0 || v > 100 {
		return 0, usagef("--max-shrink %q: want a percentage from 0%% to 100%%, such as 50%%", s)
	}
	return v / 100, nil
}

// shrinkGuard holds what a run may drop.
type shrinkGuard struct {
	allowEmpty bool
	maxShrink  float64 // fraction of the previous entries a run may drop
	shrinkText string  // as given, for messages
}

func newShrinkGuard(allowEmpty bool, maxShrink string) (shrinkGuard, error) {
	if maxShrink == "" {
		maxShrink = defaultMaxShrink
	}
	f, err := parseShrink(maxShrink)
	return shrinkGuard{allowEmpty: allowEmpty, maxShrink: f, shrinkText: maxShrink}, err
}

// checkEmpty refuses a build of 0 entries unless --allow-empty, naming
// every input that contributed nothing and why.
func (g shrinkGuard) checkEmpty(entries int64, kind shard.Kind, inputs []shard.InputStats, ranges int) error {
	if entries > 0 || g.allowEmpty {
		return nil
	}
	var why []string
	for _, in := range inputs {
		if in.Role != "source" {
			continue
		}
		why = append(why, "  "+nothingFrom(in))
	}
	if ranges > 0 {
		why = append(why, fmt.Sprintf("  %d pattern(s): every number allowlisted", ranges))
	}
	msg := "the build would hold 0 entries, and loading it empties the extension on every device; refusing (pass --allow-empty if that is meant)"
	if len(why) > 0 {
		msg += "; what each input gave:\n" + strings.Join(why, "\n")
	}
	return usageError{errors.New(msg)}
}

// nothingFrom says why an input brought no entries.
func nothingFrom(in shard.InputStats) string {
	switch {
	case in.Lines == 0:
		return fmt.Sprintf("%s: no number lines (%s bytes; blank lines, comments or a header only)", in.Path, group(in.Bytes))
	case in.Accepted == 0:
		s := fmt.Sprintf("%s: %s rejected (%s)", in.Path, every(in.Lines, "line"), reasonsText(in.Reasons))
		if in.Path == "-" && in.Format == "text" && in.Reasons["not-a-number"] > 0 {
			s += "; stdin is read as text: pass --input-format csv or tsv for a table"
		}
		return s
	case in.Allowlisted > 0 && in.Entries == 0:
		return fmt.Sprintf("%s: %s accepted, every one allowlisted or in an earlier source", in.Path, group(in.Accepted))
	case in.Entries == 0:
		return fmt.Sprintf("%s: %s accepted, none left after duplicates and the allowlist", in.Path, group(in.Accepted))
	}
	return fmt.Sprintf("%s: %s entries", in.Path, group(in.Entries))
}

// every is "its 1 line" or "all 5 lines".
func every(n int64, noun string) string {
	if n == 1 {
		return "its 1 " + noun
	}
	return "all " + group(n) + " " + noun + "s"
}

// reasonsText lists reject reasons by count, largest first.
func reasonsText(m map[string]int64) string {
	type rc struct {
		r string
		n int64
	}
	var v []rc
	for r, n := range m {
		v = append(v, rc{r, n})
	}
	slices.SortFunc(v, func(a, b rc) int {
		if a.n != b.n {
			if a.n > b.n {
				return -1
			}
			return 1
		}
		return strings.Compare(a.r, b.r)
	})
	var parts []string
	for _, x := range v {
		parts = append(parts, fmt.Sprintf("%s %s", group(x.n), x.r))
	}
	return strings.Join(parts, ", ")
}

// checkShrink refuses a new build that drops more than --max-shrink of the
// entries of the build it replaces (what is the name of that build, for
// the message: "--out build", "--base old").
func (g shrinkGuard) checkShrink(what string, prev, next int64) error {
	if prev <= 0 || next >= prev {
		return nil
	}
	if next == 0 && g.allowEmpty {
		return nil
	}
	dropped := prev - next
	if float64(dropped) <= g.maxShrink*float64(prev) {
		return nil
	}
	return usagef("the new build holds %s entries, %s fewer than the %s of %s (%.1f%%, over --max-shrink %s); refusing (pass --max-shrink 100%% if the list really shrank)",
		group(next), group(dropped), group(prev), what, 100*float64(dropped)/float64(prev), g.shrinkText)
}

// checkEmptied refuses a delta that leaves extensions of the base without
// entries (cleared, or emptied by removals) unless --allow-empty: on a
// device it empties them.
// target holds the entries of each extension of the new build.
func (g shrinkGuard) checkEmptied(base *shard.Build, target map[int]int64) error {
	if g.allowEmpty {
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
	names := make([]string, len(emptied))
	for i, x := range emptied {
		names[i] = strconv.Itoa(x)
	}
	return usagef("the delta empties extension(s) %s of %s: devices would lose every entry of them; refusing (pass --allow-empty if that is meant)", strings.Join(names, ", "), base.Dir)
}

// checkOutside refuses paths that lie inside the output directory: the
// swap that puts the new output in place would delete them. Each of paths
// is a name for the message ("--rejects", "input") and a path; "-" (stdin)
// and "" are skipped.
func checkOutside(outFlag, out string, paths [][2]string) error {
	o, err := resolvePath(out)
	if err != nil {
		return err
	}
	for _, p := range paths {
		name, path := p[0], p[1]
		if path == "" || path == "-" {
			continue
		}
		r, err := resolvePath(path)
		if err != nil {
			return err
		}
		if inside(r, o) {
			return usagef("%s %s is inside %s %s, which is replaced as a whole: it would be deleted; put it elsewhere", name, path, outFlag, out)
		}
		if name == "--delta" && inside(o, r) {
			return usagef("%s %s contains %s %s: refusing to write one inside the other", name, path, outFlag, out)
		}
	}
	return nil
}

// checkNotInput refuses a report path (one of the names in reports) that
// is also one of the inputs: the report would replace the list it reports
// on.
func checkNotInput(paths [][2]string, reports ...string) error {
	resolved := map[string]string{}
	for _, p := range paths {
		if p[1] == "" || p[1] == "-" || slices.Contains(reports, p[0]) {
			continue
		}
		r, err := resolvePath(p[1])
		if err != nil {
			return err
		}
		resolved[r] = p[1]
	}
	for _, p := range paths {
		if p[1] == "" || !slices.Contains(reports, p[0]) {
			continue
		}
		r, err := resolvePath(p[1])
		if err != nil {
			return err
		}
		if in, ok := resolved[r]; ok {
			return usagef("%s %s is the input %s: the report would replace it", p[0], p[1], in)
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
