package model

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/calldir/calldir/validate/verifier/plan"
)

// CallKit's error codes (CALLKIT.md §1.5).
const (
	ErrUnknown            = 0
	ErrNoExtension        = 1
	ErrLoadingInterrupted = 2
	ErrOutOfOrder         = 3
	ErrDuplicate          = 4
	ErrMaxEntries         = 5
	ErrDisabled           = 6
	ErrCurrentlyLoading   = 7
	ErrUnavailable        = 102
)

// SQLite's constraint error: an incremental load re-adding a blocking
// number the extension holds (UNIQUE(extension_id, phone_number_id)).
const sqliteConstraint = 19

// Cap is the daemon's maximumAllowedEntries (CALLKIT.md §1.4): a batch
// fails with error 5 when the entries added plus the batch reach it. Tests
// lower it to exercise the rule at a small size.
var Cap int64 = 2_000_000

// EnvCodes are the SQLite codes of an environment the plan damaged or
// constrained (busy, locked, read-only, I/O error, corrupt, full, cannot
// open, not a database): no CallKit rule produces them.
var EnvCodes = []int{5, 6, 8, 10, 11, 13, 14, 26}

// Kinds of result, as the driver reports them.
const (
	OK       = "ok"
	CallKit  = "callkit" // a CallKit error, Code
	SQLite   = "sqlite"  // a SQLite error, Code (or any of EnvCodes when Env)
	Stuck    = "stuck"   // the failure path itself failed: state 3 left
	ZeroRows = "zero-rows"
)

// Alt is one outcome CallKit's rules allow for a step.
type Alt struct {
	Kind    string // OK, CallKit, SQLite, Stuck
	Code    int
	Env     bool   // an environmental failure the plan armed: Code is any of EnvCodes
	Zero    bool   // the failure left a loaded extension in state 4 with 0 rows
	Print   string // the extensions' states and rows after the step (World.Fingerprint)
	Batches []string
	Partial bool   // Batches may be cut short (the failure ended the request)
	Detail  string // why, for messages
	Note    string // an [inferred] behaviour the alternative relies on
	Dropped int64  // identification entries the extension dropped for their label
	world   func() *World
}

// Model is the reference for one plan.
type Model struct {
	set   plan.Settings
	world *World
	env   bool // the plan armed an environmental fault for every later step
	armed bool // ... for the next step only
	alts  []Alt
}

// New is the model of a fresh database with the plan's extensions, each
// registered in state 1. powerDiskFull arms a full disk from the start
// (the crash VFS's disk-full fault).
func New(p *plan.Plan) *Model {
	var names []string
	for _, e := range p.Extensions {
		names = append(names, e.Name)
	}
	return &Model{set: p.Settings, world: newWorld(names), env: p.Power != nil && p.Power.Kind == "disk-full"}
}

// World is the model's current state.
func (m *Model) World() *World { return m.world }

// Step returns the alternatives CallKit's rules allow for st, the first
// being the one without any environmental failure. The model stays where
// it was until Choose.
func (m *Model) Step(ctx context.Context, st plan.Step) ([]Alt, error) {
	env := m.env || m.armed
	m.armed = false
	var alts []Alt
	var err error
	switch st.Kind {
	case plan.StepLoad:
		alts, err = m.load(ctx, st, env)
	case plan.StepDiskFull, plan.StepCorrupt:
		m.env = true
		alts = []Alt{m.same(OK, 0)}
	case plan.StepBusy, plan.StepReader, plan.StepWriter:
		m.armed = true
		alts = []Alt{m.same(OK, 0)}
	default:
		alts = m.other(st, env)
	}
	m.alts = alts
	return alts, err
}

// Choose moves the model to alternative i of the last Step.
func (m *Model) Choose(i int) {
	m.world = m.alts[i].world()
	m.alts = nil
}

// same is an alternative that leaves the world as it is.
func (m *Model) same(kind string, code int) Alt {
	w := m.world
	return Alt{Kind: kind, Code: code, Print: w.Fingerprint(), world: func() *World { return w }}
}

