package verifier

import (
	"context"
	"errors"
	"fmt"

	"github.com/mattn/go-sqlite3"
)

// Model is the reference: CallKit's rules applied to the plan on their
// own, with no SQL. For every step it predicts the outcome (ok, CallKit
// error N, or the SQLite 19 of an incremental re-add) and every
// extension's state and rows, from the order and duplicate checks
// (CALLKIT.md §1.3), the cap (§1.4), the state machine and the failure
// path (§1.7). After every step the driver's outcome, the driver's ledger
// and the database are compared with it: a driver that breaks one of
// these rules is a finding of replay itself ("model disagrees").
//
// The extension side (which batches reach the daemon, §1.2) is shared
// with the driver (extension.go): the model checks the daemon, not the
// extension. Faults of the environment (SQLITE_BUSY, FULL, IOERR,
// CORRUPT, a failed read of the store) cannot be predicted; the model is
// told of them and predicts their consequences (the failure path), or
// takes the ledger's word where CallKit's reaction is unknown.
type Model struct {
	rowSet
	set Settings
}

func newModel(set Settings, exts []ExtDef) *Model {
	m := &Model{rowSet: newRowSet(), set: set}
	for _, e := range exts {
		m.addExt(e.Name, 0)
	}
	return m
}

// observed is what the model is told about a step: the driver's
// environmental failure, if any, and what it cannot know otherwise.
type observed struct {
	env       *Outcome // the driver's outcome when the environment failed
	batch     int      // batches the extension had sent when the load ended
	stuck     bool     // the failure path itself failed
	recovered bool     // a reopen found SQLITE_CORRUPT and recreated the file
	ledger    *Ledger  // the driver's committed state, adopted after a fault the model does not model
}

// prediction is the model's outcome for one step.
type prediction struct {
	out        Outcome
	prevLoaded bool   // a load of a loaded extension
	note       string // an [inferred] behaviour the step relied on
}

// environmental is true for a failure that no CallKit rule produces: the
// SQLite codes of a busy, locked, full, read-only or damaged database, and
// error 0 (reading or updating the store failed, CALLKIT.md §1.5).
func environmental(o Outcome) bool {
	switch o.Class {
	case ClassCallKit:
		return o.Code == ErrUnknown
	case ClassSQLite, ClassIntegrity:
		switch o.Code {
		case 5, 6, 8, 10, 11, 13, 14, 26:
			return true
		}
	}
	return false
}

// envError carries an environmental failure through the model's batches.
type envError struct{ out Outcome }

func (e *envError) Error() string { return e.out.Detail }

// Step predicts one step and moves the model past it.
func (m *Model) Step(ctx context.Context, st Step, obs observed) (prediction, error) {
	if st.Kind == StepLoad {
		return m.load(ctx, st, obs)
	}
	if obs.env != nil {
		m.adopt(obs.ledger)
		return prediction{out: *obs.env}, nil
	}
	present := func(f func(e *extRows)) {
		for _, name := range m.order {
			if e := m.exts[name]; e.state != 0 {
				f(e)
			}
		}
	}
	p := prediction{out: Outcome{Class: ClassOK}}
	switch st.Kind {
	case StepMaintenance:
		present(func(e *extRows) {
			switch e.state {
			case StateSwitchedOff:
				e.clearAll()
				e.state = StateDisabled
			case StateUnavailable:
				e.clearAll()
				e.state = 0
				p.note = "state-5 extensions purged without waiting for their purge timeout [inferred]"
			}
		})
	case StepPrepare:
		present(func(e *extRows) {
			if e.state == StateLoading {
				e.state = StateLoaded
			}
		})
	case StepReopen:
		m.reopen(obs.recovered)
	case StepDisable, StepUnavailable:
		if e := m.ext(st.Ext); e.state != 0 {
			e.state = map[StepKind]int{StepDisable: StateSwitchedOff, StepUnavailable: StateUnavailable}[st.Kind]
		}
	case StepRemoveExt:
		e := m.ext(st.Ext)
		e.clearAll()
		e.state = 0
	}
	return p, nil
}

