package doctor

import (
	"database/sql"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
)

// required lists, per table, the columns doctor reads: the tables and
// columns of CALLKIT.md §3.2 that the daemon's own statements name (§3.3).
// A file without one of them is not a CallDirectory.db doctor can examine.
// Extension.state_last_modified (version 4 on) is read when present.
var required = []struct {
	table   string
	columns []string
}{
	{"SchemaVersion", []string{"version"}},
	{"Extension", []string{"id", "bundle_id", "priority", "state"}},
	{"PhoneNumber", []string{"id", "number"}},
	{"Label", []string{"id", "localized_label"}},
	{"PhoneNumberBlockingEntry", []string{"extension_id", "phone_number_id"}},
	{"PhoneNumberIdentificationEntry", []string{"extension_id", "phone_number_id", "label_id"}},
}

// readSchema reads the tables and columns of the copy: the first read of
// the file, so an SQLite error here means it cannot be examined at all.
func (ex *examiner) readSchema() error {
	rows, err := ex.db.QueryContext(ex.ctx, `SELECT m.name, p.name FROM sqlite_schema AS m, pragma_table_info(m.name) AS p WHERE m.type = 'table'`)
	if err != nil {
		return ex.explainSchemaError(err)
	}
	defer rows.Close()
	ex.cols = map[string]map[string]bool{}
	for rows.Next() {
		var t, c string
		if err := rows.Scan(&t, &c); err != nil {
			return ex.explainSchemaError(err)
		}
		if ex.cols[t] == nil {
			ex.cols[t] = map[string]bool{}
		}
		ex.cols[t][c] = true
	}
	if err := rows.Err(); err != nil {
		return ex.explainSchemaError(err)
	}
	for _, r := range required {
		have, ok := ex.cols[r.table]
		if !ok {
			return unreadable(ex.path, "not a CallDirectory.db: missing table "+r.table, nil)
		}
		for _, c := range r.columns {
			if !have[c] {
				return unreadable(ex.path, fmt.Sprintf("not a CallDirectory.db: table %s has no column %s", r.table, c), nil)
			}
		}
	}
	return nil
}

// explainSchemaError words a failure to read the schema. SQLite reports a
// file shorter than its header says as plain corruption; after a -journal
// or -wal was applied, the header of the copy tells which it is.
func (ex *examiner) explainSchemaError(err error) error {
	if ex.ctx.Err() != nil {
		return ex.ctx.Err()
	}
	if fi, serr := os.Stat(ex.copyPath); serr == nil {
		if f, oerr := os.Open(ex.copyPath); oerr == nil {
			b := make([]byte, headerSize)
			n, _ := io.ReadFull(f, b)
			f.Close()
			if h, bad := parseHeader(b[:n]); bad == "" {
				if msg := truncation(h, fi.Size()); msg != "" {
					return unreadable(ex.path, msg, err)
				}
			}
		}
	}
	return unreadable(ex.path, "cannot read the schema: "+sqliteText(err), err)
}

// schemaVersion reads MAX(version) from SchemaVersion with the daemon's own
// probe (CALLKIT.md §3.3). It fails only on damage: the daemon would then
// delete the file and start again from its template (§3.5).
func (ex *examiner) schemaVersion() {
	var v sql.NullInt64
	err := ex.db.QueryRowContext(ex.ctx, `SELECT MAX(version) FROM SchemaVersion`).Scan(&v)
	switch {
	case err != nil && isCorrupt(err):
		ex.add(Finding{Kind: SchemaVersionKind, Table: "SchemaVersion",
			Message: "the schema-version probe fails with " + sqliteText(err) + ": the daemon would delete this file and copy its template again (CALLKIT.md §3.5)"})
	case err != nil:
		ex.add(Finding{Kind: SchemaVersionKind, Table: "SchemaVersion", Message: "the schema-version probe fails: " + sqliteText(err)})
	case !v.Valid:
		ex.add(Finding{Kind: SchemaVersionKind, Table: "SchemaVersion", Message: "SchemaVersion holds no version"})
	default:
		ex.rep.SchemaVersion = &v.Int64
		if !slices.Contains(KnownSchemaVersions, v.Int64) {
			ex.add(Finding{Kind: SchemaVersionKind, Table: "SchemaVersion", Message: versionText(v.Int64)})
		}
	}
}

func versionText(v int64) string {
	known := make([]string, len(KnownSchemaVersions))
	for i, k := range KnownSchemaVersions {
		known[i] = fmt.Sprint(k)
	}
	switch {
	case v <= 1:
		return fmt.Sprintf("schema version %d: the daemon replaces such a file with its template on its next start (doctor knows %s)", v, strings.Join(known, ", "))
	case v < KnownSchemaVersions[0]:
		return fmt.Sprintf("schema version %d: older than %s; the daemon migrates it on its next start", v, strings.Join(known, ", "))
	}
	return fmt.Sprintf("schema version %d: newer than any doctor knows (%s); the checks assume version %s's layout", v, strings.Join(known, ", "), known[len(known)-1])
}