// with is an alternative whose world is w.
func with(kind string, code int, w *World) Alt {
	return Alt{Kind: kind, Code: code, Print: w.Fingerprint(), world: func() *World { return w }}
}

// other is every step but a load.
func (m *Model) other(st plan.Step, env bool) []Alt {
	next := m.world.clone()
	note := ""
	present := func(f func(name string, e *Ext)) {
		for _, name := range next.order {
			if e := next.exts[name]; e.State != Gone {
				f(name, e)
			}
		}
	}
	var partial []*World // maintenance: each extension's cleanup is its own statement
	switch st.Kind {
	case plan.StepMaintenance:
		present(func(_ string, e *Ext) {
			switch e.State {
			case SwitchedOff: // cleanup of a switched-off extension
				e.clearAll()
				e.State = Disabled
			case Unavailable: // purge
				e.clearAll()
				e.State = Gone
				note = "state-5 extensions purged without waiting for their purge timeout [inferred]"
			default:
				return
			}
			partial = append(partial, next.clone())
		})
	case plan.StepPrepare:
		present(func(_ string, e *Ext) {
			if e.State == Loading {
				e.State = Loaded
			}
		})
	case plan.StepReopen:
		present(func(_ string, e *Ext) {
			if e.State == Loading { // the stuck-loading check of the open path
				e.State = Loaded
			}
		})
	case plan.StepDisable:
		if e := next.exts[st.Ext]; e != nil && e.State != Gone {
			e.State = SwitchedOff
		}
	case plan.StepUnavailable:
		if e := next.exts[st.Ext]; e != nil && e.State != Gone {
			e.State = Unavailable
		}
	case plan.StepRemoveExt:
		if e := next.exts[st.Ext]; e != nil {
			e.clearAll()
			e.State = Gone
		}
	}
	a := with(OK, 0, next)
	a.Note = note
	alts := []Alt{a}
	if st.Kind == plan.StepReopen && env {
		// A damaged file makes the schema-version probe fail with
		// SQLITE_CORRUPT: the daemon deletes it and copies the template;
		// the extensions register again in state 1 with no rows [inferred].
		rec := m.world.clone()
		for _, e := range rec.exts {
			if e.State != Gone {
				e.clearAll()
				e.State = Disabled
			}
		}
		alts = append(alts, with(OK, 0, rec))
	}
	if env && st.Kind != plan.StepCheck && st.Kind != plan.StepExpect {
		for _, w := range append([]*World{m.world}, partial...) {
			f := with(SQLite, 0, w)
			f.Env, f.Detail = true, "an environmental failure the plan armed"
			alts = append(alts, f)
		}
	}
	return alts
}

// refusal is the CallKit error a load of an extension in state s gets
// before anything is written (CALLKIT.md §1.7 table), or -1.
func refusal(s int) int {
	switch s {
	case Gone:
		return ErrNoExtension
	case SwitchedOff:
		return ErrDisabled
	case Loading:
		return ErrCurrentlyLoading
	case Unavailable:
		return ErrUnavailable
	}
	return -1
}

// request is the daemon's side of one load (CALLKIT.md §1.3, §1.4, §1.7).
type request struct {
	e           *Ext
	incremental bool
	deleted     bool // the initial deletion ran
	last        map[plan.OpKind]int64
	added       int64
}

// callkitError is a rule's refusal of a batch.
type callkitError struct {
	code int
	msg  string
}

func (e *callkitError) Error() string { return e.msg }

// check is §1.4 then §1.3 on a batch of additions.
func (q *request) check(b batch) error {
	if !adds(b.kind) {
		return nil
	}
	n := int64(len(b.entries))
	if q.added+n >= Cap {
		return &callkitError{ErrMaxEntries, fmt.Sprintf("%d entries added + a batch of %d reach the cap of %d", q.added, n, Cap)}
	}
	prev := q.last[b.kind]
	for _, en := range b.entries {
		switch {
		case en.num == prev:
			return &callkitError{ErrDuplicate, fmt.Sprintf("%s number %d equals the previous one", b.kind, en.num)}
		case en.num < prev:
			return &callkitError{ErrOutOfOrder, fmt.Sprintf("%s number %d is below the previous %d", b.kind, en.num, prev)}
		}
		prev = en.num
	}
	q.last[b.kind], q.added = prev, q.added+n
	return nil
}

