//go:build linux

package outfs

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// sysExchange swaps a and b with renameat2(RENAME_EXCHANGE) (Linux 3.15).
func sysExchange(a, b string) error {
	return unix.Renameat2(unix.AT_FDCWD, a, unix.AT_FDCWD, b, unix.RENAME_EXCHANGE)
}

// exchangeUnsupported are renameat2's errors for "this kernel or file
// system cannot swap": ENOSYS from a kernel without the call, EINVAL from
// a file system without RENAME_EXCHANGE, such as NFS (the other EINVALs,
// a directory into its own subtree, cannot happen between two siblings),
// EOPNOTSUPP (the same number as ENOTSUP on Linux) from some FUSE and
// network file systems. Each only ever means that no swap happened.
var exchangeUnsupported = []error{syscall.ENOSYS, syscall.EINVAL, syscall.EOPNOTSUPP}
