// Package doctor examines a real CallDirectory.db, as found in a simulator's
// data container or a device's sysdiagnose, and reports what it holds per
// extension and which of the invariants of docs/CALLKIT.md it breaks.
//
// The file is never opened by SQLite where it lies: Examine copies it (and
// its -journal and -wal, when present) into a temporary directory and opens
// only the copy, so that neither a hot-journal rollback nor a WAL replay nor
// a stray -shm touches the original. What SQLite did to the copy on opening
// it (a rollback, a WAL read) is reported as a notice:
//
//	FILE.db ─copy─▶ tmp/CallDirectory.db ─open─▶ rollback / WAL ─▶ notices
//	                                        └─read─▶ schema, integrity_check,
//	                                                 indexes, Extension, entries ─▶ findings
//
// Every finding and notice has a kind; kinds.go is the one table of them,
// with what to do about each.
package doctor

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"sort"

	"github.com/calldir/calldir/shard/outfs"

	_ "github.com/mattn/go-sqlite3" // the SQLite driver; the verifier's own
)

// KnownSchemaVersions are the SchemaVersion values whose layout doctor
// knows: version 5, the one iOS 26 writes and validate/verifier models
// (CALLKIT.md §3.2). Older files (2–4) hold the same tables with fewer
// columns or indexes and are read if the columns doctor needs are there,
// with a schema-version finding.
var KnownSchemaVersions = []int64{5}

// Report is what doctor found in one database. Its JSON form is documented
// in docs/DOCTOR.md; fields are only ever added.
type Report struct {
	File    string `json:"file"`    // the path as given
	Healthy bool   `json:"healthy"` // no findings, none omitted (notices do not count)
	// Error is why the file could not be examined at all (see Failed);
	// empty, and omitted, when it was.
	Error               string   `json:"error,omitempty"`
	Copied              []Copied `json:"copied"` // what was copied before opening
	SchemaVersion       *int64   `json:"schema_version"`
	KnownSchemaVersions []int64  `json:"known_schema_versions"`
	PageSize            int64    `json:"page_size"` // bytes
	Pages               int64    `json:"pages"`
	FreePages           int64    `json:"free_pages"`
	JournalMode         string   `json:"journal_mode"` // of the copy after opening: delete or wal
	Integrity           []string `json:"integrity"`    // integrity_check's lines: ["ok"] when healthy
	// UnreadTables are the tables a read of which failed (a corrupt
	// finding says how): nothing is concluded from them, and the checks
	// that need them are skipped.
	UnreadTables []string    `json:"unread_tables"`
	Extensions   []Extension `json:"extensions"` // by id
	PhoneNumbers Shared      `json:"phone_numbers"`
	Labels       Shared      `json:"labels"`
	Findings     []Finding   `json:"findings"` // sorted (see sortFindings)
	// Notices say what SQLite did to the copy when doctor opened it (a hot
	// journal rolled back, a -wal read): not findings, the device's file
	// is not wrong for it.
	Notices []Finding `json:"notices"`
	// OmittedFindings counts the findings past MaxFindingsPerCheck of one
	// check (a damaged file can hold millions of duplicates).
	OmittedFindings int64 `json:"omitted_findings"`
}

// Copied is one file copied before opening: the database, -journal or -wal.
type Copied struct {
	Name  string `json:"name"` // base name, as in the original directory
	Bytes int64  `json:"bytes"`
}

// Extension is one row of the Extension table with its entry counts.
type Extension struct {
	ID       int64   `json:"id"`
	BundleID *string `json:"bundle_id"` // nil when NULL
	Priority *int64  `json:"priority"`
	// State is Extension.state; nil when it is not an integer, and then
	// StateName quotes the stored value.
	State     *int64 `json:"state"`
	StateName string `json:"state_name"`
	// StateLastModified is Extension.state_last_modified, Unix seconds
	// (CALLKIT.md §3.3); nil when NULL or when the column is absent.
	StateLastModified  *float64 `json:"state_last_modified,omitempty"`
	BlockingRows       int64    `json:"blocking_rows"`
	IdentificationRows int64    `json:"identification_rows"`
	// CountsUnknown is set when an entry table could not be read (a corrupt
	// finding says which): the counts are then lower bounds, and the
	// checks that need them were skipped.
	CountsUnknown bool `json:"counts_unknown,omitempty"`
}

// Shared counts the rows of a table shared by every extension (PhoneNumber,
// Label) and those no entry refers to. Unreferenced rows are normal between
// two maintenance runs (CALLKIT.md §1.7 step 10), so they are not findings.
// Either count is nil (null) when reading it failed with SQLITE_CORRUPT (a
// corrupt finding says so).
type Shared struct {
	Rows         *int64 `json:"rows"`
	Unreferenced *int64 `json:"unreferenced"`
}

