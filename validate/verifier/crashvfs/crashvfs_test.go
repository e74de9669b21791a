package crashvfs

import (
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
)

// open opens path through the crash VFS (or the plain one).
func open(t *testing.T, path string, crash bool, pragmas ...string) *sql.DB {
	t.Helper()
	dsn := "file:" + path + "?mode=rw"
	if crash {
		dsn += "&vfs=" + Name
	}
	db, err := sql.Open("sqlite3", dsn)
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	for _, p := range pragmas {
		var got string
		if err := db.QueryRow(p).Scan(&got); err != nil && err != sql.ErrNoRows {
			t.Fatalf("%s: %v", p, err)
		}
		// journal_mode answers the mode it is in: WAL must work through
		// the shim (its shared memory is the real VFS's).
		if mode, ok := strings.CutPrefix(p, "PRAGMA journal_mode="); ok && got != mode {
			t.Fatalf("%s: the database is in journal mode %q", p, got)
		}
	}
	return db
}

func create(t *testing.T, path, journal string) {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+path+"?mode=rwc")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range []string{"PRAGMA journal_mode=" + journal, "CREATE TABLE t(x INTEGER PRIMARY KEY, y BLOB)"} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
}

// load commits n transactions of 50 rows each through db and returns how
// many committed before an error.
func load(db *sql.DB, n int) int {
	for i := 0; i < n; i++ {
		tx, err := db.Begin()
		if err != nil {
			return i
		}
		for j := 0; j < 50; j++ {
			if _, err := tx.Exec("INSERT INTO t(y) VALUES (randomblob(300))"); err != nil {
				tx.Rollback()
				return i
			}
		}
		if tx.Commit() != nil {
			return i
		}
	}
	return n
}

func count(t *testing.T, path string) (int, string) {
	t.Helper()
	db := open(t, path, false)
	defer db.Close()
	var ok string
	if err := db.QueryRow("PRAGMA integrity_check").Scan(&ok); err != nil {
		return -1, err.Error()
	}
	var n int
	if err := db.QueryRow("SELECT count(*) FROM t").Scan(&n); err != nil {
		return -1, err.Error()
	}
	return n, ok
}

// powerCase loads 6 transactions with the power failing at write k and
// returns the rows committed before the failure and the rows and
// integrity found after the reboot.
func powerCase(t *testing.T, journal, syncMode string, k int64, tear bool) (committed, found int, integrity string, res Result) {
	path := filepath.Join(t.TempDir(), "db")
	create(t, path, journal)
	run, err := Start(path, Config{PowerLossAt: k, DiskFullAt: -1, Tear: tear, Seed: uint64(k), Sector: 512})
	if err != nil {
		t.Fatal(err)
	}
	db := open(t, path, true, "PRAGMA journal_mode="+journal, "PRAGMA synchronous="+syncMode, "PRAGMA cache_size=5")
	committed = 50 * load(db, 6)
	db.Close()
	if res, err = run.Finish(); err != nil {
		t.Fatal(err)
	}
	found, integrity = count(t, path)
	return committed, found, integrity, res
}

// Under synchronous=full with a rollback journal or WAL, no power loss
// loses more than the last transaction or corrupts the file; with
// synchronous=off some power loss does.
func TestPowerLossDurability(t *testing.T) {
	for _, c := range []struct {
		journal, sync string
		safe          bool
	}{{"delete", "full", true}, {"wal", "full", true}, {"truncate", "full", true}, {"delete", "off", false}, {"off", "full", false}} {
		total := func() int64 {
			_, _, _, res := powerCase(t, c.journal, c.sync, -1, false)
			return res.Writes
		}()
		bad := 0
		for k := int64(0); k < total; k += 3 {
			for _, tear := range []bool{false, true} {
				committed, found, integrity, res := powerCase(t, c.journal, c.sync, k, tear)
				if !res.PoweredOff {
					t.Fatalf("%s/%s k=%d: the power did not fail", c.journal, c.sync, k)
				}
				if integrity != "ok" || found < committed-50 || found > committed+50 || found%50 != 0 {
					bad++
					if c.safe {
						t.Errorf("%s/%s k=%d tear=%v: %d rows committed, %d found, integrity %s (%s)", c.journal, c.sync, k, tear, committed, found, integrity, res)
					}
				}
			}
		}
		t.Logf("%s/%s: %d write points, %d bad cases", c.journal, c.sync, total, bad)
		if !c.safe && bad == 0 {
			t.Errorf("%s/%s: no power loss lost anything", c.journal, c.sync)
		}
	}
}

// A full disk refuses growth with SQLITE_FULL and leaves a sound file.
func TestDiskFull(t *testing.T) {
	path := filepath.Join(t.TempDir(), "db")
	create(t, path, "delete")
	run, err := Start(path, Config{PowerLossAt: -1, DiskFullAt: 40})
	if err != nil {
		t.Fatal(err)
	}
	db := open(t, path, true)
	committed := 50 * load(db, 10)
	var msg string
	if _, err := db.Exec("INSERT INTO t(y) VALUES (randomblob(100000))"); err != nil {
		msg = err.Error()
	}
	db.Close()
	res, err := run.Finish()
	if err != nil {
		t.Fatal(err)
	}
	found, integrity := count(t, path)
	if res.Refused == 0 || committed == 500 || found != committed || integrity != "ok" {
		t.Fatalf("refused %d, committed %d, found %d, integrity %s, %s", res.Refused, committed, found, integrity, msg)
	}
	t.Logf("disk full: %d rows committed, %d writes refused; %s", committed, res.Refused, msg)
}
