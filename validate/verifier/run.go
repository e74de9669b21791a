package verifier

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/calldir/calldir/shard/outfs"
	"github.com/calldir/calldir/validate/verifier/model"

	"github.com/calldir/calldir/shard"
)

// StepReport is one step's outcome and the database after it.
type StepReport struct {
	Index      int     `json:"index"`
	Line       int     `json:"line,omitempty"`
	Step       string  `json:"step"`
	Outcome    Outcome `json:"outcome"`
	Statements int64   `json:"statements"` // SQL statements the driver issued in this step
	Metrics    Metrics `json:"metrics"`
	Millis     float64 `json:"ms"`
}

// Report is a whole replay.
type Report struct {
	Settings             string       `json:"settings"`
	Steps                []StepReport `json:"steps"`
	Outcome              Outcome      `json:"outcome"` // the worst step outcome, or the kill check's
	Integrity            string       `json:"integrity"`
	ForeignKeyViolations int          `json:"foreign_key_violations"`
	Statements           int64        `json:"statements"`
	Kill                 *KillReport  `json:"kill,omitempty"`
	// With a fault, Outcome is the worse of these two: the plan's own
	// outcome without the fault, and what the fault left.
	FaultFree *Outcome `json:"fault_free_outcome,omitempty"`
	Fault     *Outcome `json:"fault_outcome,omitempty"`
}

// Options tune a replay.
type Options struct {
	Dir string // where the database goes; a temporary directory when empty
	// FullCheckRows: above this many entries per extension, the rows are
	// compared with the model by count after each step and in full only
	// at the end (a full comparison scans every row).
	FullCheckRows int64
	Progress      func(i int, st StepReport)
}

// CheckKeep refuses a directory to keep the database in (Options.Dir)
// that holds a CallDirectory.db calldir did not make, or SQLite files
// beside none: they are never replaced.
func CheckKeep(dir string) error {
	_, err := outfs.CheckClear(filepath.Join(dir, DBName), DBMark, dbCompanions...)
	return err
}

func (o *Options) dbPath() (string, func(), error) {
	if o.Dir != "" {
		if err := os.MkdirAll(o.Dir, 0o755); err != nil {
			return "", nil, err
		}
		// A database already there is replaced only when calldir made it
		// (its application_id), with its journal, WAL and shared memory.
		path := filepath.Join(o.Dir, DBName)
		if err := outfs.ClearFile(path, DBMark, dbCompanions...); err != nil {
			return "", nil, err
		}
		return path, func() {}, nil
	}
	dir, remove, err := outfs.ScratchDir("calldir-replay-")
	if err != nil {
		return "", nil, err
	}
	return filepath.Join(dir, DBName), remove, nil
}

// Replay runs a plan against a fresh model database and checks it after
// every step. The error is for a plan that cannot run at all (an unreadable
// shard, the database cannot be created); what the plan provokes is in the
// report.
func Replay(ctx context.Context, p *Plan, opts Options) (*Report, error) {
	if err := checkFaults(p); err != nil {
		return nil, err
	}
	path, cleanup, err := opts.dbPath()
	if err != nil {
		return nil, err
	}
	defer cleanup()
	if p.Power != nil {
		return replayPower(ctx, p, path, opts)
	}
	if p.Kill != nil {
		return replayKill(ctx, p, path)
	}
	return replayInProcess(ctx, p, path, opts, nil)
}

// checkFaults refuses plans whose faults cannot be combined deterministically.
func checkFaults(p *Plan) error {
	if p.Kill == nil {
		return nil
	}
	for _, st := range p.Steps {
		switch st.Kind {
		case StepBusy, StepReader, StepWriter:
			return fmt.Errorf("line %d: a kill fault cannot be combined with %s: the kill point must be deterministic", st.Line, st.Kind)
		case StepReopen, StepCorrupt:
			return fmt.Errorf("line %d: a kill fault cannot be combined with %s: the kill check compares one database file with a fault-free run", st.Line, st.Kind)
		}
	}
	return nil
}

// replay is one in-process run: the driver (the daemon under test), the
// reference model, and the report.
type replay struct {
	ctx    context.Context
	p      *Plan
	opts   Options
	d      *Driver
	m      *model.Model
	rep    *Report
	limit  int64
	armed  *Step
	helper *child
}

