package doctor

import (
	"database/sql"
	"fmt"
)

// entries counts each extension's rows and checks the entry tables' links
// to Extension, PhoneNumber and Label, then the states (which need the
// counts).
func (ex *examiner) entries() error {
	steps := []func() error{
		func() error { return ex.countRows(tableBlocking) },
		func() error { return ex.countRows(tableIdent) },
		func() error { return ex.nullIDs(tableBlocking, "phone_number_id") },
		func() error { return ex.nullIDs(tableIdent, "phone_number_id") },
		func() error { return ex.nullIDs(tableIdent, "label_id") },
		func() error { return ex.dangling(tableBlocking, "phone_number_id", "PhoneNumber", DanglingNumber) },
		func() error { return ex.dangling(tableIdent, "phone_number_id", "PhoneNumber", DanglingNumber) },
		func() error { return ex.dangling(tableIdent, "label_id", "Label", DanglingLabel) },
		func() error { return ex.duplicates(tableBlocking) },
		func() error { return ex.duplicates(tableIdent) },
		ex.shared,
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return err
		}
	}
	ex.checkStates()
	return nil
}

// eachGroup runs q, whose rows are (extension_id, count), and calls fn for
// each; a NULL extension_id gives a nil ext.
func (ex *examiner) eachGroup(what, table, q string, fn func(ext *int64, n int64)) error {
	rows, err := ex.db.QueryContext(ex.ctx, q)
	if err != nil {
		return ex.corruptOr(what, table, err)
	}
	defer rows.Close()
	for rows.Next() {
		var ext sql.NullInt64
		var n int64
		if err := rows.Scan(&ext, &n); err != nil {
			return ex.corruptOr(what, table, err)
		}
		var id *int64
		if ext.Valid {
			id = &ext.Int64
		}
		fn(id, n)
	}
	if err := rows.Err(); err != nil {
		return ex.corruptOr(what, table, err)
	}
	return nil
}

// countRows fills each extension's row count of table, and reports rows of
// no extension: a NULL extension_id, or one without an Extension row (the
// entry tables cascade deletes from Extension, CALLKIT.md §3.2 [Inf]).
// When the Extension table could not be read (its corrupt finding says
// so), an id missing from what was read proves nothing: no
// unknown-extension finding is made then.
func (ex *examiner) countRows(table string) error {
	q := `SELECT extension_id, COUNT(*) FROM ` + table + ` GROUP BY extension_id`
	return ex.eachGroup("counting "+table, table, q, func(ext *int64, n int64) {
		switch e := ex.extension(ext); {
		case ext == nil:
			ex.add(Finding{Kind: NullID, Table: table, Rows: n,
				Message: fmt.Sprintf("%d rows with a NULL extension_id: they belong to no extension", n)})
		case e == nil && ex.unread["Extension"]:
			// Its Extension row may be one the failed read did not reach.
		case e == nil:
			ex.add(Finding{Kind: UnknownExtension, ExtensionID: ext, Table: table, Rows: n,
				Message: fmt.Sprintf("%d rows of extension id %d, which has no Extension row: removing an extension should have deleted them", n, *ext)})
		case table == tableBlocking:
			e.BlockingRows = n
		default:
			e.IdentificationRows = n
		}
	})
}

func (ex *examiner) extension(id *int64) *Extension {
	if id == nil {
		return nil
	}
	return ex.byID[*id]
}

// nullIDs reports entry rows whose column is NULL. The daemon's entry
// INSERT finds its ids with subqueries (CALLKIT.md §3.3), which give NULL
// when the PhoneNumber or Label row is missing; and one NULL in the
// orphan cleanup's NOT IN list stops it from deleting any row.
func (ex *examiner) nullIDs(table, column string) error {
	q := `SELECT extension_id, COUNT(*) FROM ` + table + ` WHERE ` + column + ` IS NULL GROUP BY extension_id`
	return ex.eachGroup("checking "+table+"."+column, table, q, func(ext *int64, n int64) {
		ex.add(Finding{Kind: NullID, ExtensionID: ext, Table: table, Rows: n,
			Message: fmt.Sprintf("%d rows with a NULL %s: the INSERT's subquery found no row to link; it also stops the orphan cleanup's NOT IN from deleting anything", n, column)})
	})
}

