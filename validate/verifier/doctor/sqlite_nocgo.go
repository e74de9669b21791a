//go:build !cgo

package doctor

// sqliteCorrupt is SQLITE_CORRUPT (CALLKIT.md §3.5).
const sqliteCorrupt = 11

// sqliteError returns the primary result code and message of err when it
// is an error from SQLite. Built without cgo, go-sqlite3 is a stub whose
// driver opens nothing and which has no Error type: no error is SQLite's.
// (calldir doctor refuses to start in such a build.)
func sqliteError(err error) (code int, msg string, ok bool) { return 0, "", false }
