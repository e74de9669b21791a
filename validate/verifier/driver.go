package verifier

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/calldir/calldir/shard/outfs"

	"github.com/calldir/calldir/shard"
	_ "github.com/mattn/go-sqlite3" // the SQLite driver; SQLiteCode reads its errors (sqlitecode_cgo.go)
)

// entryCap is the daemon's hard-coded cap: a batch fails with error 5 when
// entriesAdded + batch >= 2,000,000 (CALLKIT.md §1.4). A variable only so
// that the mutation tests can replay the cap plan at a small scale; the
// driver and the model both read it.
var entryCap int64 = shard.MaxEntriesPerRequest + 1

// CallKit error codes the driver raises (CALLKIT.md §1.5).
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

// CallKitError is a load failure that CallKit reports to the app.
type CallKitError struct {
	Code int
	Msg  string
}

func (e *CallKitError) Error() string { return fmt.Sprintf("CallKit error %d: %s", e.Code, e.Msg) }

// Driver plays the call-directory daemon against a database: the same
// statements (CALLKIT.md §3.3), the same transaction granularity (§3.4), the
// same state machine and failure path (§1.7). It keeps a ledger of what it
// saw commit; the reference Model applies CallKit's rules on its own.
type Driver struct {
	ctx    context.Context
	db     *sql.DB
	conn   *sql.Conn
	path   string
	set    Settings
	ledger *Ledger
	stmts  map[string]*sql.Stmt
	// bundles are the extensions' bundle ids by plan name.
	bundles map[string]string

	n       int64             // SQL statements issued
	before  func(i int64)     // called before statement i (kill fault)
	commit  func(i int64)     // called after each commit point (golden run)
	pending []func(l *Ledger) // ledger changes of the open transaction
	inTx    bool
	failing bool // the failure path is running (a mutant breaks its SQL)
}

// openDB opens the model database the way the daemon opens it: foreign
// keys on, busy timeout, shared cache (settings), one connection; then sets
// the page-level pragmas. create makes the file and the schema.
func openDB(ctx context.Context, path string, set Settings, create bool) (*sql.DB, *sql.Conn, error) {
	db, err := sql.Open("sqlite3", dsn(set, path, create))
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
	// path is in a scratch directory of this run, or was proved calldir's
	// (Options.dbPath): it and its companions are removed.
	for _, suffix := range append([]string{""}, dbCompanions...) {
		if err := outfs.RemoveScratch(path + suffix); err != nil {
			return err
		}
	}
	db, conn, err := openDB(ctx, path, set, true)
	if err != nil {
		return err
	}
	defer db.Close()
	defer conn.Close()
	for _, q := range append(schema, markDB) {
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

// newDriver opens the database at path as the daemon does and finds the
// extensions' ids.
func newDriver(ctx context.Context, path string, set Settings, exts []ExtDef) (*Driver, error) {
	db, conn, err := openDB(ctx, path, set, false)
	if err != nil {
		return nil, err
	}
	d := &Driver{ctx: ctx, db: db, conn: conn, path: path, set: set, ledger: newLedger(), stmts: map[string]*sql.Stmt{}, bundles: map[string]string{}}
	for _, e := range exts {
		d.bundles[e.Name] = e.Bundle
		var id int64
		if err := conn.QueryRowContext(ctx, `SELECT id FROM Extension WHERE bundle_id = ?`, e.Bundle).Scan(&id); err != nil {
			d.Close()
			return nil, fmt.Errorf("extension %s: %w", e.Name, err)
		}
		d.ledger.addExt(e.Name, id)
	}
	return d, nil
}

// Close closes the driver's connection and database.
func (d *Driver) Close() {
	for _, s := range d.stmts {
		s.Close()
	}
	d.stmts = map[string]*sql.Stmt{}
	d.conn.Close()
	d.db.Close()
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
// statement is a commit point and its ledger change applies at once.
func (d *Driver) exec(change func(*Ledger), q string, args ...any) error {
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
		change(d.ledger)
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
// transaction's ledger changes apply.
func (d *Driver) commitTx() error {
	pending := d.pending
	d.inTx = false
	err := d.exec(func(l *Ledger) {
		for _, c := range pending {
			c(l)
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
	e := d.ledger.ext(name)
	return d.exec(func(l *Ledger) {
		if x := l.ext(name); x.state != 0 { // an UPDATE of a removed row changes nothing
			x.state = state
		}
	}, sqlSetState, state, e.id)
}

// query runs one counted read statement and scans its single row.
func (d *Driver) query(q string, args []any, dst ...any) error {
	i := d.n
	d.n++
	if d.before != nil {
		d.before(i)
	}
	s, err := d.prepared(q)
	if err != nil {
		return err
	}
	return s.QueryRowContext(d.ctx, args...).Scan(dst...)
}

// readState reads an extension's state the way the daemon does, from the
// database, with a counted statement. An extension without a row reads as
// state 0 and sql.ErrNoRows.
func (d *Driver) readState(name string) (int, error) {
	var st int
	err := d.query(`SELECT state FROM Extension WHERE (id = ?)`, []any{d.ledger.ext(name).id}, &st)
	return st, err
}

// deleteAll runs the per-extension DELETEs of both entry tables, each its
// own autocommit statement (initial deletion, removeAll, failure path).
func (d *Driver) deleteAll(name string, block, ident bool) error {
	e := d.ledger.ext(name)
	if block {
		if err := d.exec(func(l *Ledger) { l.ext(name).clearBlock() }, sqlDeleteBlocking, e.id); err != nil {
			return err
		}
	}
	if ident {
		q := sqlDeleteIdent
		if mutant("failure-sql-error") && d.failing {
			q = strings.Replace(q, "PhoneNumberIdentificationEntry", "PhoneNumberIdentificationEntri", 1)
		}
		if err := d.exec(func(l *Ledger) { l.ext(name).clearIdent() }, q, e.id); err != nil {
			return err
		}
	}
	return nil
}
