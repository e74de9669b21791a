package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/calldir/calldir/validate/verifier/doctor"
	"github.com/calldir/calldir/validate/verifier/doctor/doctortest"
)

// Issue 20, item 5: calldir doctor on files damaged by
// doctortest (cmd/calldir itself does not use SQLite), through the real
// CLI.

// doctorJSON is the part of doctor's JSON the tests read.
type doctorJSON struct {
	Healthy      bool              `json:"healthy"`
	Error        *string           `json:"error"`
	UnreadTables []string          `json:"unread_tables"`
	Extensions   []json.RawMessage `json:"extensions"`
	Findings     []findingJSON     `json:"findings"`
	Notices      []findingJSON     `json:"notices"`
	Integrity    []string          `json:"integrity"`
	Copied       []json.RawMessage `json:"copied"`
}

type findingJSON struct {
	Kind    string `json:"kind"`
	Section string `json:"section"`
	Table   string `json:"table"`
	Message string `json:"message"`
	Fix     string `json:"fix"`
}

// mustDoctorJSON runs doctor --format json on db, wants exit code want,
// and decodes stdout, which must be exactly one JSON object.
func mustDoctorJSON(t *testing.T, want int, args ...string) doctorJSON {
	t.Helper()
	out, _ := mustCLI(t, want, append([]string{"doctor", "--format", "json"}, args...)...)
	var rep doctorJSON
	dec := json.NewDecoder(strings.NewReader(out))
	if err := dec.Decode(&rep); err != nil || !strings.HasPrefix(out, "{") || dec.More() {
		t.Fatalf("stdout is not one JSON object: %v\n%s", err, out)
	}
	return rep
}

// TestDoctorExtensionUnreadable (item 5.1): an Extension table whose root
// page is damaged cannot be read. That is one corrupt finding naming the
// table and the error, the table is listed as unreadable, and no finding
// is derived from it: no entry row is said to belong to a missing
// extension.
func TestDoctorExtensionUnreadable(t *testing.T) {
	db := keptDB(t, doctorPlan, 0)
	doctortest.FlipRoot(t, db, "Extension")
	out, _ := mustCLI(t, 1, "doctor", db)
	for _, want := range []string{
		"\nunreadable: Extension (see the corrupt findings): nothing is concluded from what could not be read, and the checks that need it were skipped\n",
		"\n  corrupt: Extension: reading Extension failed: SQLite 11 (database disk image is malformed) [CALLKIT.md §3.5]\n",
		"\nno extension could be read\n",
		"\ndoctor: 4 finding(s) (corrupt 4); Extension unreadable, integrity_check failed\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in:\n%s", want, out)
		}
	}
	if strings.Contains(out, "unknown-extension") {
		t.Errorf("a finding derived from the unreadable Extension table:\n%s", out)
	}
	rep := mustDoctorJSON(t, 1, db)
	n := 0
	for _, f := range rep.Findings {
		if f.Kind != "corrupt" {
			t.Errorf("a finding that is not corrupt: %+v", f)
		}
		if f.Table == "Extension" {
			n++
		}
	}
	if n != 1 || !slices.Equal(rep.UnreadTables, []string{"Extension"}) || rep.Healthy {
		t.Errorf("%d findings on Extension (want 1), unread_tables %v", n, rep.UnreadTables)
	}
}

// TestDoctorNotices (item 5.2): a copy with a hot journal, or with a -wal
// of committed transactions, is healthy (exit 0) and says what SQLite did
// to it, with what to do, in text and JSON. The original and its siblings
// stay as they were.
func TestDoctorNotices(t *testing.T) {
	for _, c := range []struct {
		kind  string
		make  func(t *testing.T, src, dst string) int64
		words string
	}{
		{"rolled-back", func(t *testing.T, src, dst string) int64 { return doctortest.HotJournal(t, src, dst) },
			"the copy had a hot journal (%d bytes): SQLite rolled back an interrupted transaction in the copy"},
		{"wal-replayed", func(t *testing.T, src, dst string) int64 {
			return doctortest.WAL(t, src, dst, `DELETE FROM PhoneNumberBlockingEntry WHERE id > 500`)
		}, "the copy had a -wal (%d bytes) holding 1 committed transaction(s)"},
	} {
		t.Run(c.kind, func(t *testing.T) {
			dir := t.TempDir()
			db := filepath.Join(dir, "CallDirectory.db")
			n := c.make(t, keptDB(t, doctorPlan, 0), db)
			before := snapshotTree(t, dir)
			out, _ := mustCLI(t, 0, "doctor", db)
			assertSameTree(t, dir, before)
			kind := doctor.Kind(c.kind)
			for _, want := range []string{
				"\nnotices:\n  " + c.kind + ": " + fmt.Sprintf(c.words, n),
				"\nwhat to do:\n  " + c.kind + ": " + kind.Fix() + "\n",
				"\ndoctor: healthy; 2 extension(s), ",
				"; 1 notice(s) (" + c.kind + " 1)\n",
			} {
				if !strings.Contains(out, want) {
					t.Errorf("no %q in:\n%s", want, out)
				}
			}
			if strings.Contains(out, "findings:") {
				t.Errorf("a notice listed as a finding:\n%s", out)
			}
			rep := mustDoctorJSON(t, 0, db)
			if !rep.Healthy || len(rep.Findings) != 0 || len(rep.Notices) != 1 || rep.Notices[0].Kind != c.kind ||
				rep.Notices[0].Fix != kind.Fix() || rep.Notices[0].Section != "CALLKIT.md §3.1" || !strings.Contains(rep.Notices[0].Message, fmt.Sprintf(c.words, n)) {
				t.Errorf("JSON: %+v", rep)
			}
			assertSameTree(t, dir, before)
		})
	}
}

