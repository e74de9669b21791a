package verifier

import (
	"net/url"
	"strconv"
)

// dsn is the go-sqlite3 data source name: read-write without create, as
// the daemon opens it (CALLKIT.md §3.1), unless create is set (model setup).
func dsn(s Settings, path string, create bool) string {
	q := url.Values{}
	mode := "rw"
	if create {
		mode = "rwc"
	}
	q.Set("mode", mode)
	if s.SharedCache {
		q.Set("cache", "shared")
	}
	if s.VFS != "" {
		q.Set("vfs", s.VFS)
	}
	q.Set("_foreign_keys", "1")
	q.Set("_busy_timeout", strconv.FormatInt(s.BusyTimeout.Milliseconds(), 10))
	return "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + q.Encode()
}
