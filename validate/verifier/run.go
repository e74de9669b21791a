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

	"github.com/calldir/calldir/shard"
)

// Outcome classes, from harmless to worst. A step's outcome is the worst
// thing it showed.
const (
	ClassOK        = "ok"
	ClassCallKit   = "callkit-error" // the load failed with a CallKit error
	ClassSQLite    = "sqlite-error"  // the load failed with a SQLite error
	ClassStuck     = "stuck-loading" // the failure path failed: state left at 3
	ClassZeroRows  = "zero-rows"     // a loaded extension left with zero rows
	ClassRowsLost  = "rows-lost"     // the database disagrees with the model
	ClassIntegrity = "integrity"     // malformed database
)

var classRank = map[string]int{ClassOK: 0, ClassCallKit: 1, ClassSQLite: 2, ClassStuck: 3, ClassZeroRows: 4, ClassRowsLost: 5, ClassIntegrity: 6}

// Outcome is what a step or a run ended in.
type Outcome struct {
	Class  string `json:"class"`
	Code   int    `json:"code,omitempty"` // CallKit or SQLite code
	Detail string `json:"detail,omitempty"`
}

func (o Outcome) String() string {
	switch o.Class {
	case ClassOK:
		return "ok"
	case ClassCallKit:
		return fmt.Sprintf("CallKit error %d", o.Code)
	case ClassSQLite:
		return fmt.Sprintf("SQLite %d (%s)", o.Code, sqliteName(o.Code))
	case ClassStuck:
		return "extension stuck loading"
	case ClassZeroRows:
		return "loaded extension left with zero rows"
	case ClassRowsLost:
		return "rows lost"
	case ClassIntegrity:
		return "integrity failure"
	}
	return o.Class
}

// Key identifies an outcome for shrinking: the same class and, for CallKit
// and SQLite errors, the same code. A malformed database is one finding
// whichever call first noticed it.
func (o Outcome) Key() string {
	if o.Class == ClassIntegrity || o.Class == ClassRowsLost {
		return o.Class
	}
	return fmt.Sprintf("%s/%d", o.Class, o.Code)
}

func worse(a, b Outcome) Outcome {
	if classRank[b.Class] > classRank[a.Class] {
		return b
	}
	return a
}

func sqliteName(code int) string {
	names := map[int]string{1: "SQLITE_ERROR", 5: "SQLITE_BUSY", 6: "SQLITE_LOCKED", 8: "SQLITE_READONLY", 10: "SQLITE_IOERR", 11: "SQLITE_CORRUPT", 13: "SQLITE_FULL", 14: "SQLITE_CANTOPEN", 19: "SQLITE_CONSTRAINT", 26: "SQLITE_NOTADB"}
	if n, ok := names[code]; ok {
		return n
	}
	return "code " + fmt.Sprint(code)
}

// outcomeOf classifies a step error.
func outcomeOf(err error) Outcome {
	var ck *CallKitError
	if errors.As(err, &ck) {
		return Outcome{Class: ClassCallKit, Code: ck.Code, Detail: ck.Msg}
	}
	if c := SQLiteCode(err); c != 0 {
		if c == 11 || c == 26 {
			return Outcome{Class: ClassIntegrity, Code: c, Detail: err.Error()}
		}
		return Outcome{Class: ClassSQLite, Code: c, Detail: err.Error()}
	}
	return Outcome{Class: ClassSQLite, Code: 1, Detail: err.Error()}
}

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

func (o *Options) dbPath() (string, func(), error) {
	if o.Dir != "" {
		if err := os.MkdirAll(o.Dir, 0o755); err != nil {
			return "", nil, err
		}
		return filepath.Join(o.Dir, "CallDirectory.db"), func() {}, nil
	}
	dir, err := os.MkdirTemp("", "calldir-replay-")
	if err != nil {
		return "", nil, err
	}
	return filepath.Join(dir, "CallDirectory.db"), func() { os.RemoveAll(dir) }, nil
}

