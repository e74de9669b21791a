//go:build !unix

package outfs

import "errors"

var errSyncUnsupported = errors.New("sync unsupported")

// LockDir cannot lock here: runs are not serialized.
func LockDir(string) (func() error, error) { return func() error { return nil }, nil }
