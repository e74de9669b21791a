//go:build !cgo

package crashvfs

import "errors"

// register fails without cgo: the VFS is shim.c, registered with SQLite
// and forwarding to its "unix" VFS through the C API (hooks.go), and
// go-sqlite3 built without cgo has no SQLite to register with. The rest
// of the package compiles, so that a cgo-less build (a cross-build for
// macOS) builds and vets; calldir's commands that need it say so first.
func register() error {
	return errors.New("crashvfs: needs a cgo build: the VFS is registered through SQLite's C API (go-sqlite3)")
}
