package verifier

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/calldir/calldir/shard"
	"github.com/mattn/go-sqlite3"
)

// maxAllowedEntries is the daemon's hard-coded cap: a batch fails with
// error 5 when entriesAdded + batch >= 2,000,000 (CALLKIT.md §1.4).
const maxAllowedEntries = shard.MaxEntriesPerRequest + 1

// CallKit error codes the driver raises (CALLKIT.md §1.5).
const (
	ErrLoadingInterrupted = 2
	ErrOutOfOrder         = 3
	ErrDuplicate          = 4
	ErrMaxEntries         = 5
	ErrDisabled           = 6
	ErrCurrentlyLoading   = 7
	ErrUnavailable        = 102
)

// CallKitError is a load failure that CallKit reports to the app.
type CallKitError struct {
	Code int
	Msg  string
}

func (e *CallKitError) Error() string { return fmt.Sprintf("CallKit error %d: %s", e.Code, e.Msg) }

// Driver plays the call-directory daemon against a database: the same
// statements (CALLKIT.md §3.3), the same transaction granularity (§3.4), the
// same state machine and failure path (§1.7). It keeps the reference model
// in step with what it saw commit.
type Driver struct {
	ctx   context.Context
	db    *sql.DB
	conn  *sql.Conn
	set   Settings
	model *Model
	stmts map[string]*sql.Stmt

	n       int64            // SQL statements issued
	before  func(i int64)    // called before statement i (kill fault)
	commit  func(i int64)    // called after each commit point (golden run)
	pending []func(m *Model) // model changes of the open transaction
	inTx    bool
}

// openDB opens the model database the way the daemon opens it: foreign
// keys on, busy timeout, shared cache (settings), one connection; then sets
// the page-level pragmas. create makes the file and the schema.
func openDB(ctx context.Context, path string, set Settings, create bool) (*sql.DB, *sql.Conn, error) {
	db, err := sql.Open("sqlite3", set.dsn(path, create))
	if err != nil {
		return nil, nil, err
	}
	db.SetMaxOpenConns(1)
	conn, err := db.Conn(ctx)
	if err != nil {
		db.Close()
		return nil, nil, err
	}
	var pragmas []string
	if create && set.PageSize > 0 {
		pragmas = append(pragmas, fmt.Sprintf("PRAGMA page_size = %d", set.PageSize))
	}
	pragmas = append(pragmas,
		"PRAGMA journal_mode = "+set.JournalMode,
		"PRAGMA synchronous = "+set.Synchronous,
		fmt.Sprintf("PRAGMA cache_size = %d", set.CacheSize),
	)
	if set.MaxPageCount > 0 {
		pragmas = append(pragmas, fmt.Sprintf("PRAGMA max_page_count = %d", set.MaxPageCount))
	}
	for _, p := range pragmas {
		if _, err := conn.ExecContext(ctx, p); err != nil {
			conn.Close()
			db.Close()
			return nil, nil, fmt.Errorf("%s: %w", p, err)
		}
	}
	return db, conn, nil
}

// createDB makes a fresh model database at path with the schema and the
// extensions (state 1), as the daemon's template copy plus registration.
func createDB(ctx context.Context, path string, set Settings, exts []ExtDef) error {
	for _, suffix := range []string{"", "-journal", "-wal", "-shm"} {
		if err := os.Remove(path + suffix); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	db, conn, err := openDB(ctx, path, set, true)
	if err != nil {
		return err
	}
	defer db.Close()
	defer conn.Close()
	for _, q := range schema {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("schema: %w", err)
		}
	}
	for _, e := range exts {
		if _, err := conn.ExecContext(ctx, sqlInsertExtension, e.Bundle); err != nil {
			return fmt.Errorf("register %s: %w", e.Name, err)
		}
	}
	return nil
}

func newDriver(ctx context.Context, db *sql.DB, conn *sql.Conn, set Settings, exts []ExtDef) (*Driver, error) {
	d := &Driver{ctx: ctx, db: db, conn: conn, set: set, model: newModel(), stmts: map[string]*sql.Stmt{}}
	for _, e := range exts {
		var id int64
		if err := conn.QueryRowContext(ctx, `SELECT id FROM Extension WHERE bundle_id = ?`, e.Bundle).Scan(&id); err != nil {
			return nil, fmt.Errorf("extension %s: %w", e.Name, err)
		}
		d.model.addExt(e.Name, id)
	}
	return d, nil
}

// Statements is how many SQL statements the driver has issued.
func (d *Driver) Statements() int64 { return d.n }

func (d *Driver) prepared(q string) (*sql.Stmt, error) {
	if s, ok := d.stmts[q]; ok {
		return s, nil
	}
	s, err := d.conn.PrepareContext(d.ctx, q)
	if err != nil {
		return nil, err
	}
	d.stmts[q] = s
	return s, nil
}

