package verifier

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/calldir/calldir/validate/verifier/crashvfs"
)

// replayPower plays a plan with a PowerFault. A fault without a write
// point (explore's) first gets one, picked with the plan's seed from a
// fault-free count of the plan's writes, and recorded in p.Power.
func replayPower(ctx context.Context, p *Plan, path string, opts Options) (*Report, error) {
	for _, st := range p.Steps {
		switch st.Kind {
		case StepBusy, StepReader, StepWriter:
			return nil, fmt.Errorf("line %d: a %s fault cannot be combined with %s: the other process would not write through the crash VFS", st.Line, p.Power.Kind, st.Kind)
		}
	}
	// One fault-free pass through the crash VFS counts the writes (for a
	// write point to pick) and each commit's writes (for powerAllowed).
	var count *crashed
	if p.Power.At < 0 || p.Power.Kind == "power-loss" {
		var err error
		if count, err = runCrashed(ctx, p, path, crashCount); err != nil {
			return nil, err
		}
	}
	if p.Power.At < 0 {
		rng := rand.New(rand.NewPCG(p.Seed, 0x77726974)) // "writ"
		p.Power.At = rng.Int64N(max(count.res.Writes, 1))
	}
	if p.Power.Kind == "disk-full" {
		return replayDiskFull(ctx, p, path, opts)
	}
	g, err := goldenRun(ctx, p)
	if err != nil {
		return nil, err
	}
	g.useTrace(count)
	rep, _, err := powerCase(ctx, p, g, path)
	return rep, err
}

// useTrace takes the write points of each commit point from a fault-free
// pass through the crash VFS, when it saw the golden run's commits.
func (g *golden) useTrace(cr *crashed) {
	if len(cr.commitWrites) == len(g.points) {
		g.writes = cr.commitWrites
	}
}

// traceWrites counts, through the crash VFS without a fault, the write
// points done by each commit point of the golden run, so that
// powerAllowed counts the commits that wrote.
func (g *golden) traceWrites(ctx context.Context, p *Plan, path string) error {
	cr, err := runCrashed(ctx, p, path, crashCount)
	if err != nil {
		return err
	}
	g.useTrace(cr)
	return nil
}

// crashCount runs through the crash VFS without a fault, to count the
// write points.
var crashCount = crashvfs.Config{PowerLossAt: -1, DiskFullAt: -1}

// crashed is what a run through the crash VFS did.
type crashed struct {
	res crashvfs.Result
	// commitWrites is, when traced, the write points done at each commit
	// point: a commit that did not write (a DELETE of no rows) is no
	// transaction a power loss can take back.
	commitWrites []int64
	stmt         int64 // the statement writing when the power failed (the plan's count after the last: closing)
	step         int   // the plan step it belongs to (len(Steps): closing)
	n            int64 // statements issued in all
}

// runCrashed creates the database, then plays the plan's steps through
// the crash VFS until the power fails (or to the end), and closes it.
// The statement writing at the failure is noted as the kill fault notes
// its statement: the driver's count before it.
func runCrashed(ctx context.Context, p *Plan, path string, cfg crashvfs.Config) (*crashed, error) {
	if err := createDB(ctx, path, p.Settings, p.Extensions); err != nil {
		return nil, fmt.Errorf("create model database: %w", err)
	}
	cr := &crashed{stmt: -1}
	var cur int64
	step := 0
	cfg.OnPowerLoss = func() { cr.stmt, cr.step = cur, step }
	run, err := crashvfs.Start(path, cfg)
	if err != nil {
		return nil, err
	}
	set := p.Settings
	set.VFS = crashvfs.Name
	err = func() error {
		// Driver.Close finalizes the prepared statements before closing:
		// SQLite's close_v2 keeps a connection with unfinalized statements
		// (and its files) open, and the power loss must rewrite the files.
		d, err := newDriver(ctx, path, set, p.Extensions)
		if err != nil {
			return err
		}
		defer d.Close()
		d.before = func(i int64) { cur = i }
		d.commit = func(int64) { cr.commitWrites = append(cr.commitWrites, run.Writes()) }
		for i, st := range p.Steps {
			if run.PoweredOff() {
				break
			}
			step = i
			if _, err := runStep(d, st); err != nil {
				return err
			}
		}
		cr.n, cur, step = d.n, d.n, len(p.Steps)
		return nil
	}()
	res, ferr := run.Finish()
	if err == nil {
		err = ferr
	}
	cr.res = res
	return cr, err
}

