package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/calldir/calldir/compiler"
	"github.com/calldir/calldir/shard/outfs"

	"github.com/calldir/calldir/shard"
)

// The guards of this file stop a run that would ship fewer numbers than
// its user expects: an empty build wipes every device's extension at the
// next reload, and a build that lost half its entries to a bad feed is
// almost as bad. Both are refused (exit 2) unless a flag says they are
// meant.

// defaultMaxShrink is --max-shrink's default: compiler.DefaultMaxShrink.
const defaultMaxShrink = "50%"

// parseShrink reads --max-shrink: a percentage ("50%", "100%"; the % may be
// left out), returned as a fraction.
func parseShrink(s string) (float64, error) {
	if s == "" {
		return compiler.DefaultMaxShrink, nil
	}
	t := strings.TrimSuffix(strings.TrimSpace(s), "%")
	v, err := strconv.ParseFloat(t, 64)
	if err != nil || v < 0 || v > 100 {
		return 0, usagef("--max-shrink %q: want a percentage from 0%% to 100%%, such as 50%%", s)
	}
	return v / 100, nil
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

// explainGuard words the compiler's refusals for the command line, naming
// the flag that allows each; ok is false for any other error.
func explainGuard(err error) (msg string, ok bool) {
	if msg, ok := explainInput(err); ok {
		return msg, true
	}
	if msg, ok := explainRanges(err); ok {
		return msg, true
	}
	var (
		empty   *compiler.EmptyBuildError
		shrink  *compiler.ShrinkError
		emptied *compiler.EmptiedError
		overlap *compiler.OverlapError
		inOut   *outfs.InsideOutputError
		emptyX  *compiler.EmptyExportError
		mount   *outfs.MountPointError
		rejects *compiler.TooManyRejectsError
		shards  *compiler.TooManyShardsError
	)
	switch {
	case errors.As(err, &empty):
		var why []string
		for _, in := range empty.Inputs {
			if in.Role == "source" {
				why = append(why, "  "+nothingFrom(in))
			}
		}
		if empty.Patterns > 0 {
			why = append(why, fmt.Sprintf("  %d pattern(s): every number allowlisted", empty.Patterns))
		}
		msg = "the build would hold 0 entries, and loading it empties the extension on every device; refusing (pass --allow-empty if that is meant)"
		if len(why) > 0 {
			msg += "; what each input gave:\n" + strings.Join(why, "\n")
		}
	case errors.As(err, &shrink):
		of := "the build in --out " + shrink.Dir
		switch {
		case shrink.Against == compiler.ShrinkBase:
			of = "--base " + shrink.Dir
		case shrink.Noun() == "export":
			of = "the export in " + shrink.Dir
		}
		msg = fmt.Sprintf("the new %s holds %s %s, %s fewer than the %s of %s (%.1f%%, over --max-shrink %s); refusing (pass --max-shrink 100%% if the list really shrank)",
			shrink.Noun(), group(shrink.Next), shrink.Entries(), group(shrink.Prev-shrink.Next), group(shrink.Prev), of, 100*shrink.Dropped(), percent(shrink.MaxShrink))
	case errors.As(err, &emptyX):
		msg = emptyX.Error() + "; refusing (pass --allow-empty if that is meant)"
	case errors.As(err, &mount):
		msg = mount.Error()
	case errors.As(err, &emptied):
		msg = emptied.Error() + "; refusing (pass --allow-empty if that is meant)"
	case errors.As(err, &overlap):
		msg = explainOverlap(overlap)
	case errors.As(err, &inOut):
		msg = explainInsideOutput(inOut)
	case errors.As(err, &rejects):
		msg = fmt.Sprintf("%d of %d lines rejected, over --max-rejects %s; build not written", rejects.Rejected, rejects.Lines, rejects.Threshold)
	case errors.As(err, &shards):
		msg = shards.Explain("raise --max-per-shard")
	default:
		return "", false
	}
	return msg, true
}

// explainInput words the compiler's input errors that the command line
// can fix, naming the flag; ok is false for any other error.
func explainInput(err error) (msg string, ok bool) {
	var (
		empty   *compiler.EmptyInputError
		noLabel *compiler.NoLabelError
		fixed   *compiler.FixedLabelError
		in      *compiler.InputError
	)
	switch {
	case errors.As(err, &empty) && empty.Filtered > 0:
		return err.Error() + "; check --where, or pass --allow-empty if that is expected", true
	case errors.As(err, &empty) && empty.HeaderOnly:
		return err.Error() + "; pass --allow-empty if that is expected", true
	case errors.As(err, &empty):
		return err.Error() + "; pass --allow-empty if an empty list is expected", true
	case errors.As(err, &noLabel) && noLabel.Text:
		return err.Error() + ": give --label, or use a CSV/TSV list with a label column", true
	case errors.As(err, &noLabel):
		return err.Error() + ": give --label-column or --label", true
	case errors.As(err, &fixed) && errors.As(err, &in):
		return fmt.Sprintf("%s: --label: %v", in.Path, fixed.Err), true
	}
	return "", false
}

// explainOverlap words a write that is, contains or lies inside another
// path of the run, naming both by their flags.
func explainOverlap(e *compiler.OverlapError) string {
	a := flagOf(e.Role) + " " + e.Path
	b := flagOf(e.OtherRole) + " " + e.OtherPath
	switch {
	case e.How == outfs.Inside && e.Replaced:
		return fmt.Sprintf("%s is inside %s, which is replaced as a whole: it would be deleted; put it elsewhere", a, b)
	case e.How == outfs.Inside && e.BothWrite:
		return fmt.Sprintf("%s is inside %s: refusing to write one inside the other", a, b)
	case e.How == outfs.Inside:
		return fmt.Sprintf("%s is inside %s, which this run reads: writing there would change it; put it elsewhere", a, b)
	case e.BothWrite:
		return fmt.Sprintf("%s and %s are the same file: one would be lost; give each its own path", a, b)
	}
	return fmt.Sprintf("%s is the %s, which this run reads: writing it would destroy it; give another path", a, b)
}

// explainInsideOutput words a write inside a calldir output the run does
// not replace.
func explainInsideOutput(e *outfs.InsideOutputError) string {
	dir := e.Output
	if wd, err := os.Getwd(); err == nil {
		if rel, err := filepath.Rel(wd, dir); err == nil && !strings.HasPrefix(rel, "..") {
			dir = rel
		}
	}
	if e.Is {
		return fmt.Sprintf("%s %s is a calldir %s: a file written there would make it fail validate; put it elsewhere", flagOf(e.Role), e.Path, e.Kind)
	}
	return fmt.Sprintf("%s %s is inside the calldir %s %s: a file written there would make it fail validate; put it elsewhere", flagOf(e.Role), e.Path, e.Kind, dir)
}

// flagOf is the command-line name of a path's role in a compiler error.
func flagOf(role string) string {
	switch role {
	case "input", "OLD_BUILD", "NEW_BUILD", "BUILD", "FILE":
		return role
	case "out", "live-lookup", "delta", "rejects", "conflicts", "config", "base", "temp-dir", "icons", "keep", "report", "dir":
		return "--" + role
	case "allowlist":
		return "--allow"
	}
	return "--" + role
}

// percent prints a fraction as --max-shrink takes it: 0.5 -> "50%".
func percent(f float64) string { return strconv.FormatFloat(f*100, 'f', -1, 64) + "%" }

// checkChunk refuses a --chunk CallKit could not take in one request.
func checkChunk(n int) error {
	if n < 1 || n > shard.MaxEntriesPerRequest {
		return usagef("--chunk %d: want 1 to %d entries per request", n, shard.MaxEntriesPerRequest)
	}
	return nil
}