// exec issues one counted statement. Outside a transaction a successful
// statement is a commit point and its model change applies at once.
func (d *Driver) exec(change func(*Model), q string, args ...any) error {
	i := d.n
	d.n++
	if d.before != nil {
		d.before(i)
	}
	s, err := d.prepared(q)
	if err == nil {
		_, err = s.ExecContext(d.ctx, args...)
	}
	if err != nil {
		return err
	}
	if d.inTx {
		if change != nil {
			d.pending = append(d.pending, change)
		}
		return nil
	}
	if change != nil {
		change(d.model)
	}
	if d.commit != nil {
		d.commit(i)
	}
	return nil
}

func (d *Driver) begin() error {
	if err := d.exec(nil, sqlBegin); err != nil {
		return err
	}
	d.inTx, d.pending = true, nil
	return nil
}

// commitTx commits; the COMMIT is the commit point at which the
// transaction's model changes apply.
func (d *Driver) commitTx() error {
	pending := d.pending
	d.inTx = false
	err := d.exec(func(m *Model) {
		for _, c := range pending {
			c(m)
		}
	}, sqlCommit)
	if err != nil {
		d.inTx = true
		return err
	}
	d.pending = nil
	return nil
}

func (d *Driver) rollback() {
	d.exec(nil, sqlRollback) // fails harmlessly when SQLite already rolled back
	d.inTx, d.pending = false, nil
}

func (d *Driver) setState(name string, state int) error {
	e := d.model.ext(name)
	return d.exec(func(m *Model) { m.ext(name).state = state }, sqlSetState, state, e.id)
}

// readState reads an extension's state the way the daemon does, from the
// database, with a counted statement.
func (d *Driver) readState(name string) (int, error) {
	e := d.model.ext(name)
	i := d.n
	d.n++
	if d.before != nil {
		d.before(i)
	}
	var st int
	err := d.conn.QueryRowContext(d.ctx, `SELECT state FROM Extension WHERE (id = ?)`, e.id).Scan(&st)
	return st, err
}

// deleteAll runs the per-extension DELETEs of both entry tables, each its
// own autocommit statement (initial deletion, removeAll, failure path).
func (d *Driver) deleteAll(name string, block, ident bool) error {
	e := d.model.ext(name)
	if block {
		if err := d.exec(func(m *Model) { m.ext(name).clearBlock() }, sqlDeleteBlocking, e.id); err != nil {
			return err
		}
	}
	if ident {
		if err := d.exec(func(m *Model) { m.ext(name).clearIdent() }, sqlDeleteIdent, e.id); err != nil {
			return err
		}
	}
	return nil
}

// entry is one number (and label) of a batch.
type entry struct {
	num   int64
	label string
}

// batch is one flush of the extension's buffer: entries of one op kind.
type batch struct {
	kind    OpKind
	entries []entry
}

// LoadResult is what one reload did.
type LoadResult struct {
	Err       error // *CallKitError or a SQLite error; nil on success
	Flushes   int
	Committed int64 // entries written by committed transactions
	StuckIn3  bool  // the failure path itself failed: state left at 3
	ZeroRows  bool  // a previously loaded extension left loaded with zero rows
}