// replayInProcess runs the writer in this process. commit, when set, is
// called at every commit point with the statement index and the ledger.
func replayInProcess(ctx context.Context, p *Plan, path string, opts Options, commit func(int64, *Ledger)) (*Report, error) {
	if err := createDB(ctx, path, p.Settings, p.Extensions); err != nil {
		return nil, fmt.Errorf("create model database: %w", err)
	}
	d, err := newDriver(ctx, path, p.Settings, p.Extensions)
	if err != nil {
		return nil, err
	}
	defer func() { d.Close() }()
	if commit != nil {
		d.commit = func(i int64) { commit(i, d.ledger) }
	}
	r := &replay{ctx: ctx, p: p, opts: opts, d: d, m: model.New(p),
		rep: &Report{Settings: p.Settings.Short(), Outcome: Outcome{Class: ClassOK}}, limit: opts.FullCheckRows}
	if r.limit == 0 {
		r.limit = 250_000
	}
	for i, st := range p.Steps {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if err := r.step(i, st); err != nil {
			if st.Line == 0 { // a step of a build's or delta's plan
				return nil, fmt.Errorf("step %d: %w", i+1, err)
			}
			return nil, fmt.Errorf("step %d (plan line %d): %w", i+1, st.Line, err)
		}
	}
	r.rep.Statements = d.n
	finalChecks(ctx, d.conn, r.rep)
	return r.rep, nil
}

// step runs one plan step on the driver, judges it against the model and
// checks the database.
func (r *replay) step(i int, st Step) error {
	switch st.Kind {
	case StepBusy, StepReader, StepWriter:
		s := st
		r.armed = &s
		if _, err := r.m.Step(r.ctx, st); err != nil { // the model arms the fault for the next step
			return err
		}
		r.m.Choose(0)
		r.rep.Steps = append(r.rep.Steps, StepReport{Index: i, Line: st.Line, Step: describe(st), Outcome: Outcome{Class: ClassOK, Detail: "armed for the next step"}})
		return nil
	}
	start, n0 := time.Now(), r.d.n
	if r.armed != nil {
		h, err := startHelper(r.ctx, *r.armed, r.d.path, r.p)
		if err != nil {
			return err
		}
		r.helper, r.armed = h, nil
	}
	res, err := runStep(r.d, st)
	if err != nil {
		if r.helper != nil {
			r.helper.stop()
			r.helper = nil
		}
		return err
	}
	note := ""
	if r.helper != nil {
		note = r.helper.wait()
		r.helper = nil
	}
	out, err := judge(r.ctx, r.m, st, res, r.d.ledger)
	if err != nil {
		return err
	}
	out.Detail = joinDetail(out.Detail, note)
	sr := StepReport{Index: i, Line: st.Line, Step: describe(st), Statements: r.d.n - n0}
	chk := checkAfterStep(r.ctx, r.d, r.m, i == len(r.p.Steps)-1, r.limit)
	sr.Outcome = worse(out, chk)
	if sr.Outcome != out { // the check's finding, with what the step itself said
		sr.Outcome.Detail = joinDetail(chk.Detail, out.Detail)
	}
	sr.Metrics, _ = readMetrics(r.ctx, r.d.conn, r.d.path)
	sr.Millis = float64(time.Since(start).Microseconds()) / 1000
	r.rep.Steps = append(r.rep.Steps, sr)
	r.rep.Outcome = worse(r.rep.Outcome, sr.Outcome)
	if r.opts.Progress != nil {
		r.opts.Progress(i, sr)
	}
	return nil
}

func joinDetail(a, b string) string {
	if a == "" {
		return b
	}
	if b == "" {
		return a
	}
	return a + "; " + b
}

// finalChecks runs integrity_check and foreign_key_check at the end.
func finalChecks(ctx context.Context, conn *sql.Conn, rep *Report) {
	rep.Integrity = integrity(ctx, conn)
	if rep.Integrity != "ok" {
		rep.Outcome = worse(rep.Outcome, Outcome{Class: ClassIntegrity, Code: 11, Detail: "integrity_check: " + rep.Integrity})
	}
	n, err := foreignKeyViolations(ctx, conn)
	rep.ForeignKeyViolations = n
	if err == nil && n > 0 {
		rep.Outcome = worse(rep.Outcome, Outcome{Class: ClassIntegrity, Detail: fmt.Sprintf("foreign_key_check: %d violations", n)})
	}
}

// stepResult is what the driver did in one step, before the model judges it.
type stepResult struct {
	out       Outcome     // the driver's outcome: ok, a CallKit or SQLite error
	load      *LoadResult // a load's details
	recovered bool        // a reopen recreated the database
	expected  bool        // an expect-build step: out is the comparison, not a CallKit outcome
}

