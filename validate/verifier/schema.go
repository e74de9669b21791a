package verifier

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/calldir/calldir/shard/outfs"
)

// SchemaVersion is CallDirectory.db's current schema version (CALLKIT.md §3.2).
const SchemaVersion = 5

// schema is the reconstructed CallDirectory.db schema of CALLKIT.md §3.2. The
// CREATE TABLE text of Apple's template is not public: columns named by the
// system's SQL are [RE]; the UNIQUE keys, the id columns of the entry tables
// and the foreign keys (ON DELETE CASCADE to Extension) are [Inf].
// phone_number_id and label_id carry no REFERENCES clause: with foreign
// keys on and no index on those columns, the orphan cleanup would scan the
// entry tables once per deleted PhoneNumber row (quadratic), which the
// daemon's maintenance evidently does not suffer.
var schema = []string{
	`CREATE TABLE SchemaVersion (version INTEGER)`,
	`INSERT INTO SchemaVersion (version) VALUES (5)`,
	`CREATE TABLE Extension (id INTEGER PRIMARY KEY, bundle_id TEXT UNIQUE, priority INTEGER, state INTEGER NOT NULL DEFAULT 1, state_last_modified REAL NOT NULL DEFAULT 0.0)`,
	`CREATE TABLE PhoneNumber (id INTEGER PRIMARY KEY, number INTEGER UNIQUE)`,
	`CREATE TABLE Label (id INTEGER PRIMARY KEY, localized_label TEXT UNIQUE)`,
	`CREATE TABLE PhoneNumberBlockingEntry (id INTEGER PRIMARY KEY, extension_id INTEGER REFERENCES Extension(id) ON DELETE CASCADE, phone_number_id INTEGER, UNIQUE(extension_id, phone_number_id))`,
	`CREATE TABLE PhoneNumberIdentificationEntry (id INTEGER PRIMARY KEY, extension_id INTEGER REFERENCES Extension(id) ON DELETE CASCADE, phone_number_id INTEGER, label_id INTEGER)`,
	`CREATE INDEX idx_PhoneNumberIdentificationEntry_FK_Label ON PhoneNumberIdentificationEntry(label_id)`,
}

// The daemon's statements, verbatim from CALLKIT.md §3.3 (CXCallDirectoryStore,
// iOS 26.1). Multi-row forms are built per row count by the functions below.
const (
	sqlInsertExtension = `INSERT INTO Extension (bundle_id, priority, state_last_modified) VALUES (?, (SELECT IFNULL(MAX(priority), 0) + 1 FROM Extension), ((julianday('now') - 2440587.5)*86400.0))`
	sqlSetState        = `UPDATE Extension SET state = ?, state_last_modified = ((julianday('now') - 2440587.5)*86400.0) WHERE (id = ?)`
	sqlDeleteBlocking  = `DELETE FROM PhoneNumberBlockingEntry WHERE extension_id = ?`
	sqlDeleteIdent     = `DELETE FROM PhoneNumberIdentificationEntry WHERE extension_id = ?`
	sqlOrphanNumbers   = `DELETE FROM PhoneNumber WHERE id NOT IN (SELECT DISTINCT phone_number_id FROM PhoneNumberIdentificationEntry UNION SELECT DISTINCT phone_number_id FROM PhoneNumberBlockingEntry)`
	sqlOrphanLabels    = `DELETE FROM Label WHERE id NOT IN (SELECT DISTINCT label_id FROM PhoneNumberIdentificationEntry)`
	sqlVacuum          = `VACUUM`
	sqlBegin           = `BEGIN TRANSACTION`
	sqlCommit          = `COMMIT TRANSACTION`
	sqlRollback        = `ROLLBACK TRANSACTION`
	sqlSchemaVersion   = `SELECT MAX(version) FROM SchemaVersion`
	// sqlLookup is the call-time blocking lookup a reader runs (CALLKIT.md §3.3).
	sqlLookup = `SELECT EXISTS(SELECT 1 FROM PhoneNumberBlockingEntry INNER JOIN PhoneNumber ON (PhoneNumber.id = PhoneNumberBlockingEntry.phone_number_id) INNER JOIN Extension ON (Extension.id = PhoneNumberBlockingEntry.extension_id) WHERE (Extension.state = 4 AND PhoneNumber.number IN (?)) LIMIT 1)`
)

func repeatJoin(head, unit string, n int) string {
	var b strings.Builder
	b.Grow(len(head) + n*(len(unit)+1))
	b.WriteString(head)
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(unit)
	}
	return b.String()
}

func sqlInsertNumbers(n int) string {
	return repeatJoin(`INSERT OR IGNORE INTO PhoneNumber (number) VALUES `, `(?)`, n)
}

func sqlInsertLabels(n int) string {
	return repeatJoin(`INSERT OR IGNORE INTO Label (localized_label) VALUES `, `(?)`, n)
}

func sqlInsertBlocking(n int) string {
	return repeatJoin(`INSERT INTO PhoneNumberBlockingEntry (extension_id, phone_number_id) VALUES `, `(?, (SELECT id FROM PhoneNumber WHERE (number = ?)))`, n)
}

func sqlInsertIdent(n int) string {
	return repeatJoin(`INSERT INTO PhoneNumberIdentificationEntry (extension_id, phone_number_id, label_id) VALUES `,
		`(?, (SELECT id FROM PhoneNumber WHERE (number = ?)), (SELECT id FROM Label WHERE (localized_label = ?)))`, n)
}

func sqlRemove(table string, n int) string {
	return `DELETE FROM ` + table + ` WHERE extension_id = ? AND phone_number_id IN (SELECT id FROM PhoneNumber WHERE number IN (` +
		strings.TrimSuffix(strings.Repeat("?,", n), ",") + `))`
}

// DBName is the model database's file name, as on a device.
const DBName = "CallDirectory.db"

// dbCompanions are the files SQLite keeps beside a database.
var dbCompanions = []string{"-journal", "-wal", "-shm"}

// appID is the application_id (offset 68 of the SQLite header) of the
// databases calldir makes, "CDIR": how a kept database is told from
// someone else's (a device's CallDirectory.db copied for doctor, say),
// which is never replaced.
const appID = 0x43444952

// markDB stamps a new model database as calldir's.
var markDB = fmt.Sprintf("PRAGMA application_id = %d", appID)

// DBMark recognises a model database calldir made (shard/outfs).
var DBMark = &outfs.FileMark{Kind: "calldir model database", Prove: proveDB}

// proveDB checks the SQLite header's magic and application_id.
func proveDB(f *os.File) error {
	var h [100]byte
	if _, err := io.ReadFull(f, h[:]); err != nil {
		return errors.New("not a SQLite database")
	}
	if string(h[:16]) != "SQLite format 3\x00" {
		return errors.New("not a SQLite database")
	}
	if id := binary.BigEndian.Uint32(h[68:72]); id != appID {
		return fmt.Errorf("a SQLite database with application_id %d, not calldir's", id)
	}
	return nil
}
