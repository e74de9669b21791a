package doctor

import (
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// stateNames are Extension.state's values as CALLKIT.md §1.7 names them.
var stateNames = map[int64]string{
	1: "disabled",
	2: "switched off",
	3: "loading",
	4: "loaded",
	5: "unavailable",
}

// The two entry tables, and the column each adds to the key.
const (
	tableBlocking = "PhoneNumberBlockingEntry"
	tableIdent    = "PhoneNumberIdentificationEntry"
)

// integrity runs PRAGMA integrity_check with at most MaxFindingsPerCheck
// messages. Every message is a corrupt finding; a file whose pages cannot
// even be walked is one too, since its schema was readable.
func (ex *examiner) integrity() error {
	rows, err := ex.db.QueryContext(ex.ctx, fmt.Sprintf("PRAGMA integrity_check(%d)", MaxFindingsPerCheck))
	if err != nil {
		return ex.corruptOr("integrity_check", "", err)
	}
	defer rows.Close()
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			return ex.corruptOr("integrity_check", "", err)
		}
		// SQLite puts a "*** in database main ***" heading and the first
		// problem in one row; one line per problem reads better.
		for _, l := range strings.Split(line, "\n") {
			if l = strings.TrimSpace(l); l == "" || strings.HasPrefix(l, "*** in database") {
				continue
			}
			ex.rep.Integrity = append(ex.rep.Integrity, l)
			if l != "ok" {
				ex.add(Finding{Kind: Corrupt, Message: "integrity_check: " + l})
			}
		}
	}
	if err := rows.Err(); err != nil {
		return ex.corruptOr("integrity_check", "", err)
	}
	return nil
}

// corruptOr records a read that failed with SQLITE_CORRUPT as a corrupt
// finding (the daemon's own reads and writes of that table would fail the
// same way, CALLKIT.md §3.5) and returns nil; any other error is returned.
func (ex *examiner) corruptOr(what, table string, err error) error {
	if ex.ctx.Err() != nil {
		return ex.ctx.Err()
	}
	// A value database/sql cannot convert (a blob where the schema has an
	// INTEGER id) is a damaged row as surely as SQLITE_CORRUPT is; any
	// other SQLite error is not the file's fault.
	if _, _, ok := sqliteError(err); ok && !isCorrupt(err) {
		return fmt.Errorf("doctor %s: %s: %s", ex.path, what, sqliteText(err))
	}
	ex.add(Finding{Kind: Corrupt, Table: table, Message: what + " failed: " + sqliteText(err)})
	if table == "" {
		return nil
	}
	if ex.unread == nil {
		ex.unread = map[string]bool{}
	}
	ex.unread[table] = true
	return nil
}

// extensions reads the Extension table and checks each state.
func (ex *examiner) extensions() error {
	lastMod := "NULL"
	if ex.cols["Extension"]["state_last_modified"] {
		lastMod = "state_last_modified"
	}
	rows, err := ex.db.QueryContext(ex.ctx, `SELECT id, bundle_id, priority, state, `+lastMod+` FROM Extension ORDER BY id`)
	if err != nil {
		return ex.corruptOr("reading Extension", "Extension", err)
	}
	defer rows.Close()
	ex.byID = map[int64]*Extension{}
	for rows.Next() {
		var e Extension
		var bundle sql.NullString
		var prio sql.NullInt64
		var state any
		var mod sql.NullFloat64
		if err := rows.Scan(&e.ID, &bundle, &prio, &state, &mod); err != nil {
			return ex.corruptOr("reading Extension", "Extension", err)
		}
		if bundle.Valid {
			e.BundleID = &bundle.String
		}
		if prio.Valid {
			e.Priority = &prio.Int64
		}
		if mod.Valid {
			e.StateLastModified = &mod.Float64
		}
		e.State, e.StateName = stateOf(state)
		ex.rep.Extensions = append(ex.rep.Extensions, e)
	}
	if err := rows.Err(); err != nil {
		return ex.corruptOr("reading Extension", "Extension", err)
	}
	for i := range ex.rep.Extensions {
		ex.byID[ex.rep.Extensions[i].ID] = &ex.rep.Extensions[i]
	}
	return nil
}

// stateOf reads a stored state, which SQLite's typing lets be anything.
func stateOf(v any) (*int64, string) {
	if n, ok := v.(int64); ok {
		if name, ok := stateNames[n]; ok {
			return &n, name
		}
		return &n, "unknown"
	}
	if b, ok := v.([]byte); ok {
		v = string(b)
	}
	return nil, fmt.Sprintf("unknown (%#v)", v)
}

// checkStates adds the findings of each extension's state and row counts,
// once the counts are known. When an entry table could not be counted, the
// checks that need the counts are skipped: its corrupt finding says why.
func (ex *examiner) checkStates() {
	unknown := ex.unread[tableBlocking] || ex.unread[tableIdent]
	for i := range ex.rep.Extensions {
		e := &ex.rep.Extensions[i]
		e.CountsUnknown = unknown
		id := e.ID
		rows := e.BlockingRows + e.IdentificationRows
		switch {
		case e.State == nil || stateNames[*e.State] == "":
			ex.add(Finding{Kind: UnknownState, ExtensionID: &id, Table: "Extension",
				Message: "state " + stateText(e) + " is none of the states 1–5 CallKit uses"})
		case *e.State == 3:
			ex.add(Finding{Kind: StuckLoading, ExtensionID: &id, Table: "Extension", Rows: rows,
				Message: fmt.Sprintf("state 3 (loading)%s with %d rows: a load that never finished; the daemon's prepare step sets it back to 4 after an hour, keeping these rows", since(e), rows)})
		case unknown:
			// The checks below need the row counts.
		case *e.State == 4 && rows == 0:
			ex.add(Finding{Kind: LoadedEmpty, ExtensionID: &id,
				Message: "state 4 (loaded) with no blocking or identification rows: an empty list was loaded, or a failed reload deleted every row; incremental loads will add to nothing"})
		case *e.State == 1 && rows > 0:
			ex.add(Finding{Kind: RowsNotLoaded, ExtensionID: &id, Rows: rows,
				Message: fmt.Sprintf("state 1 (disabled, not loaded) with %d rows: the failure path and maintenance delete the rows before setting state 1", rows)})
		}
	}
}

func stateText(e *Extension) string {
	if e.State != nil {
		return fmt.Sprint(*e.State)
	}
	return e.StateName
}

// since words state_last_modified, when known.
func since(e *Extension) string {
	if e.StateLastModified == nil {
		return ""
	}
	sec := *e.StateLastModified
	t := time.Unix(int64(sec), 0).UTC()
	return " since " + t.Format(time.RFC3339)
}
