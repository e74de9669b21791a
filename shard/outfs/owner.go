package outfs

import (
	"os"
	"strconv"
	"strings"
)

// Every temporary calldir makes carries an owner token: the PID of the
// process that made it and, on Linux, its PID namespace after a dot
// ("4242.4026531836"). A process killed with -9 never removes its
// temporaries; the token lets a later run tell them from a live
// process's, and from anything that is not calldir's.

// myNS is this process's PID namespace, self its owner token.
var (
	myNS = pidNamespace()
	self = Owner(os.Getpid())
)

// Owner is the owner token of process pid, which must be in this
// process's PID namespace.
func Owner(pid int) string {
	if myNS != "" {
		return strconv.Itoa(pid) + "." + myNS
	}
	return strconv.Itoa(pid)
}

// Self is this process's owner token.
func Self() string { return self }

// OwnerGone reports whether the process an owner token names is known to
// have ended: a token of this PID namespace whose PID is no running
// process. A token of another namespace, this process's own, or one that
// does not parse, is never gone: what calldir cannot prove stale it keeps.
func OwnerGone(tok string) bool {
	pid, ok := OwnerPID(tok)
	return ok && pid != os.Getpid() && !processAlive(pid)
}

// OwnerPID is the PID an owner token of this PID namespace names.
func OwnerPID(tok string) (int, bool) {
	pidText, ns, _ := strings.Cut(tok, ".")
	if ns != myNS {
		return 0, false // another namespace's PIDs mean nothing here
	}
	pid, err := strconv.Atoi(pidText)
	if err != nil || pid <= 0 || strconv.Itoa(pid) != pidText {
		return 0, false
	}
	return pid, true
}
