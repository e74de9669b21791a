//go:build cgo

package verifier

import (
	"errors"

	"github.com/mattn/go-sqlite3"
)

// SQLiteCode returns the primary SQLite result code of err, or 0.
func SQLiteCode(err error) int {
	var se sqlite3.Error
	if errors.As(err, &se) {
		return int(se.Code)
	}
	return 0
}