// Load performs one reload request of st on the database.
func (d *Driver) Load(st Step) LoadResult {
	var res LoadResult
	name := st.Ext
	state, err := d.readState(name)
	if err != nil {
		res.Err = err
		return res
	}
	switch state {
	case StateSwitchedOff:
		res.Err = &CallKitError{ErrDisabled, "extension switched off (state 2)"}
		return res
	case StateLoading:
		res.Err = &CallKitError{ErrCurrentlyLoading, "a load is in progress (state 3)"}
		return res
	case StateUnavailable:
		res.Err = &CallKitError{ErrUnavailable, "extension unavailable (state 5)"}
		return res
	}
	prevLoaded := state == StateLoaded
	incremental := st.Incremental && prevLoaded // isIncremental answers YES only when eligible
	if err := d.setState(name, StateLoading); err != nil {
		res.Err = err
		return res
	}
	deleted := false
	initialDeletion := func() error {
		if incremental || deleted {
			return nil
		}
		deleted = true
		return d.deleteAll(name, true, true)
	}
	var lastBlock, lastIdent int64
	var added int64
	err = d.forEachBatch(st.Ops, func(b batch) error {
		if st.FailAfter >= 0 && res.Flushes >= st.FailAfter {
			return &CallKitError{ErrLoadingInterrupted, fmt.Sprintf("extension died after %d flushes (plan fail-after)", st.FailAfter)}
		}
		res.Flushes++
		switch b.kind {
		case OpBlock, OpIdentify:
			if err := initialDeletion(); err != nil {
				return err
			}
			last := &lastBlock
			if b.kind == OpIdentify {
				last = &lastIdent
			}
			if added+int64(len(b.entries)) >= maxAllowedEntries {
				return &CallKitError{ErrMaxEntries, fmt.Sprintf("%d entries added + a batch of %d reaches %d", added, len(b.entries), maxAllowedEntries)}
			}
			for _, e := range b.entries {
				switch {
				case e.num == *last:
					return &CallKitError{ErrDuplicate, fmt.Sprintf("%d equals the previous %s number", e.num, b.kind)}
				case e.num < *last:
					return &CallKitError{ErrOutOfOrder, fmt.Sprintf("%d is below the previous %s number %d", e.num, b.kind, *last)}
				}
				*last = e.num
			}
			added += int64(len(b.entries))
			if err := d.writeAdds(name, b); err != nil {
				return err
			}
		default: // removals
			if !incremental {
				// The context raises an exception for remove* when
				// isIncremental is false; the extension dies (CALLKIT.md §1.2 [Inf]).
				return &CallKitError{ErrLoadingInterrupted, fmt.Sprintf("%s in a complete load: the extension raises and dies", b.kind)}
			}
			if err := d.writeRemovals(name, b); err != nil {
				return err
			}
		}
		res.Committed += int64(len(b.entries))
		return nil
	})
	if err == nil {
		err = initialDeletion() // a complete load that added nothing
	}
	if err == nil {
		err = d.setState(name, StateLoaded)
	}
	if err == nil {
		return res
	}
	res.Err = err
	// Failure, for any reason: delete all of the extension's rows, then
	// state 4 if it had been loaded, else 1 (CALLKIT.md §1.7 step 8).
	if d.inTx {
		d.rollback()
	}
	next := StateDisabled
	if prevLoaded {
		next = StateLoaded
	}
	if ferr := d.deleteAll(name, true, true); ferr != nil {
		res.StuckIn3 = true
		return res
	}
	if ferr := d.setState(name, next); ferr != nil {
		res.StuckIn3 = true
		return res
	}
	e := d.model.ext(name)
	res.ZeroRows = prevLoaded && len(e.block) == 0 && len(e.ident) == 0 && e.state == StateLoaded
	return res
}

