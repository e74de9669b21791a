//go:build darwin

package outfs

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// sysExchange swaps a and b with renamex_np(RENAME_SWAP) (macOS 10.12;
// APFS implements it): the same contract as Linux's
// renameat2(RENAME_EXCHANGE).
func sysExchange(a, b string) error {
	return unix.RenamexNp(a, b, unix.RENAME_SWAP)
}

// exchangeUnsupported are renamex_np's errors for "this file system cannot
// swap". rename(2) documents ENOTSUP ("flags has a value that is not
// supported by the file system": a volume whose VOL_CAP_INT_RENAME_SWAP
// is clear, such as an MS-DOS (FAT) volume) and EINVAL ("flags
// has an invalid value"; the other EINVALs, a directory into its own
// subtree, cannot happen between two siblings). On Darwin EOPNOTSUPP is a
// distinct number, which some third-party (FUSE) file systems return, as
// some return ENOSYS: each only ever means that no swap happened.
var exchangeUnsupported = []error{unix.ENOTSUP, syscall.EOPNOTSUPP, syscall.EINVAL, syscall.ENOSYS}
