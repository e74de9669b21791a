package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/calldir/calldir/shard/outfs"
	"github.com/calldir/calldir/validate/verifier"
	"github.com/urfave/cli/v2"
)

type exploreOpts struct {
	seed     uint64
	budget   time.Duration
	scale    float64
	out      string
	format   string
	noShrink bool
	shrinkT  time.Duration
}

func exploreCommand(e *env) *cli.Command {
	var o exploreOpts
	names, variants := exploreLists()
	return &cli.Command{
		Name:      "explore",
		Usage:     "run load patterns × settings × faults against the SQLite model and shrink every failure to a minimal plan",
		ArgsUsage: " ",
		Description: withExamples(`
Each case replays a pattern with a settings variant and a fault, and reports
its outcome: ok, CallKit error N, SQLite code, extension stuck loading, loaded
extension left with zero rows, state differs, model disagrees, rows lost, or
integrity failure. A fault and settings pair that cannot fail by
construction (a kill with synchronous=off, a deleted hot journal with a
cache that never spills) is listed with the reason instead of run. Every
fault runs once before any case is shrunk. Every case
that does not end ok is shrunk (delta debugging over steps, ops and ranges,
and the kill point) to a minimal plan written to --out, which
"calldir replay" re-runs to the same finding. Cases run until --budget is
spent; the rest are counted as skipped. --scale sizes the patterns (1 = the
full sizes, such as 2,100,000 rows for incremental-past-2M).

Exit status 1 when any case ends with "model disagrees" (the replay broke a
CallKit rule), or when a case with safe settings (a journal, locking, no
deleted journal) ends with rows lost, a state that differs or a malformed
database: the findings the unsafe settings are expected to produce are
reported, not failed.

PATTERNS:
` + strings.Join(names, "\n") + `

SETTINGS:
` + strings.Join(variants, "\n") + `

FAULTS:
` + exploreFaults() + `
EXAMPLES:
   calldir explore --budget 120s
   calldir explore --pattern field-report --settings journal-off --fault kill --out plans
   calldir explore --scale 1 --budget 1h --format json > matrix.json`),
		Flags: exploreFlags(&o),
		Action: func(c *cli.Context) error {
			if c.Args().Len() > 0 {
				return usagef("explore takes no arguments")
			}
			if o.format != "text" && o.format != "json" {
				return usagef("--format %q: want text or json", o.format)
			}
			// A zero or negative duration would mean no limit to the
			// verifier: refuse it rather than run the whole matrix. The
			// budget is checked before each case starts, so one under a
			// second would skip them all and report nothing.
			if o.budget <= 0 {
				return usagef("--budget %s: want a duration above 0, such as 120s", o.budget)
			}
			if o.budget < minExploreBudget {
				return usagef("--budget %s: want at least %s, such as 120s (a shorter budget runs no case)", o.budget, minExploreBudget)
			}
			if o.shrinkT <= 0 {
				return usagef("--shrink-budget %s: want a duration above 0, such as 20s (--no-shrink turns shrinking off)", o.shrinkT)
			}
			if o.scale <= 0 || o.scale > 10 {
				return usagef("--scale %g: want a factor above 0, at most 10", o.scale)
			}
			defaultOut := o.out == ""
			if defaultOut {
				o.out = defaultPlanDir()
			}
			eo := verifier.ExploreOptions{
				Seed: o.seed, Budget: o.budget, Scale: o.scale, OutDir: o.out, Shrink: !o.noShrink, ShrinkBudget: o.shrinkT,
				Patterns: c.StringSlice("pattern"), Variants: c.StringSlice("settings"), Faults: c.StringSlice("fault"),
			}
			if err := checkNames(eo); err != nil {
				return err
			}
			var p outfs.Plan
			p.WriteInto("out", o.out)
			if err := p.Check(); err != nil {
				return err
			}
			start := time.Now()
			err := runExplore(c.Context, eo, o.format, e)
			if defaultOut && plansSince(o.out, start) {
				fmt.Fprintf(e.stderr, "explore: shrunk plans are in %s (--out sets another directory)\n", o.out)
			}
			return err
		},
	}
}

// defaultPlanDir is where explore writes shrunk plans without --out: in
// the user's cache directory, not the working directory, which is often a
// checkout that the plans would litter (and a .gitignore entry would
// cover only calldir's own). Unlike the temporary directory it survives a
// reboot, so "calldir replay PLAN" still finds them.
func defaultPlanDir() string {
	dir, err := os.UserCacheDir()
	if err != nil {
		dir = os.TempDir()
	}
	return filepath.Join(dir, "calldir", "explore-plans")
}

// plansSince reports whether dir holds a shrunk plan written at or after
// start (the plans of earlier runs are not this run's).
func plansSince(dir string, start time.Time) bool {
	m, _ := filepath.Glob(filepath.Join(dir, "case-*.plan"))
	for _, p := range m {
		if fi, err := os.Stat(p); err == nil && !fi.ModTime().Before(start.Truncate(time.Second)) {
			return true
		}
	}
	return false
}

