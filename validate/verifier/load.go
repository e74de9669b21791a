package verifier

import (
	"database/sql"
	"errors"
	"fmt"
)

// LoadResult is what one reload did.
type LoadResult struct {
	Err       error    // *CallKitError or a SQLite error; nil on success
	Batches   int      // batches the extension had sent when the load ended (the failing one included)
	Log       []string // each batch sent, "kind:entries", for the model's flush rule
	Dropped   int64    // entries the extension dropped for their label (CALLKIT.md §1.2 [Inf])
	Committed int64    // entries written by committed transactions
	StuckIn3  bool     // the failure path itself failed: state left at 3
	StuckErr  error    // why the failure path failed
}

// loadRun is the daemon's side of one request: the per-request counters
// of CALLKIT.md §1.3 and §1.4, and whether the initial deletion ran.
type loadRun struct {
	d                   *Driver
	name                string
	incremental         bool
	deleted             bool
	lastBlock, lastIdnt int64
	added               int64
	committed           int64
}

// Load performs one reload request of st on the database (CALLKIT.md §1.7).
func (d *Driver) Load(st Step) LoadResult {
	var res LoadResult
	name := st.Ext
	state, err := d.readState(name)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		res.Err = &CallKitError{ErrNoExtension, "no Extension row for the bundle id"}
		return res
	case err != nil: // reading the store failed: error 0 (CALLKIT.md §1.5)
		res.Err = &CallKitError{ErrUnknown, "reading the extension's state: " + err.Error()}
		return res
	}
	if err := refuseState(state); err != nil {
		res.Err = err
		return res
	}
	prevLoaded := state == StateLoaded
	if err := d.setState(name, StateLoading); err != nil {
		res.Err = &CallKitError{ErrUnknown, "setting state 3: " + err.Error()}
		return res
	}
	r := &loadRun{d: d, name: name, incremental: st.Incremental && prevLoaded} // isIncremental answers YES only when eligible
	x := newExtension(d.set, r.incremental, st.FailAfter)
	err = x.run(d.ctx, st.Ops, r.apply)
	res.Batches, res.Dropped, res.Committed, res.Log = x.sent, x.dropped, r.committed, x.log
	if err == nil {
		err = r.initialDeletion() // a complete load that added nothing
	}
	if err == nil {
		err = d.setState(name, StateLoaded)
	}
	if err == nil {
		return res
	}
	res.Err = err
	if ferr := d.failurePath(name, prevLoaded); ferr != nil {
		res.StuckIn3, res.StuckErr = true, ferr
	}
	return res
}

// refuseState is the daemon's check of the state it read (CALLKIT.md §1.7
// table): 2 gives error 6, 3 error 7, 5 error 102.
func refuseState(state int) error {
	switch {
	case state == StateSwitchedOff && !mutant("disabled"):
		return &CallKitError{ErrDisabled, "extension switched off (state 2)"}
	case state == StateLoading:
		return &CallKitError{ErrCurrentlyLoading, "a load is in progress (state 3)"}
	case state == StateUnavailable && !mutant("unavailable"):
		return &CallKitError{ErrUnavailable, "extension unavailable (state 5)"}
	}
	return nil
}

// failurePath runs after any failure (CALLKIT.md §1.7 step 8): roll back the
// open flush, delete all of the extension's rows, then state 4 if it had
// been loaded, else 1. An error means the failure path itself failed.
func (d *Driver) failurePath(name string, prevLoaded bool) error {
	if d.inTx {
		d.rollback()
	}
	next := StateDisabled
	if prevLoaded {
		next = StateLoaded
	}
	if mutant("failure-state") {
		next = StateLoaded + StateDisabled - next
	}
	d.failing = true
	defer func() { d.failing = false }()
	if mutant("failure-skip-ident-delete") { // the statement count kept equal
		if err := d.deleteAll(name, true, false); err != nil {
			return err
		}
		if err := d.exec(nil, "SELECT 1"); err != nil {
			return err
		}
	} else if !mutant("failure-delete") {
		if err := d.deleteAll(name, true, true); err != nil {
			return err
		}
	}
	return d.setState(name, next)
}

// initialDeletion is a complete load's DELETE of the extension's rows,
// before its first add is written or at the end (CALLKIT.md §1.7 step 5).
func (r *loadRun) initialDeletion() error {
	if r.incremental || r.deleted || mutant("initial-deletion") {
		return nil
	}
	r.deleted = true
	return r.d.deleteAll(r.name, true, true)
}

