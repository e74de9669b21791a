//go:build unix

package outfs

import (
	"fmt"
	"os"
	"syscall"
)

// errSyncUnsupported is what syncing a directory says where it cannot be
// done; nothing here.
var errSyncUnsupported = syscall.Errno(0xffff)

// LockDir takes an exclusive advisory lock (flock) on the directory dir
// itself, so that no lock file appears anywhere; it blocks until the lock
// is free. unlock releases it. Every calldir run that swaps an output in
// dir, or uses dir as locked state (a cache), takes it first.
func LockDir(dir string) (unlock func() error, err error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", dir, unwrapPathError(err))
	}
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX)
		if err != syscall.EINTR {
			break
		}
	}
	if err == syscall.ENOLCK || err == syscall.EOPNOTSUPP || err == syscall.ENOTSUP || err == syscall.ENOSYS {
		// A file system without flock (some network mounts): the
		// compare-and-swap is not serialized there, as on systems
		// without flock at all. (macOS says ENOTSUP, a number of its
		// own; on Linux it is EOPNOTSUPP's.)
		f.Close()
		return func() error { return nil }, nil
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", dir, err)
	}
	return func() error {
		defer f.Close()
		return syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	}, nil
}
