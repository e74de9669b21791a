package doctor

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/calldir/calldir/validate/verifier"
	"github.com/calldir/calldir/validate/verifier/doctor/doctortest"
)

// testPlan loads a blocking extension (id 1, 2,000 rows) and an
// identification extension (id 2, 101 rows, two labels): every step ok.
var testPlan = func() string {
	b, err := os.ReadFile(filepath.Join("..", "..", "..", "fixtures", "plans", "two-extensions.plan"))
	if err != nil {
		panic(err)
	}
	return string(b)
}()

// replayDB replays plan as calldir replay --keep does and returns the
// database it kept.
func replayDB(t testing.TB, plan string) string {
	t.Helper()
	dir := t.TempDir()
	p, err := verifier.ParsePlan(strings.NewReader(plan), "test.plan", dir)
	if err != nil {
		t.Fatal(err)
	}
	keep := filepath.Join(dir, "keep")
	rep, err := verifier.Replay(context.Background(), p, verifier.Options{Dir: keep})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Outcome.Class != verifier.ClassOK {
		t.Fatalf("replay: %s", rep.Outcome)
	}
	return filepath.Join(keep, "CallDirectory.db")
}

func examine(t *testing.T, path string) *Report {
	t.Helper()
	rep, err := Examine(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// kinds lists the distinct kinds of a report's findings, sorted.
func kinds(r *Report) []Kind {
	var ks []Kind
	for _, f := range r.Findings {
		if !slices.Contains(ks, f.Kind) {
			ks = append(ks, f.Kind)
		}
	}
	slices.Sort(ks)
	return ks
}

func mustUnreadable(t *testing.T, path, want string) *UnreadableError {
	t.Helper()
	_, err := Examine(context.Background(), path)
	var ue *UnreadableError
	if !errors.As(err, &ue) {
		t.Fatalf("Examine(%s): %v, want an UnreadableError", path, err)
	}
	if !strings.Contains(ue.Error(), want) {
		t.Fatalf("Examine(%s): %q, want it to say %q", path, ue.Error(), want)
	}
	return ue
}

func TestHealthy(t *testing.T) {
	rep := examine(t, replayDB(t, testPlan))
	if !rep.Healthy || len(rep.Findings) != 0 {
		t.Fatalf("findings on a healthy database: %+v", rep.Findings)
	}
	if rep.SchemaVersion == nil || *rep.SchemaVersion != 5 || !slices.Equal(rep.Integrity, []string{"ok"}) || rep.JournalMode != "delete" {
		t.Errorf("schema %v, integrity %v, journal %q", rep.SchemaVersion, rep.Integrity, rep.JournalMode)
	}
	if rep.PageSize != 4096 || rep.Pages < 2 || rep.FreePages != 0 {
		t.Errorf("pages: %d of %d bytes, %d free", rep.Pages, rep.PageSize, rep.FreePages)
	}
	want := []struct {
		bundle       string
		state        int64
		block, ident int64
		name         string
	}{{"com.example.blocker", 4, 2000, 0, "loaded"}, {"com.example.ids", 4, 0, 101, "loaded"}}
	if len(rep.Extensions) != len(want) {
		t.Fatalf("extensions: %+v", rep.Extensions)
	}
	for i, w := range want {
		e := rep.Extensions[i]
		if e.ID != int64(i+1) || *e.BundleID != w.bundle || *e.State != w.state || e.StateName != w.name ||
			e.BlockingRows != w.block || e.IdentificationRows != w.ident || e.StateLastModified == nil {
			t.Errorf("extension %d: %+v, want %+v", i+1, e, w)
		}
	}
	if !sharedIs(rep.PhoneNumbers, 2101, 0) || !sharedIs(rep.Labels, 2, 0) {
		t.Errorf("shared tables: %+v %+v", rep.PhoneNumbers, rep.Labels)
	}
}

// TestUnreferencedIsNotAFinding: a complete reload leaves the numbers it
// replaced in PhoneNumber until maintenance (CALLKIT.md §1.7 step 10):
// counted, but healthy.
func TestUnreferencedIsNotAFinding(t *testing.T) {
	rep := examine(t, replayDB(t, testPlan+`load block complete
  block range 14155550000 14155550999
end
`))
	if !rep.Healthy || !sharedIs(rep.PhoneNumbers, 2101, 1000) {
		t.Fatalf("healthy %v, phone numbers %+v, findings %+v", rep.Healthy, rep.PhoneNumbers, rep.Findings)
	}
}

// TestInjected breaks one invariant per case with plain SQL on a copy and
// requires exactly that finding kind, with its identity.
func TestInjected(t *testing.T) {
	one := int64(1)
	cases := []struct {
		name  string
		sql   []string
		kind  Kind
		ext   *int64
		table string
	}{
		{"loaded-empty", []string{`DELETE FROM PhoneNumberBlockingEntry WHERE extension_id = 1`}, LoadedEmpty, &one, ""},
		{"stuck-loading", []string{`UPDATE Extension SET state = 3 WHERE id = 1`}, StuckLoading, &one, "Extension"},
		{"unknown-state", []string{`UPDATE Extension SET state = 9 WHERE id = 1`}, UnknownState, &one, "Extension"},
		{"unknown-state-text", []string{`UPDATE Extension SET state = 'on' WHERE id = 1`}, UnknownState, &one, "Extension"},
		{"rows-not-loaded", []string{`UPDATE Extension SET state = 1 WHERE id = 1`}, RowsNotLoaded, &one, ""},
		{"schema-version-new", []string{`UPDATE SchemaVersion SET version = 6`}, SchemaVersionKind, nil, "SchemaVersion"},
		{"schema-version-empty", []string{`DELETE FROM SchemaVersion`}, SchemaVersionKind, nil, "SchemaVersion"},
		{"unknown-extension", []string{`DELETE FROM Extension WHERE id = 1`}, UnknownExtension, &one, tableBlocking},
		{"null-number", []string{`UPDATE PhoneNumberBlockingEntry SET phone_number_id = NULL WHERE id = (SELECT MIN(id) FROM PhoneNumberBlockingEntry)`}, NullID, &one, tableBlocking},
		{"null-label", []string{`UPDATE PhoneNumberIdentificationEntry SET label_id = NULL WHERE id = (SELECT MIN(id) FROM PhoneNumberIdentificationEntry)`}, NullID, ptr(2), tableIdent},
		{"null-extension", []string{`UPDATE PhoneNumberIdentificationEntry SET extension_id = NULL WHERE id = (SELECT MIN(id) FROM PhoneNumberIdentificationEntry)`}, NullID, nil, tableIdent},
		// An orphan: an entry whose PhoneNumber row is gone.
		{"dangling-number", []string{`DELETE FROM PhoneNumber WHERE id = (SELECT phone_number_id FROM PhoneNumberBlockingEntry ORDER BY id LIMIT 1)`}, DanglingNumber, &one, tableBlocking},
		{"dangling-label", []string{`DELETE FROM Label WHERE localized_label = 'Dentist'`}, DanglingLabel, ptr(2), tableIdent},
		{"duplicate-identification", []string{`INSERT INTO PhoneNumberIdentificationEntry (extension_id, phone_number_id, label_id) SELECT extension_id, phone_number_id, label_id FROM PhoneNumberIdentificationEntry ORDER BY id LIMIT 1`}, DuplicateEntry, ptr(2), tableIdent},
		// The blocking table's UNIQUE key cannot be dropped (it belongs to
		// the table), so the table is rebuilt without it: that is a
		// missing-index finding too.
		{"duplicate-blocking", append(rebuild(tableBlocking, `id INTEGER PRIMARY KEY, extension_id INTEGER, phone_number_id INTEGER`),
			`INSERT INTO PhoneNumberBlockingEntry (extension_id, phone_number_id) SELECT extension_id, phone_number_id FROM PhoneNumberBlockingEntry WHERE id = 7`),
			DuplicateEntry, &one, tableBlocking},
		// Version 5's indexes, one at a time.
		{"missing-label-index", []string{`DROP INDEX idx_PhoneNumberIdentificationEntry_FK_Label`}, MissingIndex, nil, tableIdent},
		{"missing-blocking-key", rebuild(tableBlocking, `id INTEGER PRIMARY KEY, extension_id INTEGER, phone_number_id INTEGER`), MissingIndex, nil, tableBlocking},
		{"missing-number-key", rebuild("PhoneNumber", `id INTEGER PRIMARY KEY, number INTEGER`), MissingIndex, nil, "PhoneNumber"},
		{"missing-label-key", rebuild("Label", `id INTEGER PRIMARY KEY, localized_label TEXT`), MissingIndex, nil, "Label"},
		// An index that does the same job under another name is enough.
		{"renamed-label-index", []string{`DROP INDEX idx_PhoneNumberIdentificationEntry_FK_Label`, `CREATE INDEX other ON PhoneNumberIdentificationEntry(label_id, extension_id)`,
			`UPDATE Extension SET state = 3 WHERE id = 1`}, StuckLoading, &one, "Extension"},
		// Version 4 has no label index yet (the migration to 5 adds it):
		// only the version is a finding.
		{"version-4-without-label-index", []string{`DROP INDEX idx_PhoneNumberIdentificationEntry_FK_Label`, `UPDATE SchemaVersion SET version = 4`},
			SchemaVersionKind, nil, "SchemaVersion"},
	}
	// A second finding a case's fault cannot avoid.
	also := map[string]Kind{"duplicate-blocking": MissingIndex}
	base := replayDB(t, testPlan)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "CallDirectory.db")
			copyFile(t, base, path)
			doctortest.Exec(t, path, c.sql...)
			rep := examine(t, path)
			want := []Kind{c.kind}
			if k := also[c.name]; k != "" {
				want = append(want, k)
				slices.Sort(want)
			}
			if got := kinds(rep); !slices.Equal(got, want) || len(rep.Findings) != len(want) || rep.Healthy {
				t.Fatalf("findings %+v, want one of each of %v", rep.Findings, want)
			}
			f := rep.Findings[slices.IndexFunc(rep.Findings, func(f Finding) bool { return f.Kind == c.kind })]
			if (f.ExtensionID == nil) != (c.ext == nil) || c.ext != nil && *f.ExtensionID != *c.ext || f.Table != c.table || f.Section != c.kind.Section() || f.Message == "" || f.Fix != c.kind.Fix() || f.Fix == "" {
				t.Errorf("finding %+v: want extension %v, table %q", f, c.ext, c.table)
			}
			if c.kind == DuplicateEntry && (f.Number == nil || f.Rows != 2) {
				t.Errorf("a duplicate names its number and rows: %+v", f)
			}
		})
	}
}