// apply is the daemon's handling of one batch: the checks on the whole
// batch before any statement of it (CALLKIT.md §1.3, §1.4), then its
// writes.
func (r *loadRun) apply(b batch) error {
	d := r.d
	switch b.kind {
	case OpBlock, OpIdentify:
		if err := r.check(b); err != nil {
			return err
		}
		if err := r.initialDeletion(); err != nil {
			return err
		}
		if err := d.writeAdds(r.name, b); err != nil {
			return err
		}
	case OpRemoveBlock, OpRemoveIdentify:
		if err := d.writeRemovals(r.name, b); err != nil {
			return err
		}
	default: // removeAll: the per-extension DELETEs, autocommit
		if err := d.deleteAll(r.name, b.kind != OpRemoveAllIdentify, b.kind != OpRemoveAllBlock); err != nil {
			return err
		}
	}
	r.committed += int64(len(b.entries))
	return nil
}

// check applies the cap and the order rules to a batch of additions.
func (r *loadRun) check(b batch) error {
	n := int64(len(b.entries))
	over := r.added+n >= entryCap
	if mutant("cap") {
		over = r.added+n > entryCap
	}
	if over {
		return &CallKitError{ErrMaxEntries, fmt.Sprintf("%d entries added + a batch of %d reaches %d", r.added, n, entryCap)}
	}
	last := &r.lastBlock
	if b.kind == OpIdentify {
		last = &r.lastIdnt
	}
	for _, e := range b.entries {
		switch {
		case e.num == *last && !mutant("duplicate"):
			return &CallKitError{ErrDuplicate, fmt.Sprintf("%d equals the previous %s number", e.num, b.kind)}
		case e.num < *last && !mutant("order"):
			return &CallKitError{ErrOutOfOrder, fmt.Sprintf("%d is below the previous %s number %d", e.num, b.kind, *last)}
		}
		*last = e.num
	}
	r.added += n
	return nil
}

// writeAdds writes one flush: one transaction of slices of StatementRow
// rows, each an INSERT OR IGNORE into PhoneNumber (and Label), then the
// multi-row entry INSERT (CALLKIT.md §3.4).
func (d *Driver) writeAdds(name string, b batch) error {
	e := d.ledger.ext(name)
	return d.flushTx(b.entries, func(sl []entry) error {
		nums := make([]any, len(sl))
		for i, en := range sl {
			nums[i] = en.num
		}
		if err := d.exec(nil, sqlInsertNumbers(len(sl)), nums...); err != nil {
			return err
		}
		if b.kind == OpBlock {
			args := make([]any, 0, 2*len(sl))
			for _, en := range sl {
				args = append(args, e.id, en.num)
			}
			return d.exec(func(l *Ledger) {
				ex := l.ext(name)
				for _, en := range sl {
					ex.addBlock(en.num)
				}
			}, sqlInsertBlocking(len(sl)), args...)
		}
		var labels []any
		seen := map[string]bool{}
		for _, en := range sl {
			if !seen[en.label] {
				seen[en.label] = true
				labels = append(labels, en.label)
			}
		}
		if mutant("label-truncate") { // labels cut to 255 bytes in the SQL
			for i, l := range labels {
				if s := l.(string); len(s) > 255 {
					labels[i] = s[:255]
				}
			}
		}
		if err := d.exec(nil, sqlInsertLabels(len(labels)), labels...); err != nil {
			return err
		}
		args := make([]any, 0, 3*len(sl))
		for _, en := range sl {
			l := en.label
			if mutant("label-truncate") && len(l) > 255 {
				l = l[:255]
			}
			args = append(args, e.id, en.num, l)
		}
		return d.exec(func(l *Ledger) {
			ex := l.ext(name)
			for _, en := range sl {
				ex.addIdent(en.num, en.label)
			}
		}, sqlInsertIdent(len(sl)), args...)
	})
}

// flushTx writes one flush as the daemon does: one transaction, in which
// stmt runs once per slice of at most StatementRow entries; on any error
// the transaction is rolled back.
func (d *Driver) flushTx(entries []entry, stmt func(sl []entry) error) (err error) {
	if err := d.begin(); err != nil {
		return err
	}
	defer func() {
		if err != nil {
			d.rollback()
		}
	}()
	for lo := 0; lo < len(entries); lo += d.set.StatementRow {
		if err := stmt(entries[lo:min(lo+d.set.StatementRow, len(entries))]); err != nil {
			return err
		}
	}
	return d.commitTx()
}

// writeRemovals writes one removal flush: DELETE … IN (…) of at most
// StatementRow numbers each, in one transaction.
func (d *Driver) writeRemovals(name string, b batch) error {
	e := d.ledger.ext(name)
	table := "PhoneNumberBlockingEntry"
	if b.kind == OpRemoveIdentify {
		table = "PhoneNumberIdentificationEntry"
	}
	return d.flushTx(b.entries, func(sl []entry) error {
		args := make([]any, 0, len(sl)+1)
		args = append(args, e.id)
		for _, en := range sl {
			args = append(args, en.num)
		}
		return d.exec(func(l *Ledger) {
			ex := l.ext(name)
			for _, en := range sl {
				if b.kind == OpRemoveBlock {
					ex.removeBlock(en.num)
				} else {
					ex.removeIdent(en.num)
				}
			}
		}, sqlRemove(table, len(sl)), args...)
	})
}