// reopen: after a recovery every extension still registered is back in
// state 1 with no rows [inferred]; otherwise the stuck-loading check runs.
func (m *Model) reopen(recovered bool) {
	for _, name := range m.order {
		e := m.exts[name]
		switch {
		case e.state == 0:
		case recovered:
			e.clearAll()
			e.state = StateDisabled
		case e.state == StateLoading:
			e.state = StateLoaded
		}
	}
}

// adopt makes the model hold what the driver committed.
func (m *Model) adopt(l *Ledger) {
	for _, name := range m.order {
		m.exts[name].copyFrom(l.ext(name))
	}
}

// load predicts one reload request.
func (m *Model) load(ctx context.Context, st Step, obs observed) (prediction, error) {
	e := m.ext(st.Ext)
	if obs.env != nil && obs.env.Class == ClassCallKit && obs.env.Code == ErrUnknown {
		return prediction{out: *obs.env}, nil // the store failed before anything changed
	}
	if code := refusedBy(e.state); code >= 0 {
		return prediction{out: Outcome{Class: ClassCallKit, Code: code}}, nil
	}
	p := prediction{out: Outcome{Class: ClassOK}, prevLoaded: e.state == StateLoaded}
	rq := &modelRequest{e: e, incremental: st.Incremental && p.prevLoaded, last: map[OpKind]int64{}}
	rq.cleared = rq.incremental
	e.state = StateLoading
	x := newExtension(m.set, rq.incremental, st.FailAfter)
	err := x.run(ctx, st.Ops, func(b batch) error {
		if err := rq.check(b); err != nil {
			return err
		}
		if obs.env != nil && x.sent >= obs.batch {
			return &envError{*obs.env}
		}
		return rq.write(b)
	})
	if err == nil && obs.env != nil {
		err = &envError{*obs.env}
	}
	if err == nil {
		if !rq.cleared {
			e.clearAll() // the initial deletion of a load that added nothing
		}
		e.state = StateLoaded
		return p, nil
	}
	var se *SourceError
	if errors.As(err, &se) || errors.Is(err, context.Canceled) {
		return p, err
	}
	var ee *envError
	if errors.As(err, &ee) {
		p.out = ee.out
	} else {
		p.out = outcomeOf(err)
	}
	if obs.stuck { // what the failed failure path left is not CallKit's rule
		e.copyFrom(obs.ledger.ext(st.Ext))
		return p, nil
	}
	e.clearAll()
	e.state = StateDisabled
	if p.prevLoaded {
		e.state = StateLoaded
	}
	return p, nil
}

// refusedBy is the CallKit error a load of an extension in state s gets
// before anything is written, or -1 (CALLKIT.md §1.7 table, §1.5).
func refusedBy(s int) int {
	switch s {
	case 0:
		return ErrNoExtension
	case StateSwitchedOff:
		return ErrDisabled
	case StateLoading:
		return ErrCurrentlyLoading
	case StateUnavailable:
		return ErrUnavailable
	}
	return -1
}

// modelRequest is one request's counters in the model.
type modelRequest struct {
	e           *extRows
	incremental bool
	cleared     bool
	last        map[OpKind]int64 // per kind: blocking and identification are separate sequences
	added       int64
}

// check is CALLKIT.md §1.4 then §1.3 on a batch of additions: the cap on
// entries added so far plus the batch, then each number strictly above the
// previous one of its kind (the first compared with 0).
func (q *modelRequest) check(b batch) error {
	if b.kind != OpBlock && b.kind != OpIdentify {
		return nil
	}
	size := int64(len(b.entries))
	total := q.added + size
	if total >= entryCap {
		return &CallKitError{ErrMaxEntries, fmt.Sprintf("model: %d + %d entries reach the cap of %d", q.added, size, entryCap)}
	}
	prev := q.last[b.kind]
	for _, en := range b.entries {
		if en.num > prev {
			prev = en.num
			continue
		}
		code := ErrOutOfOrder
		if en.num == prev {
			code = ErrDuplicate
		}
		return &CallKitError{code, fmt.Sprintf("model: %s number %d after %d", b.kind, en.num, prev)}
	}
	q.last[b.kind], q.added = prev, total
	return nil
}

