package doctor

import (
	"bytes"
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// dirState maps every file of dir to its bytes.
func dirState(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string][]byte{}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		m[e.Name()] = b
	}
	return m
}

func assertSameDir(t *testing.T, dir string, before map[string][]byte) {
	t.Helper()
	after := dirState(t, dir)
	for name, b := range before {
		if !bytes.Equal(after[name], b) {
			t.Errorf("%s changed (%d bytes before, %d after)", name, len(b), len(after[name]))
		}
	}
	for name := range after {
		if _, ok := before[name]; !ok {
			t.Errorf("%s appeared next to the database", name)
		}
	}
}

// liveCopy copies a database while conn (open on it) is in the middle of
// something, the way a sysdiagnose catches a live file: the database and
// its -journal and -wal as they are at that moment.
func liveCopy(t *testing.T, src string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "CallDirectory.db")
	for _, s := range []string{"", "-journal", "-wal"} {
		if _, err := os.Stat(src + s); err == nil {
			copyFile(t, src+s, dst+s)
		}
	}
	return dst
}

// TestWALIsReadFromTheCopy: rows committed to the -wal only (no checkpoint
// yet) are seen, and neither the database nor its -wal changes; no -shm
// appears next to them.
func TestWALIsReadFromTheCopy(t *testing.T) {
	src := replayDB(t, testPlan)
	db, err := sql.Open("sqlite3", "file:"+escapePath(src)+"?mode=rw&_journal_mode=WAL")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	for _, s := range []string{`PRAGMA wal_autocheckpoint = 0`, `DELETE FROM PhoneNumberBlockingEntry WHERE id > 500`} {
		if _, err := db.Exec(s); err != nil {
			t.Fatal(err)
		}
	}
	path := liveCopy(t, src)
	if _, err := os.Stat(path + "-wal"); err != nil {
		t.Fatalf("no -wal to test with: %v", err)
	}
	os.Remove(path + "-shm")
	before := dirState(t, filepath.Dir(path))
	rep := examine(t, path)
	assertSameDir(t, filepath.Dir(path), before)
	if got := rep.Extensions[0].BlockingRows; got != 500 || rep.JournalMode != "wal" || len(rep.Copied) != 2 || !rep.Healthy {
		t.Fatalf("blocking rows %d (want the -wal's 500), journal %q, copied %+v, findings %+v", got, rep.JournalMode, rep.Copied, rep.Findings)
	}
}

// TestHotJournalIsRolledBackInTheCopy: a copy taken in the middle of a
// transaction whose dirty pages spilled into the file has a hot journal;
// the copy is rolled back to the last commit and the original pair stays
// as it was.
func TestHotJournalIsRolledBackInTheCopy(t *testing.T) {
	src := replayDB(t, testPlan)
	db, err := sql.Open("sqlite3", "file:"+escapePath(src)+"?mode=rw")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	committed, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{`PRAGMA cache_size = 2`, `BEGIN`, `DELETE FROM PhoneNumberBlockingEntry`, `DELETE FROM PhoneNumber`} {
		if _, err := db.Exec(s); err != nil {
			t.Fatal(err)
		}
	}
	path := liveCopy(t, src)
	db.Exec(`ROLLBACK`)
	if fi, err := os.Stat(path + "-journal"); err != nil || fi.Size() == 0 {
		t.Fatalf("no hot journal to test with: %v", err)
	}
	if b, _ := os.ReadFile(path); bytes.Equal(b, committed) {
		t.Fatal("no dirty page spilled into the file: nothing to roll back")
	}
	before := dirState(t, filepath.Dir(path))
	rep := examine(t, path)
	assertSameDir(t, filepath.Dir(path), before)
	if got := rep.Extensions[0].BlockingRows; got != 2000 || !rep.Healthy {
		t.Fatalf("blocking rows %d (want 2,000: rolled back), findings %+v", got, rep.Findings)
	}
}

// TestOriginalUntouched: a damaged file, examined, stays byte-identical,
// and so does everything next to it.
func TestOriginalUntouched(t *testing.T) {
	path := replayDB(t, testPlan)
	damage(t, path, `UPDATE Extension SET state = 3`)
	before := dirState(t, filepath.Dir(path))
	rep := examine(t, path)
	if rep.Healthy {
		t.Fatal("state 3 not found")
	}
	assertSameDir(t, filepath.Dir(path), before)
}

// TestRefused: anything but a regular file, as FILE or as its -journal or
// -wal, is refused before anything is opened (a FIFO would block the
// reader; a symlink could lead anywhere).
func TestRefused(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "CallDirectory.db")
	copyFile(t, replayDB(t, testPlan), db)
	link := filepath.Join(dir, "link.db")
	fifo := filepath.Join(dir, "fifo.db")
	if err := os.Symlink(db, link); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	mustUnreadable(t, link, "refused: a symbolic link, not a regular file")
	mustUnreadable(t, fifo, "refused: a named pipe (FIFO), not a regular file")
	mustUnreadable(t, dir, "refused: a directory, not a regular file")
	mustUnreadable(t, filepath.Join(dir, "missing.db"), "not found")
	empty := filepath.Join(dir, "empty.db")
	os.WriteFile(empty, nil, 0o644)
	mustUnreadable(t, empty, "empty file (0 bytes)")

	if err := syscall.Mkfifo(db+"-journal", 0o644); err != nil {
		t.Fatal(err)
	}
	mustUnreadable(t, db, "refused: its -journal is a named pipe (FIFO)")
	os.Remove(db + "-journal")
	if err := os.Symlink(db, db+"-wal"); err != nil {
		t.Fatal(err)
	}
	mustUnreadable(t, db, "refused: its -wal is a symbolic link")
}

// TestTempRemoved: the copy is removed after the examination.
func TestTempRemoved(t *testing.T) {
	path := replayDB(t, testPlan)
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	if _, err := Examine(context.Background(), path); err != nil {
		t.Fatal(err)
	}
	if ents, _ := os.ReadDir(tmp); len(ents) != 0 {
		t.Errorf("left behind in the temporary directory: %v", ents)
	}
}
