package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/calldir/calldir/validate/verifier"
	"github.com/urfave/cli/v2"
)

type replayOpts struct {
	format      string
	keep        string
	set         []string
	target      string
	maintenance int
	report      string
}

func replayCommand(e *env) *cli.Command {
	var o replayOpts
	return &cli.Command{
		Name:      "replay",
		Usage:     "replay a plan (or load a build) against a SQLite model of CallDirectory.db and check it after every step",
		ArgsUsage: "PLAN | BUILD_DIR [DELTA_DIR...]",
		Description: withExamples(`
Runs the reloads of a plan file (docs/VERIFIER.md) the way iOS's call-directory
daemon writes them: the same SQL statements, one transaction per 10,000-entry
flush of 500-row statements, CallKit's order, duplicate and cap checks, the
failure path and the extension state machine. A reference model applies
CallKit's rules to the plan on its own and predicts each step's outcome and
every extension's state and rows; after every step the replay's outcome, what
it committed and the database are compared with it ("model disagrees",
"rows lost", "state differs"), with quick_check and metrics (rows, pages,
free pages, file, journal and WAL bytes, time). At the end: integrity_check
and foreign_key_check. Behaviour the model infers is marked [inferred].

Given a build directory, replays one complete load per extension of its
shards; given delta directories after it, then applies each delta as a
device would (incremental loads of its requests, complete loads of the
extensions it ships whole). A delta whose base is not the build the device
has at that point is refused before any row changes. --target NEW_BUILD
ends the replay by requiring every extension's rows to equal NEW_BUILD. A plan with "fault kill at=K" runs the writer as a child process,
kills it before statement K, reopens the database and requires integrity and
the state before or after the interrupted transaction; the outcome is the
worse of that and the plan's own outcome without the fault (both printed).

--report FILE also writes the replay as one self-contained HTML page (no
network): the summary, the settings, the findings, and plots per step of
the rows, file size, free pages, journal and WAL bytes and time, each
finding marked on the timeline (docs/REPORT.md). A regular file at FILE is
replaced only if it is empty or a report calldir wrote; a FIFO or device is
written through, a symlink followed; a directory is refused.

Exit status 1 when the replay ends in anything but ok (a CallKit or SQLite
error, a stuck or emptied extension, a disagreement with the model, rows
lost or a state that differs, a malformed database).

SETTINGS (set KEY=VALUE in a plan, or --set KEY=VALUE):
` + replaySettings() + `
EXAMPLES:
   calldir replay build
   calldir replay fixtures/plans/out-of-order.plan
   calldir replay --set journal_mode=wal --format json my.plan
   calldir replay --keep /tmp/db my.plan && sqlite3 /tmp/db/CallDirectory.db .tables
   calldir replay --target build-day3 build-day0 delta-day1 delta-day2 delta-day3
   calldir replay --report chain.html --target build-day3 build-day0 delta-day1 delta-day2 delta-day3`),
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Value: "text", Usage: "output `FORMAT`: text or json", Destination: &o.format},
			&cli.StringFlag{Name: "keep", Usage: "write the database into `DIR` and keep it (default: a temporary directory)", Destination: &o.keep},
			&cli.StringSliceFlag{Name: "set", Usage: "override a plan setting, `KEY=VALUE` (repeatable; see docs/VERIFIER.md)"},
			&cli.StringFlag{Name: "target", Usage: "with deltas: require the final rows to equal build `DIR`", Destination: &o.target},
			&cli.StringFlag{Name: "report", Usage: "also write the replay as a self-contained HTML page to `FILE`", Destination: &o.report},
			&cli.IntFlag{Name: "maintenance-every", Usage: "with deltas: run maintenance (orphan cleanup, VACUUM) after every `N` deltas", Destination: &o.maintenance},
		},
		Action: func(c *cli.Context) error {
			if c.Args().Len() < 1 {
				return usagef("replay: want a PLAN file, or a BUILD_DIR and any delta directories")
			}
			if o.format != "text" && o.format != "json" {
				return usagef("--format %q: want text or json", o.format)
			}
			if o.maintenance < 0 {
				return usagef("--maintenance-every %d: want a number of deltas, or 0 (the default) for no maintenance", o.maintenance)
			}
			o.set = c.StringSlice("set")
			return runReplay(c.Context, o, c.Args().Slice(), e)
		},
	}
}