// runStep performs one step on the driver. The error is only for a plan
// that cannot run (an unreadable shard); SQLite and CallKit failures are
// outcomes.
func runStep(d *Driver, st Step) (stepResult, error) {
	var err error
	switch st.Kind {
	case StepLoad:
		res := d.Load(st)
		var se *SourceError
		if errors.As(res.Err, &se) {
			return stepResult{}, se
		}
		if errors.Is(res.Err, context.Canceled) {
			return stepResult{}, res.Err
		}
		sr := stepResult{out: Outcome{Class: ClassOK}, load: &res}
		if res.Err != nil {
			sr.out = outcomeOf(res.Err)
		}
		return sr, nil
	case StepMaintenance:
		err = d.Maintenance()
	case StepPrepare:
		err = d.Prepare()
	case StepDisable:
		err = d.Disable(st.Ext)
	case StepUnavailable:
		err = d.Unavailable(st.Ext)
	case StepRemoveExt:
		err = d.RemoveExtension(st.Ext)
	case StepDiskFull:
		err = d.SetMaxPageCount(st.Pages, st.Extra)
	case StepCorrupt:
		err = d.Corrupt(st.Table)
	case StepReopen:
		rec, err := d.Reopen()
		sr := stepResult{out: Outcome{Class: ClassOK}, recovered: rec}
		if err != nil {
			sr.out = outcomeOf(err)
		}
		return sr, nil
	case StepCheck:
		return stepResult{out: Outcome{Class: ClassOK}}, nil // checkAfterStep does the work
	case StepExpect:
		out, err := expectBuild(d, st.Path)
		return stepResult{out: out, expected: true}, err
	}
	if err != nil {
		return stepResult{out: outcomeOf(err)}, nil
	}
	return stepResult{out: Outcome{Class: ClassOK}}, nil
}

func describe(st Step) string {
	if st.Tag != "" && st.Kind == StepLoad {
		return st.Tag + ": " + describeKind(st)
	}
	return describeKind(st)
}

func describeKind(st Step) string {
	switch st.Kind {
	case StepLoad:
		mode := "complete"
		if st.Incremental {
			mode = "incremental"
		}
		var n int64
		shards := 0
		for _, op := range st.Ops {
			if c := op.Source.Count(); c > 0 {
				n += c
			} else if op.Source.Shard != "" {
				shards++
			}
		}
		s := fmt.Sprintf("load %s %s: %d op(s), %d numbers", st.Ext, mode, len(st.Ops), n)
		if shards > 0 {
			s += fmt.Sprintf(" + %d shard(s)", shards)
		}
		if st.FailAfter >= 0 {
			s += fmt.Sprintf(", fails after %d flush(es)", st.FailAfter)
		}
		return s
	case StepDisable, StepRemoveExt:
		return string(st.Kind) + " " + st.Ext
	case StepUnavailable:
		return "unavailable " + st.Ext + " [inferred: what makes state 5 is not known]"
	case StepCorrupt:
		return "corrupt table=" + st.Table
	case StepReopen:
		return "reopen (schema-version probe)"
	case StepDiskFull:
		if st.Extra > 0 {
			return fmt.Sprintf("disk-full extra=%d", st.Extra)
		}
		return fmt.Sprintf("disk-full pages=%d", st.Pages)
	case StepBusy, StepReader:
		return fmt.Sprintf("%s hold=%s", st.Kind, st.Hold)
	case StepWriter:
		return fmt.Sprintf("writer count=%d", st.Count)
	case StepExpect:
		return "expect-build " + filepath.Base(st.Path)
	}
	return string(st.Kind)
}

// expectBuild compares every extension's rows in the database with a
// build's shards (extensions named extN, as PlanFromBuild names them); an
// extension the build does not have must be empty. The error is for a
// build that cannot be read.
func expectBuild(d *Driver, dir string) (Outcome, error) {
	b, err := shard.LoadBuild(dir)
	if err != nil {
		return Outcome{}, err
	}
	want := buildDigests(b)
	var diffs []string
	for _, name := range d.ledger.order {
		bd, id, err := dbDigests(d.ctx, d.conn, d.ledger.exts[name].id)
		if err != nil {
			return outcomeOf(err), nil
		}
		w := want[name]
		if bd != w[0] || id != w[1] {
			diffs = append(diffs, fmt.Sprintf("%s: database %s blocking, %s identification; build %s, %s", name, bd, id, w[0], w[1]))
		}
		delete(want, name)
	}
	for name := range want {
		diffs = append(diffs, name+": in the build, not in the plan")
	}
	if len(diffs) > 0 {
		sort.Strings(diffs)
		return Outcome{Class: ClassRowsLost, Detail: "rows differ from build " + dir + ": " + strings.Join(diffs, "; ") + " (rows/digest)"}, nil
	}
	return Outcome{Class: ClassOK, Detail: fmt.Sprintf("every extension equals build %.12s…", b.Manifest.BuildID)}, nil
}
