//go:build unix

package outfs

import (
	"os"
	"strconv"
	"strings"
	"syscall"
)

// fdPath reports whether path names an open descriptor of this process
// (/dev/stdout, /dev/stderr, /dev/fd/N, /proc/self/fd/N), and which.
func fdPath(path string) (int, bool) {
	switch path {
	case "/dev/stdin":
		return 0, true
	case "/dev/stdout":
		return 1, true
	case "/dev/stderr":
		return 2, true
	}
	for _, dir := range []string{"/dev/fd/", "/proc/self/fd/"} {
		if n, ok := strings.CutPrefix(path, dir); ok {
			fd, err := strconv.Atoi(n)
			return fd, err == nil && fd >= 0 && strconv.Itoa(fd) == n
		}
	}
	return 0, false
}

// dupFD duplicates descriptor fd, so that closing the copy leaves it open.
func dupFD(fd int, name string) (*os.File, error) {
	n, err := syscall.Dup(fd)
	if err != nil {
		return nil, err
	}
	syscall.CloseOnExec(n)
	return os.NewFile(uintptr(n), name), nil
}