// loadPlan reads a plan file, or makes the plan of a build directory and
// the deltas after it.
func loadPlan(args []string, o replayOpts) (*verifier.Plan, error) {
	path := args[0]
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if fi.IsDir() {
		if len(args) == 1 && o.target == "" && o.maintenance == 0 {
			return verifier.PlanFromBuild(path)
		}
		return verifier.PlanFromDeltas(path, args[1:], o.target, o.maintenance)
	}
	if len(args) > 1 || o.target != "" {
		return nil, usagef("replay: a plan file takes no delta directories or --target")
	}
	if o.maintenance > 0 {
		return nil, usagef("replay: --maintenance-every runs between deltas: a plan file takes none (it may say \"maintenance\" itself)")
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	dir, err := filepath.Abs(filepath.Dir(path))
	if err != nil {
		return nil, err
	}
	p, err := verifier.ParsePlan(f, path, dir)
	if err != nil {
		return nil, usageError{err}
	}
	return p, nil
}

func runReplay(ctx context.Context, o replayOpts, args []string, e *env) error {
	path := strings.Join(args, " ")
	// Every path is checked before anything is read.
	if err := checkReplayPaths(args, o.keep, o.report); err != nil {
		return err
	}
	p, err := loadPlan(args, o)
	if err != nil {
		return err
	}
	for _, kv := range o.set {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return usagef("--set %q: want KEY=VALUE", kv)
		}
		if err := p.Settings.Set(k, v); err != nil {
			return usageError{err}
		}
	}
	// The report's temporary file is made before the replay, which may
	// take minutes.
	var html *htmlOut
	if o.report != "" {
		if html, err = openHTMLReport(o.report, replayTitle(args, o.target), p); err != nil {
			return err
		}
		defer html.discard()
	}
	opts := verifier.Options{Dir: o.keep}
	// The steps finished so far, printed if the run is interrupted: the
	// verifier returns no report then.
	var done []verifier.StepReport
	status := isTerminal(e.stderr) && len(p.Steps) > 1
	opts.Progress = func(i int, st verifier.StepReport) {
		done = append(done, st)
		if status {
			fmt.Fprintf(e.stderr, "\r\033[Kstep %d/%d: %s: %s", i+1, len(p.Steps), st.Step, st.Outcome)
		}
		if e.rowDone != nil {
			e.rowDone()
		}
	}
	rep, err := verifier.Replay(ctx, p, opts)
	if status {
		fmt.Fprint(e.stderr, "\r\033[K")
	}
	if errors.Is(err, context.Canceled) {
		perr := printPartialReplay(e.stdout, o.format, path, p, done)
		partial := &verifier.Report{Settings: p.Settings.Short(), Steps: done, Outcome: verifier.Outcome{Class: verifier.ClassOK}}
		for _, s := range done {
			partial.Statements += s.Statements
		}
		return errors.Join(err, perr, html.write(partial, true))
	}
	if err != nil {
		return err
	}
	if err := printReplayReport(e.stdout, o.format, path, rep); err != nil {
		return err
	}
	if err := html.write(rep, false); err != nil {
		return err
	}
	if rep.Outcome.Finding() {
		return findingsError{rep.Outcome.String()}
	}
	return nil
}

// printReplayReport prints a finished replay as text or JSON.
func printReplayReport(w io.Writer, format, path string, rep *verifier.Report) error {
	if format == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	printReplay(w, path, rep)
	return nil
}

// printPartialReplay prints the steps an interrupted replay finished,
// without the final checks, which did not run.
func printPartialReplay(w io.Writer, format, path string, p *verifier.Plan, done []verifier.StepReport) error {
	if format == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			Settings    string                `json:"settings"`
			Steps       []verifier.StepReport `json:"steps"`
			Interrupted bool                  `json:"interrupted"`
		}{p.Settings.Short(), append([]verifier.StepReport{}, done...), true})
	}
	printReplaySteps(w, path, p.Settings.Short(), done, true)
	_, err := fmt.Fprintf(w, "interrupted after %d of %d steps: no final integrity_check or foreign_key_check\n", len(done), len(p.Steps))
	return err
}