// Examine copies the database at path (with its -journal and -wal) to a
// temporary directory under os.TempDir, opens the copy and checks it. A file
// that cannot be examined at all (missing, not a regular file, not SQLite,
// truncated, without CallDirectory.db's tables) is an *UnreadableError.
func Examine(ctx context.Context, path string) (*Report, error) {
	tmp, remove, err := outfs.ScratchDir("calldir-doctor-")
	if err != nil {
		return nil, fmt.Errorf("doctor %s: %w", path, err)
	}
	defer remove()
	copied, err := snapshot(path, tmp)
	if err != nil {
		return nil, err
	}
	copyPath := filepath.Join(tmp, copyName)
	// What the copied -journal and -wal hold, before SQLite uses them.
	sib, err := readSiblings(copyPath)
	if err != nil {
		return nil, fmt.Errorf("doctor %s: %w", path, err)
	}
	db, err := openCopy(copyPath)
	if err != nil {
		return nil, fmt.Errorf("doctor %s: %w", path, err)
	}
	defer db.Close()
	rep := newReport(path)
	rep.Copied = copied
	ex := &examiner{ctx: ctx, db: db, path: path, copyPath: copyPath, rep: rep}
	if err := ex.run(); err != nil {
		return nil, err
	}
	if err := ex.siblingNotices(sib); err != nil {
		return nil, err
	}
	for t := range ex.unread {
		rep.UnreadTables = append(rep.UnreadTables, t)
	}
	sort.Strings(rep.UnreadTables)
	sortFindings(rep.Findings)
	rep.Healthy = len(rep.Findings) == 0 && rep.OmittedFindings == 0
	return rep, nil
}

// newReport is a report of nothing yet. Lists are empty, not null, in
// JSON: the shape does not depend on the file.
func newReport(path string) *Report {
	return &Report{File: path, Copied: []Copied{}, KnownSchemaVersions: KnownSchemaVersions, Integrity: []string{},
		UnreadTables: []string{}, Extensions: []Extension{}, Findings: []Finding{}, Notices: []Finding{}}
}

// Failed is the report of a file that could not be examined at all (err,
// from Examine): nothing was checked, so it is not healthy, its lists are
// empty and its counts zero or null, and Error says why. A command prints
// it where it would have printed the report, so that a JSON reader always
// gets one object of one shape.
func Failed(path string, err error) *Report {
	rep := newReport(path)
	rep.Error = err.Error()
	if errors.Is(err, context.Canceled) {
		rep.Error = "interrupted" // as calldir words it on stderr
	}
	return rep
}

// openCopy opens the copy read-write without create: a hot journal is rolled
// back and a WAL replayed in the copy, as the daemon would on its next open
// (CALLKIT.md §3.1). Foreign keys stay off: doctor only reads.
func openCopy(path string) (*sql.DB, error) {
	db, err := sql.Open("sqlite3", "file:"+escapePath(path)+"?mode=rw&_busy_timeout=1000")
	if err != nil {
		return nil, err
	}
	// One connection: every query sees the same snapshot of the copy.
	db.SetMaxOpenConns(1)
	return db, nil
}

// examiner carries one examination's state between its steps.
type examiner struct {
	ctx      context.Context
	db       *sql.DB
	path     string // as given, for messages
	copyPath string
	rep      *Report
	cols     map[string]map[string]bool // table → its columns
	byID     map[int64]*Extension
	unread   map[string]bool // tables a read of which failed with SQLITE_CORRUPT
}

func (ex *examiner) run() error {
	if err := ex.readSchema(); err != nil {
		return err
	}
	if err := ex.readFileFacts(); err != nil {
		return err
	}
	if err := ex.integrity(); err != nil {
		return err
	}
	ex.schemaVersion()
	if err := ex.indexes(); err != nil {
		return err
	}
	if err := ex.extensions(); err != nil {
		return err
	}
	return ex.entries()
}

// readFileFacts fills the page counts and the journal mode.
func (ex *examiner) readFileFacts() error {
	r := ex.rep
	for _, p := range []struct {
		sql string
		dst any
	}{
		{"PRAGMA page_size", &r.PageSize},
		{"PRAGMA page_count", &r.Pages},
		{"PRAGMA freelist_count", &r.FreePages},
		{"PRAGMA journal_mode", &r.JournalMode},
	} {
		if err := ex.db.QueryRowContext(ex.ctx, p.sql).Scan(p.dst); err != nil {
			return ex.queryError(p.sql, err)
		}
	}
	return nil
}

// queryError words a failed read that leaves nothing to examine.
func (ex *examiner) queryError(what string, err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return unreadable(ex.path, "cannot read "+what+": "+sqliteText(err), err)
}

// sortFindings orders findings by extension (findings about no extension
// first), table, kind and number, so that text and JSON are stable.
func sortFindings(fs []Finding) {
	ext := func(f Finding) int64 {
		if f.ExtensionID == nil {
			return -1 << 63
		}
		return *f.ExtensionID
	}
	num := func(f Finding) int64 {
		if f.Number == nil {
			return -1 << 63
		}
		return *f.Number
	}
	sort.SliceStable(fs, func(i, j int) bool {
		a, b := fs[i], fs[j]
		switch {
		case ext(a) != ext(b):
			return ext(a) < ext(b)
		case a.Table != b.Table:
			return a.Table < b.Table
		case a.Kind != b.Kind:
			return a.Kind < b.Kind
		}
		return num(a) < num(b)
	})
}