// writeAdds writes one flush: one transaction of slices of StatementRow
// rows, each an INSERT OR IGNORE into PhoneNumber (and Label), then the
// multi-row entry INSERT (CALLKIT.md §3.4).
func (d *Driver) writeAdds(name string, b batch) error {
	e := d.model.ext(name)
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
			if err := d.exec(func(m *Model) {
				ex := m.ext(name)
				for _, en := range sl {
					ex.addBlock(en.num)
				}
			}, sqlInsertBlocking(len(sl)), args...); err != nil {
				return err
			}
			return nil
		}
		var labels []any
		seen := map[string]bool{}
		for _, en := range sl {
			if !seen[en.label] {
				seen[en.label] = true
				labels = append(labels, en.label)
			}
		}
		if err := d.exec(nil, sqlInsertLabels(len(labels)), labels...); err != nil {
			return err
		}
		args := make([]any, 0, 3*len(sl))
		for _, en := range sl {
			args = append(args, e.id, en.num, en.label)
		}
		return d.exec(func(m *Model) {
			ex := m.ext(name)
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
	e := d.model.ext(name)
	if b.kind == OpRemoveAll {
		return d.deleteAll(name, true, true)
	}
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
		return d.exec(func(m *Model) {
			ex := m.ext(name)
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

// forEachBatch streams a load's ops as the extension would flush them: a
// flush every FlushSize entries, and whenever the op changes.
func (d *Driver) forEachBatch(ops []Op, fn func(batch) error) error {
	for _, op := range ops {
		if op.Kind == OpRemoveAll {
			if err := fn(batch{kind: OpRemoveAll}); err != nil {
				return err
			}
			continue
		}
		buf := make([]entry, 0, min(d.set.FlushSize, 1<<16))
		err := eachEntry(op, func(en entry) error {
			buf = append(buf, en)
			if len(buf) == d.set.FlushSize {
				if err := fn(batch{kind: op.Kind, entries: buf}); err != nil {
					return err
				}
				buf = buf[:0]
			}
			return d.ctx.Err()
		})
		if err != nil {
			return err
		}
		if len(buf) > 0 {
			if err := fn(batch{kind: op.Kind, entries: buf}); err != nil {
				return err
			}
		}
	}
	return nil
}

// eachEntry yields an op's entries in source order.
func eachEntry(op Op, fn func(entry) error) error {
	src := op.Source
	switch {
	case src.Shard != "":
		f, err := openSource(src)
		if err != nil {
			return &SourceError{Path: src.Shard, Err: err}
		}
		defer f.Close()
		labels := f.Labels()
		for {
			rec, err := f.Next()
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				return &SourceError{Path: src.Shard, Err: err}
			}
			en := entry{num: rec.Number, label: op.Label}
			if len(labels) > 0 && en.label == "" {
				en.label = labels[rec.Label]
			}
			if err := fn(en); err != nil {
				return err
			}
		}
	case src.Step > 0:
		for n := src.First; ; n += src.Step {
			if err := fn(entry{num: n, label: op.Label}); err != nil {
				return err
			}
			if n > src.Last-src.Step {
				return nil
			}
		}
	default:
		for _, n := range src.Numbers {
			if err := fn(entry{num: n, label: op.Label}); err != nil {
				return err
			}
		}
		return nil
	}
}

// openSource opens a source's shard: inside its Root through an os.Root
// when it has one, as given otherwise.
func openSource(src Source) (*shard.File, error) {
	if src.Root == "" {
		return shard.Open(src.Shard)
	}
	rel, err := filepath.Rel(src.Root, src.Shard)
	if err != nil {
		return nil, err
	}
	root, err := os.OpenRoot(src.Root)
	if err != nil {
		return nil, err
	}
	defer root.Close() // the open shard keeps its own descriptor
	return shard.OpenIn(root, rel)
}

// SourceError is a shard named by a plan that cannot be read.
type SourceError struct {
	Path string
	Err  error
}

func (e *SourceError) Error() string {
	var re *shard.PathError
	if errors.As(e.Err, &re) {
		return re.Error() // names the file and its directory already
	}
	if msg := e.Err.Error(); strings.HasPrefix(msg, e.Path+": ") {
		return msg // shard.Open named it
	}
	var pe *os.PathError
	if errors.As(e.Err, &pe) {
		return e.Path + ": " + pe.Err.Error()
	}
	return e.Path + ": " + e.Err.Error()
}
func (e *SourceError) Unwrap() error { return e.Err }

// Maintenance is the daemon's compaction (CALLKIT.md §1.7 step 10): extensions
// in state 2 lose their rows and go to 1, then orphan PhoneNumber and Label
// rows are deleted, then VACUUM.
func (d *Driver) Maintenance() error {
	for _, name := range d.model.order {
		state, err := d.readState(name)
		if err != nil {
			return err
		}
		if state == StateSwitchedOff {
			if err := d.deleteAll(name, true, true); err != nil {
				return err
			}
			if err := d.setState(name, StateDisabled); err != nil {
				return err
			}
		}
	}
	if err := d.exec(nil, sqlOrphanNumbers); err != nil {
		return err
	}
	if err := d.exec(nil, sqlOrphanLabels); err != nil {
		return err
	}
	return d.exec(nil, sqlVacuum)
}

// Prepare is CDXPrepareStoreOperation's stuck-loading check: state 3 is
// reset to 4 without cleaning up rows (CALLKIT.md §1.7 step 9; the 1-hour age
// is not modelled: every state-3 extension counts as stuck).
func (d *Driver) Prepare() error {
	for _, name := range d.model.order {
		state, err := d.readState(name)
		if err != nil {
			return err
		}
		if state == StateLoading {
			if err := d.setState(name, StateLoaded); err != nil {
				return err
			}
		}
	}
	return nil
}

// Disable is the Settings switch turned off: state 4 → 2.
func (d *Driver) Disable(name string) error { return d.setState(name, StateSwitchedOff) }

// RemoveExtension deletes the extension's row; the entries go with it by
// ON DELETE CASCADE [Inf].
func (d *Driver) RemoveExtension(name string) error {
	e := d.model.ext(name)
	var bundle string
	if err := d.conn.QueryRowContext(d.ctx, `SELECT bundle_id FROM Extension WHERE id = ?`, e.id).Scan(&bundle); err != nil {
		return err
	}
	return d.exec(func(m *Model) {
		ex := m.ext(name)
		ex.clearBlock()
		ex.clearIdent()
		ex.state = 0 // gone
	}, `DELETE FROM Extension WHERE (bundle_id = ?)`, bundle)
}

// SetMaxPageCount applies the disk-full fault: a fixed max_page_count, or
// the current page count plus extra pages of room.
func (d *Driver) SetMaxPageCount(pages, extra int) error {
	if extra > 0 {
		var cur int
		if err := d.conn.QueryRowContext(d.ctx, "PRAGMA page_count").Scan(&cur); err != nil {
			return err
		}
		pages = cur + extra
	}
	if pages == 0 {
		pages = 1 << 30
	}
	_, err := d.conn.ExecContext(d.ctx, fmt.Sprintf("PRAGMA max_page_count = %d", pages))
	return err
}

// SQLiteCode returns the primary SQLite result code of err, or 0.
func SQLiteCode(err error) int {
	var se sqlite3.Error
	if errors.As(err, &se) {
		return int(se.Code)
	}
	return 0
}
