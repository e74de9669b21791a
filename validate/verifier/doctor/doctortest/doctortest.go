// Package doctortest damages copies of a CallDirectory.db the way the
// doctor tests need, for the tests of validate/verifier/doctor and of the
// calldir doctor command (cmd/calldir cannot use SQLite directly: the
// driver lives in the verifier's packages, STYLE.md 2). Like net/http's
// httptest it is for tests only; no command imports it.
//
// Every function works on a file the test owns (a copy, or a database
// replay --keep left in the test's temporary directory) and fails the test
// on any error.
package doctortest

import (
	"database/sql"
	"net/url"
	"os"
	"testing"

	_ "github.com/mattn/go-sqlite3" // the verifier's SQLite driver
)

func open(tb testing.TB, path, query string) *sql.DB {
	tb.Helper()
	db, err := sql.Open("sqlite3", "file:"+(&url.URL{Path: path}).EscapedPath()+"?"+query)
	if err != nil {
		tb.Fatal(err)
	}
	// One connection: the statements share a transaction and a journal
	// mode.
	db.SetMaxOpenConns(1)
	return db
}

// Exec runs stmts on the database at path, foreign keys off, as a tool
// editing the file by hand would.
func Exec(tb testing.TB, path string, stmts ...string) {
	tb.Helper()
	db := open(tb, path, "mode=rw")
	defer db.Close()
	for _, s := range stmts {
		if _, err := db.Exec(s); err != nil {
			tb.Fatalf("%s: %v", s, err)
		}
	}
}

// RootPage is the root page number of the table or index named tree.
func RootPage(tb testing.TB, path, tree string) int64 {
	tb.Helper()
	db := open(tb, path, "mode=ro")
	defer db.Close()
	var root int64
	if err := db.QueryRow(`SELECT rootpage FROM sqlite_schema WHERE name = ?`, tree).Scan(&root); err != nil {
		tb.Fatalf("root page of %s: %v", tree, err)
	}
	return root
}

// FlipRoot inverts the first byte of the b-tree header of tree's root page
// (its page type), so that every read of tree fails with SQLITE_CORRUPT
// while the schema on page 1 stays readable.
func FlipRoot(tb testing.TB, path, tree string) {
	tb.Helper()
	root := RootPage(tb, path, tree)
	var size int64
	db := open(tb, path, "mode=ro")
	err := db.QueryRow(`PRAGMA page_size`).Scan(&size)
	db.Close()
	if err != nil {
		tb.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	off := (root - 1) * size
	if root == 1 {
		off = 100 // page 1's b-tree header follows the database header
	}
	b[off] ^= 0xff
	if err := os.WriteFile(path, b, 0o644); err != nil {
		tb.Fatal(err)
	}
}

// HotJournal writes to dst (and dst-journal) a copy of the database at src
// taken in the middle of a transaction whose dirty pages spilled into the
// file: a hot journal, as a copy of a live file caught mid-write has. The
// transaction deletes every blocking entry and phone number, and is rolled
// back in src afterwards, so src stays as it was. It returns the size of
// the journal, bytes.
func HotJournal(tb testing.TB, src, dst string) int64 {
	tb.Helper()
	db := open(tb, src, "mode=rw")
	defer db.Close()
	// A cache of two pages spills the transaction's pages into the file
	// long before its COMMIT.
	for _, s := range []string{`PRAGMA cache_size = 2`, `BEGIN`, `DELETE FROM PhoneNumberBlockingEntry`, `DELETE FROM PhoneNumber`} {
		if _, err := db.Exec(s); err != nil {
			tb.Fatalf("%s: %v", s, err)
		}
	}
	copyFile(tb, src, dst)
	n := copyFile(tb, src+"-journal", dst+"-journal")
	if _, err := db.Exec(`ROLLBACK`); err != nil {
		tb.Fatal(err)
	}
	if n == 0 {
		tb.Fatal("an empty journal: no hot journal to test with")
	}
	return n
}

// WAL writes to dst (and dst-wal) a copy of the database at src switched to
// WAL mode, after stmts ran on it as transactions committed to the -wal
// only (no checkpoint): what a copy of a live WAL database holds. The
// -shm is not copied (doctor does not read it). It returns the size of
// the -wal, bytes.
func WAL(tb testing.TB, src, dst string, stmts ...string) int64 {
	tb.Helper()
	db := open(tb, src, "mode=rw&_journal_mode=WAL")
	defer db.Close()
	for _, s := range append([]string{`PRAGMA wal_autocheckpoint = 0`}, stmts...) {
		if _, err := db.Exec(s); err != nil {
			tb.Fatalf("%s: %v", s, err)
		}
	}
	copyFile(tb, src, dst)
	return copyFile(tb, src+"-wal", dst+"-wal")
}

// WALFrames is what SQLite itself counts in the -wal of the database at
// path: the frames a checkpoint would copy into the database, from a
// checkpoint run on a throwaway copy (path is not changed). Tests compare
// doctor's own reading of the -wal with it.
func WALFrames(tb testing.TB, path string) int64 {
	tb.Helper()
	dir := tb.TempDir()
	cp := dir + "/db"
	copyFile(tb, path, cp)
	copyFile(tb, path+"-wal", cp+"-wal")
	db := open(tb, cp, "mode=rw")
	defer db.Close()
	var busy, log, done int64
	if err := db.QueryRow(`PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &log, &done); err != nil {
		tb.Fatal(err)
	}
	return log
}

func copyFile(tb testing.TB, src, dst string) int64 {
	tb.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o644); err != nil {
		tb.Fatal(err)
	}
	return int64(len(b))
}