// dangling reports entry rows whose column names a missing row of target:
// the orphan cleanup (CALLKIT.md §1.7 step 10) deletes only rows no entry
// refers to, so such a row was lost some other way.
func (ex *examiner) dangling(table, column, target string, kind Kind) error {
	q := `SELECT extension_id, COUNT(*) FROM ` + table + ` WHERE ` + column + ` IS NOT NULL AND ` + column +
		` NOT IN (SELECT id FROM ` + target + `) GROUP BY extension_id`
	return ex.eachGroup("checking "+table+"."+column, table, q, func(ext *int64, n int64) {
		ex.add(Finding{Kind: kind, ExtensionID: ext, Table: table, Rows: n,
			Message: fmt.Sprintf("%d rows whose %s has no %s row: the call-time lookup joins them to nothing", n, column, target)})
	})
}

// duplicates reports every number held twice by one extension in table.
// CallKit refuses a repeated number within one request (error 4, CALLKIT.md
// §1.3) and the blocking table's UNIQUE key refuses it across requests
// (§1.5, SQLite 19); the identification table has no known key, so there a
// duplicate means an incremental load re-added a number it did not remove.
func (ex *examiner) duplicates(table string) error {
	q := `SELECT e.extension_id, CAST(p.number AS INTEGER), COUNT(*) FROM ` + table + ` AS e JOIN PhoneNumber AS p ON p.id = e.phone_number_id
GROUP BY e.extension_id, p.number HAVING COUNT(*) > 1 ORDER BY e.extension_id, p.number`
	what := "checking " + table + " for duplicates"
	rows, err := ex.db.QueryContext(ex.ctx, q)
	if err != nil {
		return ex.corruptOr(what, table, err)
	}
	defer rows.Close()
	found := 0
	for rows.Next() {
		var ext, num sql.NullInt64
		var n int64
		if err := rows.Scan(&ext, &num, &n); err != nil {
			return ex.corruptOr(what, table, err)
		}
		if found++; found > MaxFindingsPerCheck {
			ex.rep.OmittedFindings++
			continue
		}
		f := Finding{Kind: DuplicateEntry, Table: table, Rows: n,
			Message: fmt.Sprintf("number %s held by %d rows of one extension", nullText(num), n)}
		if ext.Valid {
			f.ExtensionID = &ext.Int64
		}
		if num.Valid {
			f.Number = &num.Int64
		}
		ex.add(f)
	}
	if err := rows.Err(); err != nil {
		return ex.corruptOr(what, table, err)
	}
	return nil
}

func nullText(n sql.NullInt64) string {
	if !n.Valid {
		return "NULL"
	}
	return fmt.Sprint(n.Int64)
}

// shared counts PhoneNumber and Label rows and those no entry refers to.
// The NOT IN lists leave NULLs out, which would make every test NULL. The
// unreferenced counts read the entry tables, so they name no one table.
func (ex *examiner) shared() error {
	r := ex.rep
	for _, c := range []struct {
		table, sql string
		dst        **int64
	}{
		{"PhoneNumber", `SELECT COUNT(*) FROM PhoneNumber`, &r.PhoneNumbers.Rows},
		{"", `SELECT COUNT(*) FROM PhoneNumber WHERE id NOT IN (SELECT phone_number_id FROM ` + tableBlocking +
			` WHERE phone_number_id IS NOT NULL UNION SELECT phone_number_id FROM ` + tableIdent + ` WHERE phone_number_id IS NOT NULL)`, &r.PhoneNumbers.Unreferenced},
		{"Label", `SELECT COUNT(*) FROM Label`, &r.Labels.Rows},
		{"", `SELECT COUNT(*) FROM Label WHERE id NOT IN (SELECT label_id FROM ` + tableIdent + ` WHERE label_id IS NOT NULL)`, &r.Labels.Unreferenced},
	} {
		var n int64
		err := ex.db.QueryRowContext(ex.ctx, c.sql).Scan(&n)
		if err == nil {
			*c.dst = &n
			continue
		}
		what := "counting " + c.table
		if c.table == "" {
			what = "counting the rows no entry refers to"
		}
		if err := ex.corruptOr(what, c.table, err); err != nil {
			return err
		}
	}
	return nil
}
