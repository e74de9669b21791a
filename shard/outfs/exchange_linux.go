//go:build linux && (amd64 || arm64)

package outfs

import (
	"runtime"
	"syscall"
	"unsafe"
)

// renameat2 system call numbers; the syscall package lacks the amd64 one.
func sysRenameat2() uintptr {
	if runtime.GOARCH == "arm64" {
		return 276
	}
	return 316
}

const (
	atFDCWD        = -100
	renameExchange = 1 << 1
)

// exchange atomically swaps two paths with renameat2(RENAME_EXCHANGE), so a
// build directory is never missing, not even for an instant. It reports
// false when the kernel or file system cannot do it.
func exchange(a, b string) (bool, error) {
	pa, err := syscall.BytePtrFromString(a)
	if err != nil {
		return false, err
	}
	pb, err := syscall.BytePtrFromString(b)
	if err != nil {
		return false, err
	}
	fd := atFDCWD
	_, _, e := syscall.Syscall6(sysRenameat2(), uintptr(fd), uintptr(unsafe.Pointer(pa)),
		uintptr(fd), uintptr(unsafe.Pointer(pb)), renameExchange, 0)
	switch e {
	case 0:
		return true, nil
	case syscall.ENOSYS, syscall.EINVAL, syscall.EOPNOTSUPP:
		return false, nil
	}
	return false, e
}
