//go:build cgo

package doctor

import (
	"errors"

	"github.com/mattn/go-sqlite3"
)

// sqliteCorrupt is SQLITE_CORRUPT, the code the daemon treats as damage
// (CALLKIT.md §3.5).
var sqliteCorrupt = int(sqlite3.ErrCorrupt)

// sqliteError returns the primary result code and message of err when it
// is an error from SQLite.
func sqliteError(err error) (code int, msg string, ok bool) {
	var se sqlite3.Error
	if !errors.As(err, &se) {
		return 0, "", false
	}
	return int(se.Code), se.Error(), true
}