// write applies a checked batch to the extension's rows.
func (q *modelRequest) write(b batch) error {
	e := q.e
	switch b.kind {
	case OpBlock, OpIdentify:
		if !q.cleared {
			e.clearAll() // the initial deletion, before the first add
			q.cleared = true
		}
		if b.kind == OpIdentify {
			for _, en := range b.entries {
				e.addIdent(en.num, en.label)
			}
			return nil
		}
		for _, en := range b.entries {
			if e.hasBlock(en.num) { // UNIQUE(extension_id, phone_number_id), CALLKIT.md §1.5
				return sqlite3.Error{Code: sqlite3.ErrConstraint, ExtendedCode: sqlite3.ErrConstraintUnique}
			}
		}
		for _, en := range b.entries {
			e.addBlock(en.num)
		}
	case OpRemoveBlock:
		for _, en := range b.entries {
			e.removeBlock(en.num)
		}
	case OpRemoveIdentify:
		for _, en := range b.entries {
			e.removeIdent(en.num)
		}
	case OpRemoveAll:
		e.clearAll()
	case OpRemoveAllBlock:
		e.clearBlock()
	case OpRemoveAllIdentify:
		e.clearIdent()
	}
	return nil
}

// judge compares the driver's outcome of a step with the model's
// prediction and returns the step's outcome: "model disagrees" when they
// differ, the driver's outcome otherwise (reclassified as stuck or zero
// rows where the model says so).
func (m *Model) judge(ctx context.Context, st Step, res stepResult, l *Ledger) (Outcome, error) {
	if res.expected || st.Kind == StepCheck {
		return res.out, nil
	}
	obs := observed{ledger: l, recovered: res.recovered}
	if environmental(res.out) {
		o := res.out
		obs.env = &o
	}
	if res.load != nil {
		obs.batch, obs.stuck = res.load.Batches, res.load.StuckIn3
	}
	pred, err := m.Step(ctx, st, obs)
	if err != nil {
		return Outcome{}, err
	}
	out := res.out
	if out.Key() != pred.out.Key() {
		return Outcome{Class: ClassModel, Code: out.Code, Detail: fmt.Sprintf("model disagrees: the driver ended in %s%s; CallKit's rules give %s%s",
			out, parens(out.Detail), pred.out, parens(pred.out.Detail))}, nil
	}
	switch {
	case obs.stuck:
		out = Outcome{Class: ClassStuck, Code: out.Code, Detail: "the failure path failed after: " + out.String() + ": " + out.Detail}
	case out.Class != ClassOK && pred.prevLoaded:
		if e := m.ext(st.Ext); e.state == StateLoaded && e.rows() == 0 {
			out = Outcome{Class: ClassZeroRows, Code: out.Code, Detail: fmt.Sprintf("after %s (%s): state 4 (loaded, still eligible for incremental loads), 0 rows", out, out.Detail)}
		}
	}
	out.Detail = joinDetail(out.Detail, pred.note)
	if res.load != nil && res.load.Dropped > 0 {
		out.Detail = joinDetail(out.Detail, fmt.Sprintf("%d identification entries dropped by the extension for an empty or 65,535-byte label [inferred]", res.load.Dropped))
	}
	switch {
	case res.recovered:
		out.Detail = joinDetail(out.Detail, "the schema-version probe failed with SQLITE_CORRUPT: the daemon deleted the file and copied the template again; the extensions are registered again in state 1 with no rows [inferred]")
	case st.Kind == StepReopen && out.Class == ClassOK:
		out.Detail = "the schema-version probe succeeded: no recovery, damage it does not read stays (CALLKIT.md §3.5 [inferred])"
	}
	return out, nil
}

func parens(s string) string {
	if s == "" {
		return ""
	}
	return " (" + s + ")"
}
