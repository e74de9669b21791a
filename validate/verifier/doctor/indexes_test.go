package doctor

import (
	"context"
	"slices"
	"strings"
	"testing"
)

// TestVersionIndexesAreTheModels: doctor requires every index and UNIQUE
// key of the verifier's model of version 5 (validate/verifier/schema.go),
// except Extension.bundle_id's, which CALLKIT.md §3.2 only calls probable.
// A model that gains or loses an index fails here until versionIndexes
// (and docs/DOCTOR.md) follow.
func TestVersionIndexesAreTheModels(t *testing.T) {
	path := replayDB(t, testPlan)
	db, err := openCopy(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ex := &examiner{ctx: context.Background(), db: db, path: path}
	var tables []string
	rows, err := db.Query(`SELECT name FROM sqlite_schema WHERE type = 'table'`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var n string
		rows.Scan(&n)
		tables = append(tables, n)
	}
	rows.Close()
	var model, required []string
	for _, table := range tables {
		ixs, err := ex.indexesOf(table)
		if err != nil {
			t.Fatal(err)
		}
		for _, ix := range ixs {
			model = append(model, describe(table, ix.columns, ix.unique))
		}
	}
	for _, w := range versionIndexes {
		required = append(required, describe(w.table, w.columns, w.unique))
	}
	required = append(required, describe("Extension", []string{"bundle_id"}, true)) // not required: see versionIndexes
	slices.Sort(model)
	slices.Sort(required)
	if !slices.Equal(model, required) {
		t.Errorf("the model's indexes %q, doctor's (with the bundle_id exception) %q", model, required)
	}
}

func describe(table string, columns []string, unique bool) string {
	s := table + "(" + strings.Join(columns, ",") + ")"
	if unique {
		s = "UNIQUE " + s
	}
	return s
}

// TestIndexServes: which index does the job of a required one.
func TestIndexServes(t *testing.T) {
	ab := []string{"a", "b"}
	for _, c := range []struct {
		ix     index
		cols   []string
		unique bool
		want   bool
	}{
		{index{unique: true, columns: ab}, ab, true, true},
		{index{unique: true, columns: []string{"b", "a"}}, ab, true, true}, // a key is a set
		{index{unique: false, columns: ab}, ab, true, false},
		{index{unique: true, columns: []string{"a", "b", "c"}}, ab, true, false}, // a wider key is a weaker one
		{index{unique: true, partial: true, columns: ab}, ab, true, false},
		{index{columns: []string{"a", "b"}}, []string{"a"}, false, true}, // a lookup uses a prefix
		{index{columns: []string{"b", "a"}}, []string{"a"}, false, false},
		{index{partial: true, columns: []string{"a"}}, []string{"a"}, false, false},
	} {
		if got := c.ix.serves(c.cols, c.unique); got != c.want {
			t.Errorf("%+v serves %v unique %v: %v, want %v", c.ix, c.cols, c.unique, got, c.want)
		}
	}
}
