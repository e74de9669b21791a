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
	if p.Power.At < 0 {
		cr, err := runCrashed(ctx, p, path, crashCount)
		if err != nil {
			return nil, err
		}
		rng := rand.New(rand.NewPCG(p.Seed, 0x77726974)) // "writ"
		p.Power.At = rng.Int64N(max(cr.res.Writes, 1))
	}
	if p.Power.Kind == "disk-full" {
		return replayDiskFull(ctx, p, path, opts)
	}
	g, err := goldenRun(ctx, p)
	if err != nil {
		return nil, err
	}
	rep, _, err := powerCase(ctx, p, g, path)
	return rep, err
}

// crashCount runs through the crash VFS without a fault, to count the
// write points.
var crashCount = crashvfs.Config{PowerLossAt: -1, DiskFullAt: -1}

// crashed is what a run through the crash VFS did.
type crashed struct {
	res  crashvfs.Result
	stmt int64 // the statement writing when the power failed (the plan's count after the last: closing)
	step int   // the plan step it belongs to (len(Steps): closing)
	n    int64 // statements issued in all
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
// database with the plain VFS, and requires integrity and a committed
// state (powerAllowed).
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
		what = fmt.Sprintf("%s: never reached, the plan made %d writes", f, cr.res.Writes)
		where, cr.stmt = "", g.total
	case cr.step == len(p.Steps):
		where = "while closing the database; reboot: " + cr.res.String()
	}
	rep.Steps = append(rep.Steps, StepReport{Index: max(min(cr.step, len(p.Steps)-1), 0), Step: what, Outcome: Outcome{Class: ClassOK, Detail: where}})
	state, out, sr := checkRecovered(ctx, p, path, powerAllowed(g, cr.stmt))
	sr.Step = "reopen after the power loss: " + state
	rep.Integrity = "ok"
	if state == "malformed" {
		rep.Integrity = out.Detail
	}
	if out.Class != ClassOK {
		out.Detail = joinDetail(out.Detail, where)
		sr.Outcome = out
	}
	rep.Steps = append(rep.Steps, sr)
	rep.Outcome = out
	return rep, cr, nil
}

// statePrevious is the reopened state of a power loss that rolled back
// the transaction committed last.
const statePrevious = "previous (the last transaction rolled back)"

// powerAllowed names the states a power loss during statement s may
// leave: the last commit before s ("before"), the commit s completes or
// the next one ("after", as for a kill), and the last different state
// before "before" ("previous"): with synchronous=FULL in DELETE mode
// SQLite does not sync the directory after deleting the journal, so the
// transaction committed last may come back rolled back until the next
// transaction's journal syncs the directory (synchronous=EXTRA syncs it).
// Anything older must survive.
func powerAllowed(g *golden, s int64) [][2]string {
	before, after := g.allowed(s)
	prev := ""
	last := g.initial
	for i, at := range g.points {
		if at >= s {
			break
		}
		if g.prints[i] != last {
			prev, last = last, g.prints[i]
		}
	}
	out := [][2]string{{"before", before}}
	if after != "" {
		out = append(out, [2]string{"after", after})
	}
	if prev != "" {
		out = append(out, [2]string{statePrevious, prev})
	}
	return out
}

// checkRecovered reopens the database after a power loss with the plain
// VFS (SQLite rolls back a hot journal or replays the WAL) and names the
// allowed state it is in, or the finding.
func checkRecovered(ctx context.Context, p *Plan, path string, allowed [][2]string) (string, Outcome, StepReport) {
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
		if got == a[1] {
			return a[0], sr.Outcome, sr
		}
	}
	sr.Outcome = diffOutcome(got, allowed[0][1])
	sr.Outcome.Detail = "committed rows lost: neither the last committed state nor the interrupted transaction's: " + sr.Outcome.Detail
	return "between", sr.Outcome, sr
}

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
		note = fmt.Sprintf("%s: never reached, the plan made %d writes", p.Power, res.Writes)
	}
	rep.Outcome.Detail = joinDetail(rep.Outcome.Detail, note)
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