// TestDoctorMissingIndex (item 5.3): a version-5 file without its label
// index is a missing-index finding, exit 1.
func TestDoctorMissingIndex(t *testing.T) {
	db := keptDB(t, doctorPlan, 0)
	doctortest.Exec(t, db, `DROP INDEX idx_PhoneNumberIdentificationEntry_FK_Label`)
	out, _ := mustCLI(t, 1, "doctor", db)
	if !strings.Contains(out, "\n  missing-index: PhoneNumberIdentificationEntry: no index idx_PhoneNumberIdentificationEntry_FK_Label on PhoneNumberIdentificationEntry(label_id): ") ||
		!strings.Contains(out, "\ndoctor: 1 finding(s) (missing-index 1); ") {
		t.Errorf("text:\n%s", out)
	}
	rep := mustDoctorJSON(t, 1, db)
	if len(rep.Findings) != 1 || rep.Findings[0].Kind != "missing-index" || rep.Findings[0].Table != "PhoneNumberIdentificationEntry" || rep.Findings[0].Section != "CALLKIT.md §3.2" {
		t.Errorf("JSON findings %+v", rep.Findings)
	}
}

// TestDoctorWhatToDo (item 5.4): every finding kind reported comes with
// what to do: once per kind in text, in doctor's order of kinds, and with
// every finding in JSON.
func TestDoctorWhatToDo(t *testing.T) {
	db := keptDB(t, doctorPlan, 0)
	doctortest.Exec(t, db,
		`UPDATE Extension SET state = 3 WHERE id = 1`,         // stuck-loading
		`DELETE FROM Label WHERE localized_label = 'Dentist'`, // dangling-label
		`DROP INDEX idx_PhoneNumberIdentificationEntry_FK_Label`,
		`UPDATE PhoneNumberBlockingEntry SET phone_number_id = NULL WHERE id IN (1, 2)`, // null-id
	)
	out, _ := mustCLI(t, 1, "doctor", db)
	want := "\nwhat to do:\n"
	for _, k := range []doctor.Kind{doctor.MissingIndex, doctor.StuckLoading, doctor.NullID, doctor.DanglingLabel} {
		want += "  " + string(k) + ": " + k.Fix() + "\n"
	}
	if !strings.Contains(out, want+"\ndoctor: 4 finding(s) ") {
		t.Errorf("want\n%s\nin:\n%s", want, out)
	}
	rep := mustDoctorJSON(t, 1, db)
	if len(rep.Findings) != 4 {
		t.Errorf("findings %+v", rep.Findings)
	}
	for _, f := range rep.Findings {
		if f.Fix == "" || f.Fix != doctor.Kind(f.Kind).Fix() {
			t.Errorf("%s: fix %q, want %q", f.Kind, f.Fix, doctor.Kind(f.Kind).Fix())
		}
	}
}