// Replay runs a plan against a fresh model database and checks it after
// every step. The error is for a plan that cannot run at all (an unreadable
// shard, the database cannot be created); what the plan provokes is in the
// report.
func Replay(ctx context.Context, p *Plan, opts Options) (*Report, error) {
	if err := p.check(); err != nil {
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

// check refuses plans whose faults cannot be combined deterministically.
func (p *Plan) check() error {
	if p.Kill == nil {
		return nil
	}
	for _, st := range p.Steps {
		switch st.Kind {
		case StepBusy, StepReader, StepWriter:
			return fmt.Errorf("line %d: a kill fault cannot be combined with %s: the kill point must be deterministic", st.Line, st.Kind)
		}
	}
	return nil
}

// replayInProcess runs the writer in this process. commit, when set, is
// called at every commit point with the statement index and the model.
func replayInProcess(ctx context.Context, p *Plan, path string, opts Options, commit func(int64, *Model)) (*Report, error) {
	if err := createDB(ctx, path, p.Settings, p.Extensions); err != nil {
		return nil, fmt.Errorf("create model database: %w", err)
	}
	db, conn, err := openDB(ctx, path, p.Settings, false)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	defer conn.Close()
	d, err := newDriver(ctx, db, conn, p.Settings, p.Extensions)
	if err != nil {
		return nil, err
	}
	if commit != nil {
		d.commit = func(i int64) { commit(i, d.model) }
	}
	rep := &Report{Settings: p.Settings.Short(), Outcome: Outcome{Class: ClassOK}}
	limit := opts.FullCheckRows
	if limit == 0 {
		limit = 250_000
	}
	var armed *Step
	for i, st := range p.Steps {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		switch st.Kind {
		case StepBusy, StepReader, StepWriter:
			s := st
			armed = &s
			rep.Steps = append(rep.Steps, StepReport{Index: i, Line: st.Line, Step: describe(st), Outcome: Outcome{Class: ClassOK, Detail: "armed for the next step"}})
			continue
		}
		start, n0 := time.Now(), d.n
		var out Outcome
		var helper *child
		if armed != nil {
			helper, err = startHelper(ctx, *armed, path, p)
			if err != nil {
				return nil, err
			}
		}
		out, err = runStep(d, st)
		if err != nil {
			if helper != nil {
				helper.stop()
			}
			if st.Line == 0 { // a step of a build's or delta's plan
				return nil, fmt.Errorf("step %d: %w", i+1, err)
			}
			return nil, fmt.Errorf("step %d (plan line %d): %w", i+1, st.Line, err)
		}
		if helper != nil {
			if note := helper.wait(); note != "" {
				out.Detail = joinDetail(out.Detail, note)
			}
			armed = nil
		}
		sr := StepReport{Index: i, Line: st.Line, Step: describe(st), Statements: d.n - n0}
		sr.Outcome = worse(out, checkAfterStep(ctx, d, path, i == len(p.Steps)-1, limit))
		if sr.Outcome.Class == ClassOK && out.Detail != "" {
			sr.Outcome.Detail = out.Detail
		}
		sr.Metrics, _ = readMetrics(ctx, conn, path)
		sr.Millis = float64(time.Since(start).Microseconds()) / 1000
		rep.Steps = append(rep.Steps, sr)
		rep.Outcome = worse(rep.Outcome, sr.Outcome)
		if opts.Progress != nil {
			opts.Progress(i, sr)
		}
	}
	rep.Statements = d.n
	finalChecks(ctx, conn, rep)
	return rep, nil
}

func joinDetail(a, b string) string {
	if a == "" {
		return b
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

// runStep performs one step on the driver. The error is only for a plan
// that cannot run (an unreadable shard); SQLite and CallKit failures are
// outcomes.
func runStep(d *Driver, st Step) (Outcome, error) {
	var err error
	switch st.Kind {
	case StepLoad:
		res := d.Load(st)
		var se *SourceError
		if errors.As(res.Err, &se) {
			return Outcome{}, se
		}
		if errors.Is(res.Err, context.Canceled) {
			return Outcome{}, res.Err
		}
		if res.Err == nil {
			return Outcome{Class: ClassOK}, nil
		}
		out := outcomeOf(res.Err)
		switch {
		case res.StuckIn3:
			out = Outcome{Class: ClassStuck, Code: out.Code, Detail: "the failure path failed after: " + out.String() + ": " + out.Detail}
		case res.ZeroRows:
			out = Outcome{Class: ClassZeroRows, Code: out.Code, Detail: fmt.Sprintf("after %s (%s): state 4 (loaded, still eligible for incremental loads), 0 rows", out, out.Detail)}
		}
		return out, nil
	case StepMaintenance:
		err = d.Maintenance()
	case StepPrepare:
		err = d.Prepare()
	case StepDisable:
		err = d.Disable(st.Ext)
	case StepRemoveExt:
		err = d.RemoveExtension(st.Ext)
	case StepDiskFull:
		err = d.SetMaxPageCount(st.Pages, st.Extra)
	case StepCheck:
		return Outcome{Class: ClassOK}, nil // checkAfterStep does the work
	case StepExpect:
		return expectBuild(d, st.Path)
	}
	if err != nil {
		return outcomeOf(err), nil
	}
	return Outcome{Class: ClassOK}, nil
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
	want := map[string][2]digest{}
	for ext, e := range b.Exts {
		var bd, id digest
		for i, n := range e.Numbers {
			if e.Kind == shard.KindIdentify {
				id.add(identHash(n, e.Labels[i]))
			} else {
				bd.add(blockHash(n))
			}
		}
		want[extName(ext)] = [2]digest{bd, id}
	}
	var diffs []string
	for _, name := range d.model.order {
		bd, id, err := dbDigests(d.ctx, d.conn, d.model.exts[name].id)
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