// constraintError is an incremental re-add of a number the extension
// blocks: the INSERT fails on the UNIQUE key (SQLite 19).
type constraintError struct{ num int64 }

func (e *constraintError) Error() string {
	return fmt.Sprintf("UNIQUE constraint failed: %d is already blocked", e.num)
}

// apply writes a checked batch.
func (q *request) apply(b batch) error {
	e := q.e
	if adds(b.kind) && !q.deleted {
		e.clearAll() // the initial deletion, before the first add
		q.deleted = true
	}
	switch b.kind {
	case plan.OpBlock:
		for _, en := range b.entries {
			if e.hasBlock(en.num) {
				return &constraintError{en.num}
			}
		}
		for _, en := range b.entries {
			e.addBlock(en.num)
		}
	case plan.OpIdentify:
		for _, en := range b.entries {
			e.addIdent(en.num, en.label)
		}
	case plan.OpRemoveBlock:
		for _, en := range b.entries {
			e.removeBlock(en.num)
		}
	case plan.OpRemoveIdentify:
		for _, en := range b.entries {
			e.removeIdent(en.num)
		}
	case plan.OpRemoveAll:
		e.clearAll()
	case plan.OpRemoveAllBlock:
		e.clearBlock()
	case plan.OpRemoveAllIdentify:
		e.clearIdent()
	}
	return nil
}

// load is one reload request: its deterministic alternative first, then,
// when the plan armed a fault, every environmental one.
func (m *Model) load(ctx context.Context, st plan.Step, env bool) ([]Alt, error) {
	cur := m.world.Ext(st.Ext)
	state := Gone
	if cur != nil {
		state = cur.State
	}
	if code := refusal(state); code >= 0 {
		a := m.same(CallKit, code)
		a.Detail = fmt.Sprintf("state %d refuses the load", state)
		alts := []Alt{a}
		if env { // reading the store failed: error 0
			alts = append(alts, m.storeFailed())
		}
		return alts, nil
	}
	prevLoaded := state == Loaded
	w, q, c := m.begin(st, st.FailAfter)
	e := q.e
	var log []string
	prints := []string{w.Fingerprint()} // after 0, 1, … batches applied: the stuck states
	c.send = func(b batch) error {
		log = append(log, fmt.Sprintf("%s:%d", b.kind, len(b.entries)))
		if err := q.check(b); err != nil {
			return err
		}
		if err := q.apply(b); err != nil {
			return err
		}
		if env {
			prints = append(prints, w.Fingerprint())
		}
		return nil
	}
	err := c.run(ctx, st.Ops)
	var se *plan.SourceError
	if errors.As(err, &se) || errors.Is(err, context.Canceled) {
		return nil, err
	}
	note := ""
	if c.dropped > 0 {
		note = fmt.Sprintf("%d identification entries dropped by the extension for an empty or 65,535-byte label [inferred]", c.dropped)
	}
	var det Alt
	if err == nil {
		if !q.deleted {
			e.clearAll() // the initial deletion of a load that added nothing
		}
		e.State = Loaded
		det = with(OK, 0, w)
	} else {
		kind, code := CallKit, ErrLoadingInterrupted
		var ck *callkitError
		var ce *constraintError
		switch {
		case errors.As(err, &ck):
			code = ck.code
		case errors.As(err, &ce):
			kind, code = SQLite, sqliteConstraint
		}
		det = m.failed(kind, code, st.Ext, prevLoaded)
		det.Detail = err.Error()
	}
	det.Batches, det.Dropped, det.Note = log, c.dropped, note
	alts := []Alt{det}
	if !env {
		return alts, nil
	}
	// An environmental failure at any batch, or as the load ends: the
	// failure path ran, or failed itself and left state 3 with the rows
	// of the batches committed so far (the failing one rolled back), its
	// DELETEs done in part or not at all.
	alts = append(alts, m.storeFailed())
	f := m.failed(SQLite, 0, st.Ext, prevLoaded)
	f.Env, f.Batches, f.Partial = true, log, true
	alts = append(alts, f)
	failCodes := []Alt{{Kind: SQLite, Env: true}}
	if det.Kind != OK {
		failCodes = append(failCodes, Alt{Kind: det.Kind, Code: det.Code}) // the failure path failing after the rule's error
	}
	for _, fc := range failCodes {
		for j, pr := range prints {
			for _, v := range stuckVariants(pr, st.Ext) {
				a := Alt{Kind: Stuck, Code: fc.Code, Env: fc.Env || fc.Kind == SQLite && fc.Code == 0, Print: v, Batches: log, Partial: true,
					Detail: fmt.Sprintf("the failure path failed after %d batch(es)", j)}
				a.world = m.rebuild(ctx, st, j, v)
				alts = append(alts, a)
			}
		}
	}
	return alts, nil
}

