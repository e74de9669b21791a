package doctor

import (
	"fmt"
	"slices"
	"strings"
)

// versionIndexes are the indexes and UNIQUE keys of a version-5 file that
// doctor requires (CALLKIT.md §3.2; validate/verifier/schema.go models the
// same file). The daemon never creates one itself: the file is a copy of
// its template (§3.1), and only the migration to version 5 adds an index,
// so a version-5 file that lacks one keeps lacking it.
//
// Extension.bundle_id's UNIQUE key, which the verifier's model has, is not
// required: CALLKIT.md §3.2 says only that it "probably" exists, and a
// finding must not rest on a guess about Apple's template.
var versionIndexes = []struct {
	table   string
	columns []string
	unique  bool
	name    string // version 5's name, when it is known and not SQLite's own
	why     string // what its absence breaks
}{
	// [RE]: the error text of CALLKIT.md §1.5 names the key.
	{tableBlocking, []string{"extension_id", "phone_number_id"}, true, "",
		"a number added twice to one extension is no longer refused (SQLite 19, CALLKIT.md §1.5), and each per-extension DELETE scans the whole table"},
	// [RE]: the migration to version 5 creates it.
	{tableIdent, []string{"label_id"}, false, "idx_PhoneNumberIdentificationEntry_FK_Label",
		"the migration to version 5 adds it and a version-5 file is not migrated again; every search by label_id scans the table"},
	// [Inf]: INSERT OR IGNORE, then SELECT id … WHERE number = ? (§3.2).
	{"PhoneNumber", []string{"number"}, true, "",
		"INSERT OR IGNORE no longer ignores a number already stored, so loads add duplicate PhoneNumber rows, and every search by number scans the table"},
	// [Inf]: the same for labels.
	{"Label", []string{"localized_label"}, true, "",
		"INSERT OR IGNORE no longer ignores a label already stored, so loads add duplicate Label rows, and every search by label scans the table"},
}

// indexes reports each of version 5's indexes the file lacks. Versions 2–4
// may lack them until the daemon migrates the file, and an unreadable
// version says nothing of the layout, so only a file whose SchemaVersion
// reads 5 or more is checked (the schema-version finding covers the rest).
// An index matches by what it does, not by its name: for a UNIQUE key, a
// unique, non-partial index on the same set of columns; otherwise any
// non-partial index that starts with the columns.
func (ex *examiner) indexes() error {
	if v := ex.rep.SchemaVersion; v == nil || *v < KnownSchemaVersions[0] {
		return nil
	}
	for _, want := range versionIndexes {
		have, err := ex.indexesOf(want.table)
		if err != nil {
			return err
		}
		if slices.ContainsFunc(have, func(ix index) bool { return ix.serves(want.columns, want.unique) }) {
			continue
		}
		what := "index"
		if want.unique {
			what = "UNIQUE key"
		}
		if want.name != "" {
			what += " " + want.name
		}
		ex.add(Finding{Kind: MissingIndex, Table: want.table,
			Message: fmt.Sprintf("no %s on %s(%s): %s", what, want.table, strings.Join(want.columns, ", "), want.why)})
	}
	return nil
}

// index is one index of a table, as pragma_index_list and pragma_index_info
// describe it.
type index struct {
	unique, partial bool
	columns         []string // in index order
}

func (ix index) serves(columns []string, unique bool) bool {
	if ix.partial || len(ix.columns) < len(columns) {
		return false
	}
	if unique {
		if !ix.unique || len(ix.columns) != len(columns) {
			return false
		}
		a, b := slices.Clone(ix.columns), slices.Clone(columns)
		slices.Sort(a)
		slices.Sort(b)
		return slices.Equal(a, b)
	}
	return slices.Equal(ix.columns[:len(columns)], columns)
}

// indexesOf lists table's indexes. It reads only the schema, which was
// read before without error, so a failure here leaves nothing to examine.
func (ex *examiner) indexesOf(table string) ([]index, error) {
	rows, err := ex.db.QueryContext(ex.ctx, `SELECT l.name, l."unique", l.partial, i.name FROM pragma_index_list(?) AS l, pragma_index_info(l.name) AS i ORDER BY l.seq, i.seqno`, table)
	if err != nil {
		return nil, ex.queryError("the indexes of "+table, err)
	}
	defer rows.Close()
	var out []index
	last := ""
	for rows.Next() {
		var name string
		var unique, partial bool
		var col *string // NULL for an expression
		if err := rows.Scan(&name, &unique, &partial, &col); err != nil {
			return nil, ex.queryError("the indexes of "+table, err)
		}
		if name != last || len(out) == 0 {
			out = append(out, index{unique: unique, partial: partial})
			last = name
		}
		c := "(expression)"
		if col != nil {
			c = *col
		}
		ix := &out[len(out)-1]
		ix.columns = append(ix.columns, c)
	}
	if err := rows.Err(); err != nil {
		return nil, ex.queryError("the indexes of "+table, err)
	}
	return out, nil
}