// powerCase plays the plan until the power fails, reboots and reopens the
// database with the plain VFS, and requires integrity and a state the
// settings allow (powerAllowed). Its outcome is the worse of that and the
// fault-free run's: the fault never hides the plan's own finding.
func powerCase(ctx context.Context, p *Plan, g *golden, path string) (*Report, *crashed, error) {
	f := p.Power
	seed := f.Seed
	if seed == 0 {
		seed = p.Seed
	}
	cr, err := runCrashed(ctx, p, path, crashvfs.Config{PowerLossAt: f.At, DiskFullAt: -1, Tear: f.Mode != "drop", Seed: seed, Sector: f.Sector})
	if err != nil {
		return nil, nil, err
	}
	rep := &Report{Settings: p.Settings.Short(), Statements: g.total, Outcome: Outcome{Class: ClassOK}}
	what := fmt.Sprintf("%s of %d", f, cr.res.Writes)
	where := fmt.Sprintf("during statement %d of %d (step %d: %s); reboot: %s", cr.stmt, g.total, cr.step+1, describe(p.Steps[min(cr.step, len(p.Steps)-1)]), cr.res)
	switch {
	case !cr.res.PoweredOff:
		what = fmt.Sprintf("%s: fault not reached, the plan made %d writes", f, cr.res.Writes)
		where, cr.stmt = "", g.total
	case cr.step == len(p.Steps):
		where = "while closing the database; reboot: " + cr.res.String()
	}
	rep.Steps = append(rep.Steps, StepReport{Index: max(min(cr.step, len(p.Steps)-1), 0), Step: what, Outcome: Outcome{Class: ClassOK, Detail: where}})
	state, out, sr := checkRecovered(ctx, p, path, powerAllowed(g, cr.stmt, p.Settings))
	sr.Step = "reopen after the power loss: " + state
	rep.Integrity = "ok"
	if state == "malformed" {
		rep.Integrity = out.Detail
	}
	if out.Class != ClassOK {
		out.Detail = joinDetail(out.Detail, where)
		sr.Outcome = out
	}
	if !cr.res.PoweredOff {
		out.Detail = joinDetail(out.Detail, "fault not reached")
	}
	rep.Steps = append(rep.Steps, sr)
	faultVerdict(rep, g.outcome, out)
	return rep, cr, nil
}

// A rollbackRule is how many commits before the last one a power loss may
// take back under a database's settings, and the setting that allows it.
type rollbackRule struct {
	commits int // -1: any since the database was created
	why     string
}

// rollbackAllowed is what SQLite documents for the settings
// (https://sqlite.org/pragma.html#pragma_synchronous, wal.html):
//
//	synchronous=extra            nothing rolls back
//	wal, synchronous=full        nothing: each commit syncs the WAL
//	wal, synchronous=normal      the commits since the last checkpoint
//	rollback journal, full       the last commit: the directory is not
//	                             synced after the journal is deleted
//	synchronous=off, journal off/memory, rollback journal + normal:
//	                             unsafe: SQLite documents lost commits and
//	                             corruption, so every loss is a finding
//	                             (explore lists these settings as unsafe)
func rollbackAllowed(s Settings) rollbackRule {
	wal := s.JournalMode == "wal"
	switch {
	case s.Synchronous == "extra":
		return rollbackRule{0, "synchronous=extra syncs every commit and the directory: nothing may roll back"}
	case s.Synchronous == "off" || s.JournalMode == "off" || s.JournalMode == "memory":
		return rollbackRule{0, fmt.Sprintf("journal_mode=%s with synchronous=%s is unsafe on power loss: nothing is allowed to roll back, every loss is a finding", s.JournalMode, s.Synchronous)}
	case wal && s.Synchronous == "full":
		return rollbackRule{0, "journal_mode=wal with synchronous=full syncs the WAL at every commit: nothing may roll back"}
	case wal:
		return rollbackRule{-1, "journal_mode=wal with synchronous=normal: the commits since the last checkpoint are not synced and may roll back"}
	case s.Synchronous == "normal":
		return rollbackRule{0, fmt.Sprintf("journal_mode=%s with synchronous=normal is unsafe on power loss: nothing is allowed to roll back, every loss is a finding", s.JournalMode)}
	}
	return rollbackRule{1, fmt.Sprintf("journal_mode=%s with synchronous=full: the directory is not synced after the journal is deleted, so the last commit may roll back", s.JournalMode)}
}

// allowedState is a state a power loss may leave: its name, its
// fingerprint, and for a rollback how many commits it took back.
type allowedState struct {
	name, print string
	back        int
}

// powerAllowed names the states a power loss during statement s may
// leave: the last commit before s ("before"), the commit s completes or
// the next one ("after", as for a kill), and the earlier commits the
// settings allow to roll back (rollbackAllowed). Anything else is a
// finding.
func powerAllowed(g *golden, s int64, set Settings) []allowedState {
	before, after := g.allowed(s)
	out := []allowedState{{name: "before", print: before}}
	if after != "" {
		out = append(out, allowedState{name: "after", print: after})
	}
	rule := rollbackAllowed(set)
	// undone[k] is the state before the k-th last commit that wrote
	// before s: what rolling back k commits leaves.
	var undone []string
	prev, lastWrites := g.initial, int64(-1)
	for i, at := range g.points {
		if at >= s {
			break
		}
		wrote := g.writes == nil || g.writes[i] != lastWrites
		if g.writes != nil {
			lastWrites = g.writes[i]
		}
		if wrote {
			undone = append(undone, prev)
		}
		prev = g.prints[i]
	}
	for back := 1; back <= len(undone) && (rule.commits < 0 || back <= rule.commits); back++ {
		out = append(out, allowedState{name: fmt.Sprintf("rolled back %d commit(s)", back), print: undone[len(undone)-back], back: back})
	}
	return out
}