// minExploreBudget is the smallest --budget: a case at the smallest
// scale takes tens of milliseconds, and a budget spent before the first
// case starts skips every case.
const minExploreBudget = time.Second

func checkNames(o verifier.ExploreOptions) error {
	known := func(list []string, names func(func(string))) error {
		ok := map[string]bool{}
		var all []string
		names(func(n string) { ok[n] = true; all = append(all, n) })
		for _, l := range list {
			if !ok[l] {
				return usagef("unknown name %q (known: %s)", l, strings.Join(all, ", "))
			}
		}
		return nil
	}
	if err := known(o.Patterns, func(f func(string)) {
		for _, p := range verifier.Patterns {
			f(p.Name)
		}
	}); err != nil {
		return err
	}
	if err := known(o.Variants, func(f func(string)) {
		for _, v := range verifier.Variants {
			f(v.Name)
		}
	}); err != nil {
		return err
	}
	return known(o.Faults, func(f func(string)) {
		for _, n := range verifier.Faults {
			f(n)
		}
	})
}

func runExplore(ctx context.Context, o verifier.ExploreOptions, format string, e *env) error {
	start := time.Now()
	o.Progress = func(c verifier.CaseResult) {
		if isTerminal(e.stderr) {
			fmt.Fprintf(e.stderr, "\r\033[Kcase %d: %s / %s / %s: %s (%s elapsed)", c.N, c.Pattern, c.Settings, c.Fault, c.Outcome, time.Since(start).Round(time.Second))
		}
		if e.rowDone != nil {
			e.rowDone()
		}
	}
	rep, err := verifier.Explore(ctx, o)
	if isTerminal(e.stderr) {
		fmt.Fprint(e.stderr, "\r\033[K")
	}
	// Interrupted, the report holds the cases finished so far: print
	// them, then let the interruption decide the exit status.
	interrupted := errors.Is(err, context.Canceled) && rep != nil
	if err != nil && !interrupted {
		return err
	}
	if format == "json" {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		if perr := enc.Encode(struct {
			*verifier.ExploreReport
			Interrupted bool `json:"interrupted,omitempty"`
		}{rep, interrupted}); perr != nil {
			return errors.Join(err, perr)
		}
	} else {
		printExplore(e.stdout, rep, time.Since(start))
		if interrupted {
			fmt.Fprintf(e.stdout, "explore: interrupted after %d case(s); the rest did not run\n", len(rep.Cases))
		}
	}
	if interrupted {
		return err
	}
	return exploreVerdict(e.stderr, rep)
}

// exploreVerdict is the exit status of a finished explore: a plan not
// written or a case that could not run is an error (exit 2), a finding the
// settings do not excuse is exit 1, and stderr says which and why.
func exploreVerdict(stderr io.Writer, rep *verifier.ExploreReport) error {
	// A plan that could not be written is an I/O error, whatever was
	// found: the user asked for the plans.
	var unwritten []string
	for _, c := range rep.Cases {
		if c.PlanError != "" {
			unwritten = append(unwritten, fmt.Sprintf("case %d: %s", c.N, c.PlanError))
		}
	}
	if len(unwritten) > 0 {
		return fmt.Errorf("%d shrunk plan(s) not written:\n  %s", len(unwritten), strings.Join(unwritten, "\n  "))
	}
	// A case that could not run has no verdict: the run is an error
	// (exit 2) whatever the others found, never a pass.
	var broken []string
	for _, c := range rep.Cases {
		if c.Outcome.Class == verifier.ClassError {
			broken = append(broken, fmt.Sprintf("case %d (%s, %s, %s): %s", c.N, c.Pattern, c.Settings, c.Fault, c.Outcome.Detail))
		}
	}
	if len(broken) > 0 {
		return fmt.Errorf("%d case(s) could not run:\n  %s", len(broken), strings.Join(broken, "\n  "))
	}
	// The exit status is the worst case's, and stderr says which and why.
	if reasons := exploreFindings(rep); len(reasons) > 0 {
		fmt.Fprintf(stderr, "explore: exit 1: %d case(s) found what the settings do not excuse:\n  %s\n", len(reasons), strings.Join(reasons, "\n  "))
		return findingsError{reasons[0]}
	}
	return nil
}

// exploreFindings lists the cases that fail explore (exit 1), each with
// why: the model disagreeing with the driver under any settings, and a
// malformed file, lost rows or a wrong state under settings SQLite calls
// safe.
func exploreFindings(rep *verifier.ExploreReport) []string {
	var reasons []string
	for _, c := range rep.Cases {
		switch c.Outcome.Class {
		case verifier.ClassModel: // the driver broke a CallKit rule: a fault of the verifier, whatever the settings
			reasons = append(reasons, fmt.Sprintf("case %d (%s, %s, %s): %s: the model disagrees with the driver, whatever the settings", c.N, c.Pattern, c.Settings, c.Fault, c.Outcome))
		case verifier.ClassIntegrity, verifier.ClassRowsLost, verifier.ClassState:
			if !unsafeCase(c) {
				reasons = append(reasons, fmt.Sprintf("case %d (%s, %s, %s): %s with safe settings", c.N, c.Pattern, c.Settings, c.Fault, c.Outcome))
			}
		}
	}
	return reasons
}

