//go:build unix

package outfs

import (
	"errors"
	"os"
	"strings"
	"syscall"
)

// processAlive reports whether pid may be a running process: only ESRCH
// says it is not (EPERM is another user's live process).
func processAlive(pid int) bool {
	return !errors.Is(syscall.Kill(pid, 0), syscall.ESRCH)
}

// pidNamespace is the inode of this process's PID namespace on Linux
// ("4026531836"), "" elsewhere.
func pidNamespace() string {
	l, err := os.Readlink("/proc/self/ns/pid")
	if err != nil {
		return ""
	}
	l = strings.TrimSuffix(strings.TrimPrefix(l, "pid:["), "]")
	for _, c := range l {
		if c < '0' || c > '9' {
			return ""
		}
	}
	return l
}