// begin starts a load of st on a copy of the world (CALLKIT.md §1.7
// steps 1-4): state 3, a request incremental only when the extension was
// loaded and asks, and the extension that will send its batches.
func (m *Model) begin(st plan.Step, failAfter int) (*World, *request, *client) {
	w := m.world.clone()
	e := w.Ext(st.Ext)
	prevLoaded := e.State == Loaded
	e.State = Loading
	q := &request{e: e, incremental: st.Incremental && prevLoaded, last: map[plan.OpKind]int64{}}
	q.deleted = q.incremental
	c := &client{flush: m.set.FlushSize, incremental: q.incremental, failAfter: failAfter, buf: map[plan.OpKind][]entry{}}
	return w, q, c
}

// failed is the failure path that ran (CALLKIT.md §1.7 step 8): every row
// of the extension deleted, then state 4 if it had been loaded, else 1.
func (m *Model) failed(kind string, code int, ext string, prevLoaded bool) Alt {
	w := m.world.clone()
	e := w.Ext(ext)
	e.clearAll()
	e.State = Disabled
	if prevLoaded {
		e.State = Loaded
	}
	a := with(kind, code, w)
	a.Zero = prevLoaded
	return a
}

// storeFailed is error 0: reading the store or setting state 3 failed,
// before anything changed.
func (m *Model) storeFailed() Alt {
	a := m.same(CallKit, ErrUnknown)
	a.Env, a.Detail = true, "reading or updating the store failed"
	return a
}

// stuckVariants are the fingerprints of a stuck load after print: state 3
// with the rows as they were, the blocking rows deleted, or both.
func stuckVariants(print, ext string) []string {
	var out []string
	for _, cut := range []int{0, 1, 2} {
		parts := strings.Split(strings.TrimSuffix(print, ";"), ";")
		for i, p := range parts {
			f := strings.Split(p, ":")
			if len(f) != 4 || f[0] != ext {
				continue
			}
			f[1] = fmt.Sprint(Loading)
			if cut >= 1 {
				f[2] = Digest{}.String()
			}
			if cut >= 2 {
				f[3] = Digest{}.String()
			}
			parts[i] = strings.Join(f, ":")
		}
		s := strings.Join(parts, ";") + ";"
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// rebuild returns the world of a stuck alternative: the load replayed
// through j batches, then the variant's deletions.
func (m *Model) rebuild(ctx context.Context, st plan.Step, j int, print string) func() *World {
	return func() *World {
		w, q, c := m.begin(st, -1)
		e := q.e
		done := 0
		stop := errors.New("stop")
		c.send = func(b batch) error {
			if done == j {
				return stop
			}
			if err := q.check(b); err != nil {
				return err
			}
			done++
			return q.apply(b)
		}
		c.run(ctx, st.Ops)
		for _, cut := range []int{1, 2} {
			if w.Fingerprint() == print {
				break
			}
			if cut == 1 {
				e.clearBlock()
			} else {
				e.clearIdent()
			}
		}
		return w
	}
}