// checkRecovered reopens the database after a power loss with the plain
// VFS (SQLite rolls back a hot journal or replays the WAL) and names the
// allowed state it is in, or the finding. A rollback the settings allow
// is ClassRolledBack: not a finding, but an app that stored the build ID
// of the rolled-back load believes the device holds it.
func checkRecovered(ctx context.Context, p *Plan, path string, allowed []allowedState) (string, Outcome, StepReport) {
	sr := StepReport{Outcome: Outcome{Class: ClassOK}}
	malformed := func(code int, detail string) (string, Outcome, StepReport) {
		sr.Outcome = Outcome{Class: ClassIntegrity, Code: code, Detail: detail}
		return "malformed", sr.Outcome, sr
	}
	db, conn, err := openDB(ctx, path, p.Settings, false)
	if err != nil {
		return malformed(SQLiteCode(err), "reopen after the power loss: "+err.Error())
	}
	defer db.Close()
	defer conn.Close()
	if res := integrity(ctx, conn); res != "ok" {
		return malformed(11, "after the power loss: "+res)
	}
	if n, err := foreignKeyViolations(ctx, conn); err == nil && n > 0 {
		sr.Outcome = Outcome{Class: ClassIntegrity, Detail: fmt.Sprintf("after the power loss: foreign_key_check: %d violations", n)}
		return "malformed", sr.Outcome, sr
	}
	sr.Metrics, _ = readMetrics(ctx, conn, path)
	got, nulls, err := dbFingerprint(ctx, conn, initialLedger(p))
	if err != nil {
		return malformed(SQLiteCode(err), "reading the rows after the power loss: "+err.Error())
	}
	if nulls > 0 {
		sr.Outcome = Outcome{Class: ClassRowsLost, Detail: fmt.Sprintf("%d entry rows with NULL references", nulls)}
		return "between", sr.Outcome, sr
	}
	for _, a := range allowed {
		if got != a.print {
			continue
		}
		if a.back > 0 {
			sr.Outcome = Outcome{Class: ClassRolledBack, Detail: a.name + " (" + rollbackAllowed(p.Settings).why + "); " + RolledBackWarning}
		}
		return a.name, sr.Outcome, sr
	}
	sr.Outcome = diffOutcome(got, allowed[0].print)
	why := rollbackAllowed(p.Settings).why
	sr.Outcome.Detail = "committed rows lost: neither the last committed state, the interrupted transaction's, nor a rollback the settings allow (" + why + "): " + sr.Outcome.Detail
	return "between", sr.Outcome, sr
}

// RolledBackWarning says what a rollback means for an app.
const RolledBackWarning = "an app that stored the build ID of a rolled-back load believes the device holds it; its next incremental load fails and wipes the extension (store the ID only after the next launch confirms it, or reload completely after a reboot)"

// replayDiskFull replays the plan through the crash VFS with the disk
// full from write At on, with every check of a plain replay.
func replayDiskFull(ctx context.Context, p *Plan, path string, opts Options) (*Report, error) {
	run, err := crashvfs.Start(path, crashvfs.Config{PowerLossAt: -1, DiskFullAt: p.Power.At})
	if err != nil {
		return nil, err
	}
	q := *p
	q.Settings.VFS = crashvfs.Name
	rep, err := replayInProcess(ctx, &q, path, opts, nil)
	res, ferr := run.Finish()
	if err != nil {
		return nil, err
	}
	if ferr != nil {
		return nil, ferr
	}
	rep.Settings = p.Settings.Short()
	note := fmt.Sprintf("%s of %d: %d writes refused with SQLITE_FULL", p.Power, res.Writes, res.Refused)
	if res.Writes <= p.Power.At {
		note = fmt.Sprintf("%s: fault not reached, the plan made %d writes", p.Power, res.Writes)
	}
	fault := rep.Outcome
	fault.Detail = joinDetail(fault.Detail, note)
	g, err := goldenRun(ctx, p)
	if err != nil {
		return nil, err
	}
	faultVerdict(rep, g.outcome, fault)
	return rep, nil
}

// ShrinkPower is Shrink for a plan with a PowerFault: after Shrink it
// tries earlier write points (the write point is absolute, so Shrink's
// step removals keep it only where the plan still fails there).
func ShrinkPower(ctx context.Context, p *Plan, fails func(*Plan) bool, budget time.Duration) *Plan {
	deadline := time.Now().Add(budget)
	best := Shrink(ctx, p, fails, budget)
	if best.Power == nil {
		return best
	}
	for progress := true; progress && ctx.Err() == nil && time.Now().Before(deadline); {
		progress = false
		at := best.Power.At
		for _, k := range []int64{0, at / 4, at / 2, at * 3 / 4, at - 1} {
			if k >= at || k < 0 {
				continue
			}
			q := clonePlan(best)
			f := *best.Power
			f.At, q.Power = k, &f
			if fails(q) {
				best, progress = q, true
				break
			}
		}
	}
	return best
}