// unsafeCase is a case whose settings or fault SQLite documents as able
// to corrupt or lose data (howtocorrupt §3.2, §7): its findings are
// expected, not failures. synchronous=off loses data only on power loss,
// which a process kill is not.
func unsafeCase(c verifier.CaseResult) bool {
	switch {
	case c.Settings == "journal-off", c.Settings == "journal-memory":
		return true
	case c.Fault == "kill+delete-journal", c.Fault == "kill+delete-wal", c.Fault == "unlocked-writer":
		return true
	case c.Settings == "sync-off" && c.Fault == "power-loss":
		return true
	}
	return false
}

func printExplore(w io.Writer, rep *verifier.ExploreReport, took time.Duration) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "#\tpattern\tsettings\tfault\toutcome\trows\tfile\tms\tshrunk plan")
	counts := map[string]int{}
	var reasons []string // in order of first use
	rowsOf := map[string][]string{}
	for _, c := range rep.Cases {
		if c.Outcome.Class == verifier.ClassCannotFail {
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\tcannot fail by construction (not run)\t\t\t\t\n", c.N, c.Pattern, c.Settings, c.Fault)
			if rowsOf[c.Outcome.Detail] == nil {
				reasons = append(reasons, c.Outcome.Detail)
			}
			rowsOf[c.Outcome.Detail] = append(rowsOf[c.Outcome.Detail], fmt.Sprint(c.N))
			counts["cannot fail"]++
			continue
		}
		shrunk := ""
		if c.Shrunk != "" {
			repro := "reproduces"
			if !c.Repro {
				repro = "does not reproduce"
			}
			shrunk = fmt.Sprintf("%s (%d steps, %s)", filepath.Base(c.Shrunk), c.Steps, repro)
		}
		out := c.Outcome.String()
		if c.KillAt > 0 || c.Fault == "kill" {
			out += fmt.Sprintf(" [kill@%d]", c.KillAt)
		}
		if strings.Contains(c.Note, "limit not reached") {
			out += " [disk-full limit not reached]"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%.0f\t%s\n", c.N, c.Pattern, c.Settings, c.Fault, out, group(c.Rows), bytesText(c.Bytes), c.Millis, shrunk)
		counts[c.Outcome.String()]++
	}
	tw.Flush()
	for _, r := range reasons {
		fmt.Fprintf(w, "cases %s: %s\n", strings.Join(rowsOf[r], ", "), r)
	}
	var parts []string
	for k, v := range counts {
		parts = append(parts, fmt.Sprintf("%s: %d", k, v))
	}
	fmt.Fprintf(w, "explore: seed %d, scale %g, %d cases in %s, %d skipped for the budget; %s\n",
		rep.Seed, rep.Scale, len(rep.Cases), took.Round(time.Second), rep.Skipped, strings.Join(slices.Sorted(slices.Values(parts)), ", "))
}

// exploreLists are the help's lines of patterns and settings variants.
func exploreLists() (names, variants []string) {
	for _, p := range verifier.Patterns {
		names = append(names, fmt.Sprintf("   %-24s %s", p.Name, p.Doc))
	}
	for _, v := range verifier.Variants {
		pairs := strings.Join(v.Pairs, " ")
		if pairs == "" {
			pairs = "journal_mode=delete synchronous=full (the defaults)"
		}
		variants = append(variants, fmt.Sprintf("   %-24s %s", v.Name, pairs))
	}
	return names, variants
}

// exploreFlags are explore's flags, bound to o.
func exploreFlags(o *exploreOpts) []cli.Flag {
	return []cli.Flag{
		&cli.Uint64Flag{Name: "seed", Value: 1, Usage: "`SEED` for kill points and plan numbers", Destination: &o.seed},
		&cli.DurationFlag{Name: "budget", Value: 120 * time.Second, Usage: "stop starting cases after `DURATION`", Destination: &o.budget},
		&cli.Float64Flag{Name: "scale", Value: 0.02, Usage: "pattern size `FACTOR` (1 = full size)", Destination: &o.scale},
		&cli.StringFlag{Name: "out", Usage: "write shrunk plans into `DIR` (default: calldir/explore-plans in the user's cache directory, such as ~/.cache, printed when a plan is written)", Destination: &o.out},
		&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Value: "text", Usage: "output `FORMAT`: text or json", Destination: &o.format},
		&cli.StringSliceFlag{Name: "pattern", Usage: "only `NAME` (repeatable)"},
		&cli.StringSliceFlag{Name: "settings", Usage: "only settings variant `NAME` (repeatable)"},
		&cli.StringSliceFlag{Name: "fault", Usage: "only fault `NAME` (repeatable)"},
		&cli.BoolFlag{Name: "no-shrink", Usage: "do not shrink failing cases", Destination: &o.noShrink},
		&cli.DurationFlag{Name: "shrink-budget", Value: 20 * time.Second, Usage: "time to shrink one case, at most `DURATION`", Destination: &o.shrinkT},
	}
}