// TestDoctorDocsKinds (item 5.4): docs/DOCTOR.md's tables list exactly the
// kinds doctor reports (findings in "Findings", notices in "Notices"), and
// its "What to do" table quotes each kind's fix verbatim; --help lists
// them all.
func TestDoctorDocsKinds(t *testing.T) {
	doc := mustRead(t, filepath.Join("..", "..", "docs", "DOCTOR.md"))
	tables := docTables(doc)
	var findings, notices []string
	fixes := map[string]string{}
	for _, k := range doctor.Kinds() {
		if k.Notice() {
			notices = append(notices, string(k))
		} else {
			findings = append(findings, string(k))
		}
		if k.Fix() == "" || k.Section() == "" || k.Summary() == "" {
			t.Errorf("%s: no fix, section or summary in doctor's table", k)
		}
		fixes[string(k)] = k.Fix()
	}
	for _, c := range []struct {
		heading string
		want    []string
	}{{"Findings", findings}, {"Notices", notices}, {"What to do", append(slices.Clone(findings), notices...)}} {
		var got []string
		for _, row := range tables[c.heading] {
			got = append(got, row[0])
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("docs/DOCTOR.md § %s lists %v, doctor reports %v (in this order)", c.heading, got, c.want)
		}
	}
	for _, row := range tables["What to do"] {
		if len(row) != 2 || row[1] != fixes[row[0]] {
			t.Errorf("docs/DOCTOR.md § What to do, %s:\n  %q\nwant doctor's fix:\n  %q", row[0], row[1:], fixes[row[0]])
		}
	}
	help, _ := mustCLI(t, 0, "doctor", "--help")
	for _, k := range doctor.Kinds() {
		if !regexp.MustCompile(`(?m)^ +` + regexp.QuoteMeta(string(k)) + `  +\S`).MatchString(help) {
			t.Errorf("--help does not list %s", k)
		}
	}
}

// docTables maps each "## " or "### " heading of a Markdown document to the
// rows of the table under it whose first cell is a `kind`: the kind, then
// the other cells.
func docTables(doc string) map[string][][]string {
	out := map[string][][]string{}
	heading := ""
	for _, line := range strings.Split(doc, "\n") {
		if strings.HasPrefix(line, "## ") || strings.HasPrefix(line, "### ") {
			heading = strings.TrimSpace(strings.TrimLeft(line, "#"))
			continue
		}
		if !strings.HasPrefix(line, "| `") {
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), " | ")
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		cells[0] = strings.Trim(cells[0], "`")
		out[heading] = append(out[heading], cells)
	}
	return out
}

// TestDoctorJSONOnEveryExit (item 5.5): with --format json, a file that
// cannot be examined (exit 2), a usage error and an interruption (130)
// still print one JSON object, of the report's shape, whose error is what
// stderr says.
func TestDoctorJSONOnEveryExit(t *testing.T) {
	dir := t.TempDir()
	good := []byte(mustRead(t, keptDB(t, doctorPlan, 0)))
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{filepath.Join(dir, "missing.db")}, "not found"},
		{[]string{mustWrite(t, filepath.Join(dir, "text.db"), "hello\n")}, `not an SQLite database (it does not start with "SQLite format 3")`},
		{[]string{mustWrite(t, filepath.Join(dir, "half.db"), string(good[:len(good)/2]))}, "truncated: the header counts"},
		{[]string{dir}, "refused: a directory, not a regular file"},
		{nil, "doctor: want one FILE.db"},
		{[]string{"a.db", "b.db"}, "doctor: want one FILE.db"},
	} {
		code, out, stderr := runCLI(t, "", append([]string{"doctor", "--format", "json"}, c.args...)...)
		var rep doctorJSON
		var raw map[string]json.RawMessage
		if err := json.Unmarshal([]byte(out), &rep); err != nil || json.Unmarshal([]byte(out), &raw) != nil {
			t.Errorf("%v: exit %d, stdout is not a JSON object: %v\n%s", c.args, code, err, out)
			continue
		}
		line := strings.TrimSuffix(strings.TrimPrefix(stderr, "calldir: "), "\n")
		if code != 2 || rep.Error == nil || *rep.Error != line || !strings.Contains(line, c.want) || rep.Healthy {
			t.Errorf("%v: exit %d, error %v, stderr %q, want %q", c.args, code, rep.Error, stderr, c.want)
		}
		// The report's shape: lists are [], not null or absent.
		for _, k := range []string{"findings", "notices", "extensions", "integrity", "copied", "unread_tables"} {
			if string(raw[k]) != "[]" {
				t.Errorf("%v: %s is %s, want []", c.args, k, raw[k])
			}
		}
	}
	// Interrupted before anything was read: exit 130, error "interrupted".
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var out, errb bytes.Buffer
	db := mustWrite(t, filepath.Join(dir, "CallDirectory.db"), string(good))
	code := runEnv(ctx, []string{"calldir", "doctor", "--format", "json", db}, &env{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, getenv: os.Getenv})
	var rep doctorJSON
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil || code != 130 || rep.Error == nil || *rep.Error != "interrupted" || errb.String() != "calldir: interrupted\n" {
		t.Errorf("interrupted: exit %d, %v, stdout %s, stderr %q", code, err, out.String(), errb.String())
	}
	// --format text prints nothing on stdout when it cannot examine.
	if _, out, _ := runCLI(t, "", "doctor", filepath.Join(dir, "missing.db")); out != "" {
		t.Errorf("text on exit 2: %q", out)
	}
}