func ptr(n int64) *int64 { return &n }

// rebuild recreates table with columns (and so without the UNIQUE keys,
// which belong to the table and cannot be dropped), keeping its rows.
func rebuild(table, columns string) []string {
	return []string{
		`CREATE TABLE t AS SELECT * FROM ` + table,
		`DROP TABLE ` + table,
		`CREATE TABLE ` + table + ` (` + columns + `)`,
		`INSERT INTO ` + table + ` SELECT * FROM t`,
		`DROP TABLE t`,
	}
}

func sharedIs(s Shared, rows, unreferenced int64) bool {
	return s.Rows != nil && *s.Rows == rows && s.Unreferenced != nil && *s.Unreferenced == unreferenced
}

// TestFlippedPage flips the page-type byte of a b-tree's root page (the
// blocking table's, then its UNIQUE index's): integrity_check fails, and
// every failure is a corrupt finding. Counting the blocking rows reads the
// index, so when the index is broken the counts are marked unknown rather
// than reported as a loaded extension with zero rows.
func TestFlippedPage(t *testing.T) {
	for _, c := range []struct {
		tree          string
		countsUnknown bool
	}{
		{"PhoneNumberBlockingEntry", false},
		{"sqlite_autoindex_PhoneNumberBlockingEntry_1", true},
	} {
		path := replayDB(t, testPlan)
		doctortest.FlipRoot(t, path, c.tree)
		rep := examine(t, path)
		if got := kinds(rep); !slices.Equal(got, []Kind{Corrupt}) {
			t.Fatalf("%s: kinds %v, want [corrupt]: %+v", c.tree, got, rep.Findings)
		}
		if slices.Equal(rep.Integrity, []string{"ok"}) || rep.Extensions[0].CountsUnknown != c.countsUnknown {
			t.Errorf("%s: integrity %v, counts unknown %v", c.tree, rep.Integrity, rep.Extensions[0].CountsUnknown)
		}
	}
}

func TestTruncated(t *testing.T) {
	path := replayDB(t, testPlan)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(path, fi.Size()/2); err != nil {
		t.Fatal(err)
	}
	mustUnreadable(t, path, "truncated: the header counts")
	if err := os.Truncate(path, 60); err != nil {
		t.Fatal(err)
	}
	mustUnreadable(t, path, "truncated past the header: 60 bytes")
}

func TestMissingTable(t *testing.T) {
	for _, c := range []struct{ sql, want string }{
		{`DROP TABLE Label`, "not a CallDirectory.db: missing table Label"},
		{`ALTER TABLE Extension DROP COLUMN priority`, "not a CallDirectory.db: table Extension has no column priority"},
	} {
		path := replayDB(t, testPlan)
		doctortest.Exec(t, path, c.sql)
		mustUnreadable(t, path, c.want)
	}
}