func printReplay(w io.Writer, path string, rep *verifier.Report) {
	printReplaySteps(w, path, rep.Settings, rep.Steps, false)
	if k := rep.Kill; k != nil {
		fmt.Fprintf(w, "kill before statement %d of %d", k.At, k.Statements)
		if k.Then != "" {
			fmt.Fprintf(w, ", then %s", k.Then)
		}
		if !k.Killed {
			fmt.Fprint(w, " (never reached: the plan ran to the end)")
		}
		fmt.Fprintf(w, ": reopened database is %s\n", map[string]string{"before": "in the state before the interrupted transaction", "after": "in the state after the interrupted transaction", "between": "in neither the state before nor after: rows lost", "malformed": "malformed"}[k.State])
		if f := rep.Fault; f != nil && f.Detail != "" && f.Class != verifier.ClassOK {
			fmt.Fprintf(w, "  %s\n", f.Detail)
		}
	}
	if rep.FaultFree != nil && rep.Fault != nil {
		fmt.Fprintf(w, "fault-free run of the plan: %s", rep.FaultFree)
		if rep.FaultFree.Detail != "" && rep.FaultFree.Class != verifier.ClassOK {
			fmt.Fprintf(w, " (%s)", rep.FaultFree.Detail)
		}
		fmt.Fprintf(w, "; after the fault: %s", rep.Fault)
		if rep.Kill == nil && rep.Fault.Detail != "" {
			fmt.Fprintf(w, " (%s)", rep.Fault.Detail)
		}
		fmt.Fprint(w, "; the outcome is the worse of the two\n")
	}
	fk := "ok"
	switch {
	case rep.Kill != nil:
		fk = "not run (kill replay)"
	case rep.ForeignKeyViolations > 0:
		fk = fmt.Sprintf("%d violations", rep.ForeignKeyViolations)
	}
	fmt.Fprintf(w, "outcome: %s; integrity_check: %s; foreign_key_check: %s; %d SQL statements\n", rep.Outcome, rep.Integrity, fk, rep.Statements)
	if rep.Outcome.Class == verifier.ClassRolledBack || rep.Fault != nil && rep.Fault.Class == verifier.ClassRolledBack {
		fmt.Fprintf(w, "warning: the power loss rolled back commits the settings allow to roll back (not a finding): %s\n", verifier.RolledBackWarning)
	}
}

// printReplaySteps prints the header, one row per step and the details.
// byIndex numbers the rows by their plan step (a partial replay's list
// leaves out the armed steps, which the verifier reports only at the
// end) rather than by their place in the list (a kill replay's reopen
// row has no plan step).
func printReplaySteps(w io.Writer, path, settings string, steps []verifier.StepReport, byIndex bool) {
	number := func(i int, s verifier.StepReport) int {
		if byIndex {
			return s.Index + 1
		}
		return i + 1
	}
	fmt.Fprintf(w, "replay %s (settings: %s)\n", path, settings)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "#\tline\tstep\toutcome\tstmts\trows\tpages\tfree\tfile\tjournal\twal\tms\t")
	for i, s := range steps {
		m := s.Metrics
		line := "-"
		if s.Line > 0 {
			line = fmt.Sprint(s.Line)
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%d\t%s\t%d\t%d\t%s\t%s\t%s\t%.1f\t\n", number(i, s), line, s.Step, s.Outcome,
			s.Statements, group(m.Rows), m.PageCount, m.FreelistCount, bytesText(m.FileBytes), bytesText(m.JournalBytes), bytesText(m.WALBytes), s.Millis)
	}
	tw.Flush()
	for i, s := range steps {
		if s.Outcome.Detail != "" {
			fmt.Fprintf(w, "step %d: %s: %s\n", number(i, s), s.Outcome, s.Outcome.Detail)
		}
	}
}

func bytesText(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1fG", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1fM", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.0fK", float64(n)/(1<<10))
	}
	return fmt.Sprint(n)
}
