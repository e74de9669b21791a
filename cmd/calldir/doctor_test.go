package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
)

// doctorPlan loads a blocking extension (2,000 rows) and an identification
// extension (101 rows): every step ok.
var doctorPlan = filepath.Join("..", "..", "fixtures", "plans", "two-extensions.plan")

// keptDB replays the plan file with --keep and returns the database it kept.
func keptDB(t *testing.T, plan string, want int) string {
	t.Helper()
	keep := filepath.Join(t.TempDir(), "keep")
	mustCLI(t, want, "replay", "--keep", keep, plan)
	return filepath.Join(keep, "CallDirectory.db")
}

func TestDoctorHealthy(t *testing.T) {
	db := keptDB(t, doctorPlan, 0)
	before := snapshotTree(t, filepath.Dir(db))
	out, _ := mustCLI(t, 0, "doctor", db)
	assertSameTree(t, filepath.Dir(db), before)
	for _, want := range []string{
		"schema version 5 (doctor knows 5)",
		"integrity_check: ok",
		"1   4 loaded  1         2,000     0               com.example.blocker",
		"2   4 loaded  2         0         101             com.example.ids",
		"PhoneNumber: 2,101 rows, 0 referenced by no entry",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in:\n%s", want, out)
		}
	}
	if lines := strings.Split(strings.TrimSpace(out), "\n"); lines[len(lines)-1] != "doctor: healthy; 2 extension(s), 2,101 entry rows, integrity_check ok" {
		t.Errorf("summary line: %q", lines[len(lines)-1])
	}
}

// TestDoctorFindings: duplicate.plan leaves a loaded extension with no
// rows (CallKit error 4, then the failure path): exit 1, the finding in
// text and in JSON, in the documented shape.
func TestDoctorFindings(t *testing.T) {
	db := keptDB(t, filepath.Join("..", "..", "fixtures", "plans", "duplicate.plan"), 1)
	out, _ := mustCLI(t, 1, "doctor", db)
	if !strings.Contains(out, "loaded-empty: extension 1 (com.example.blocker): state 4 (loaded) with no blocking or identification rows") ||
		!strings.Contains(out, "[CALLKIT.md §1.7 step 8]") || !strings.HasSuffix(out, "doctor: 1 finding(s) (loaded-empty 1); 1 extension(s), 0 entry rows, integrity_check ok\n") {
		t.Errorf("text:\n%s", out)
	}
	js, _ := mustCLI(t, 1, "doctor", "--format", "json", db)
	var top map[string]json.RawMessage
	if err := json.Unmarshal([]byte(js), &top); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for k := range top {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	want := []string{"copied", "extensions", "file", "findings", "free_pages", "healthy", "integrity", "journal_mode", "known_schema_versions",
		"labels", "notices", "omitted_findings", "page_size", "pages", "phone_numbers", "schema_version", "unread_tables"}
	if !slices.Equal(keys, want) {
		t.Errorf("JSON keys %v, want %v", keys, want)
	}
	var rep struct {
		Healthy  bool `json:"healthy"`
		Findings []struct {
			Kind        string `json:"kind"`
			Section     string `json:"section"`
			ExtensionID *int64 `json:"extension_id"`
			BundleID    string `json:"bundle_id"`
		} `json:"findings"`
		Extensions []struct {
			State     int64  `json:"state"`
			StateName string `json:"state_name"`
		} `json:"extensions"`
	}
	if err := json.Unmarshal([]byte(js), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Healthy || len(rep.Findings) != 1 || rep.Findings[0].Kind != "loaded-empty" || rep.Findings[0].Section != "CALLKIT.md §1.7 step 8" ||
		rep.Findings[0].ExtensionID == nil || *rep.Findings[0].ExtensionID != 1 || rep.Findings[0].BundleID != "com.example.blocker" ||
		rep.Extensions[0].State != 4 || rep.Extensions[0].StateName != "loaded" {
		t.Errorf("JSON: %+v", rep)
	}
}

// TestDoctorFlipped: one flipped byte in the blocking table's root page (a
// b-tree page header) is found by integrity_check: exit 1, corrupt only.
func TestDoctorFlipped(t *testing.T) {
	db := keptDB(t, doctorPlan, 0)
	b := []byte(mustRead(t, db))
	// The blocking table's root page: its number is in the schema record
	// on page 1, but the replay's layout is fixed, and the test checks the
	// finding names that tree.
	const root = 9
	b[(root-1)*4096] ^= 0xff
	mustWrite(t, db, string(b))
	out, _ := mustCLI(t, 1, "doctor", db)
	if !strings.Contains(out, "corrupt: integrity_check: Tree 9 page 9: btreeInitPage() returns error code 11") ||
		!strings.Contains(out, "problem(s), listed as corrupt findings") {
		t.Errorf("flipped page:\n%s", out)
	}
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "  ") && strings.Contains(l, ": ") && !strings.HasPrefix(l, "  corrupt: ") && !strings.HasPrefix(l, "  (") {
			t.Errorf("a finding that is not corrupt: %s", l)
		}
	}
}

// TestDoctorUnreadable: what cannot be examined exits 2 with one clear
// line, and is left as it was.
func TestDoctorUnreadable(t *testing.T) {
	dir := t.TempDir()
	db := keptDB(t, doctorPlan, 0)
	good := []byte(mustRead(t, db))
	// Renaming the table in page 1's schema records (same length, so the
	// records stay valid) gives an SQLite file without a Label table.
	renamed := append(bytes.ReplaceAll(good[:4096], []byte("Label"), []byte("Labex")), good[4096:]...)
	fifo := filepath.Join(dir, "fifo.db")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link.db")
	if err := os.Symlink(db, link); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		path string
		want string
	}{
		{mustWrite(t, filepath.Join(dir, "text.db"), "hello\n"), `not an SQLite database (it does not start with "SQLite format 3")`},
		{mustWrite(t, filepath.Join(dir, "half.db"), string(good[:len(good)/2])), "truncated: the header counts"},
		{mustWrite(t, filepath.Join(dir, "head.db"), string(good[:64])), "truncated past the header: 64 bytes"},
		{mustWrite(t, filepath.Join(dir, "renamed.db"), string(renamed)), "not a CallDirectory.db: missing table Label"},
		{fifo, "refused: a named pipe (FIFO), not a regular file"},
		{link, "refused: a symbolic link, not a regular file"},
		{dir, "refused: a directory, not a regular file"},
		{filepath.Join(dir, "missing.db"), "not found"},
	} {
		before := snapshotTree(t, dir)
		_, stderr := mustCLI(t, 2, "doctor", c.path)
		if want := "calldir: doctor " + c.path + ": " + c.want; !strings.HasPrefix(stderr, want) || strings.Count(stderr, "\n") != 1 {
			t.Errorf("stderr %q, want %q", stderr, want)
		}
		assertSameTree(t, dir, before)
	}
	mustCLI(t, 2, "doctor")
	mustCLI(t, 2, "doctor", "--format", "xml", db)
	out, _ := mustCLI(t, 0, "doctor", "--help")
	ex, st := strings.Index(out, "EXAMPLES:"), strings.Index(out, "EXIT STATUS:")
	if ex < 0 || st < ex || !strings.Contains(out[st:], "130  interrupted") {
		t.Errorf("help does not end with examples and the exit table:\n%s", out)
	}
}
