package doctor

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/calldir/calldir/validate/verifier/doctor/doctortest"
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

// TestWALIsReadFromTheCopy: rows committed to the -wal only (no checkpoint
// yet) are seen, and neither the database nor its -wal changes; no -shm
// appears next to them. The report says so in one wal-replayed notice,
// counting what SQLite itself counts, and stays healthy.
func TestWALIsReadFromTheCopy(t *testing.T) {
	src := replayDB(t, testPlan)
	path := filepath.Join(t.TempDir(), "CallDirectory.db")
	walBytes := doctortest.WAL(t, src, path, `DELETE FROM PhoneNumberBlockingEntry WHERE id > 500`)
	before := dirState(t, filepath.Dir(path))
	rep := examine(t, path)
	assertSameDir(t, filepath.Dir(path), before)
	if got := rep.Extensions[0].BlockingRows; got != 500 || rep.JournalMode != "wal" || len(rep.Copied) != 2 || !rep.Healthy || len(rep.Findings) != 0 {
		t.Fatalf("blocking rows %d (want the -wal's 500), journal %q, copied %+v, findings %+v", got, rep.JournalMode, rep.Copied, rep.Findings)
	}
	frames := doctortest.WALFrames(t, path)
	if len(rep.Notices) != 1 || rep.Notices[0].Kind != WALReplayed || rep.Notices[0].Fix != WALReplayed.Fix() ||
		!strings.Contains(rep.Notices[0].Message, fmt.Sprintf("a -wal (%d bytes) holding 1 committed transaction(s), %d page write(s)", walBytes, frames)) {
		t.Errorf("notices %+v, want one wal-replayed of %d bytes, 1 transaction, %d frames", rep.Notices, walBytes, frames)
	}
}

// TestHotJournalIsRolledBackInTheCopy: a copy taken in the middle of a
// transaction whose dirty pages spilled into the file has a hot journal;
// the copy is rolled back to the last commit, the original pair stays as
// it was, and the report says so in one rolled-back notice while staying
// healthy.
func TestHotJournalIsRolledBackInTheCopy(t *testing.T) {
	src := replayDB(t, testPlan)
	committed, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "CallDirectory.db")
	n := doctortest.HotJournal(t, src, path)
	if b, _ := os.ReadFile(path); bytes.Equal(b, committed) {
		t.Fatal("no dirty page spilled into the file: nothing to roll back")
	}
	before := dirState(t, filepath.Dir(path))
	rep := examine(t, path)
	assertSameDir(t, filepath.Dir(path), before)
	if got := rep.Extensions[0].BlockingRows; got != 2000 || !rep.Healthy || len(rep.Findings) != 0 {
		t.Fatalf("blocking rows %d (want 2,000: rolled back), findings %+v", got, rep.Findings)
	}
	if len(rep.Notices) != 1 || rep.Notices[0].Kind != RolledBack || !strings.Contains(rep.Notices[0].Message, fmt.Sprintf("hot journal (%d bytes)", n)) {
		t.Errorf("notices %+v, want one rolled-back of %d bytes", rep.Notices, n)
	}
}

// TestNoNoticeWithoutAnything: a journal that is not hot (zeroed, as a
// persisted journal is after its commit) is ignored by SQLite, and a -wal
// whose transactions were all checkpointed away (truncated to its header)
// holds nothing: neither is a notice.
func TestNoNoticeWithoutAnything(t *testing.T) {
	src := replayDB(t, testPlan)
	path := filepath.Join(t.TempDir(), "CallDirectory.db")
	copyFile(t, src, path)
	if err := os.WriteFile(path+"-journal", make([]byte, 4096), 0o644); err != nil {
		t.Fatal(err)
	}
	if rep := examine(t, path); len(rep.Notices) != 0 || !rep.Healthy {
		t.Errorf("a zeroed journal: notices %+v, findings %+v", rep.Notices, rep.Findings)
	}
	os.Remove(path + "-journal")
	walPath := filepath.Join(t.TempDir(), "CallDirectory.db")
	doctortest.WAL(t, src, walPath, `UPDATE Extension SET priority = priority`)
	wal, err := os.ReadFile(walPath + "-wal")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(walPath+"-wal", wal[:walHeaderSize], 0o644); err != nil {
		t.Fatal(err)
	}
	if rep := examine(t, walPath); len(rep.Notices) != 0 || !rep.Healthy {
		t.Errorf("a -wal without frames: notices %+v, findings %+v", rep.Notices, rep.Findings)
	}
}

// TestOriginalUntouched: a damaged file, examined, stays byte-identical,
// and so does everything next to it.
func TestOriginalUntouched(t *testing.T) {
	path := replayDB(t, testPlan)
	doctortest.Exec(t, path, `UPDATE Extension SET state = 3`)
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
