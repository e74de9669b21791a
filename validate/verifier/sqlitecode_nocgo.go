//go:build !cgo

package verifier

// SQLiteCode returns the primary SQLite result code of err, or 0. Built
// without cgo, go-sqlite3 is a stub whose driver opens nothing and which
// has no Error type: no error is SQLite's, so it is always 0. (calldir's
// commands that replay refuse to start in such a build.)
func SQLiteCode(err error) int { return 0 }
