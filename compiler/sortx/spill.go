package sortx

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Spill files are named
//
//	calldir-spill-<owner>-<what>-<random>
//
// owner is the PID of the process that made the file, with on Linux its
// PID namespace after a dot ("4242.4026531836"), and what is bucket, run or
// packed. A process killed with -9 never removes its files; the name lets
// the next compile (RemoveStale) tell them from a live process's files, and
// from anything that is not calldir's.
const spillPrefix = "calldir-spill-"

// spillKinds are the what of a spill file's name.
var spillKinds = map[string]bool{"bucket": true, "run": true, "packed": true}

// myNS is this process's PID namespace, owner its owner token.
var (
	myNS  = pidNamespace()
	owner = ownerToken(os.Getpid())
)

// ownerToken is the owner part of the names of pid's spill files; pid must
// be in this process's PID namespace.
func ownerToken(pid int) string {
	if myNS != "" {
		return strconv.Itoa(pid) + "." + myNS
	}
	return strconv.Itoa(pid)
}

// Owner is the owner token of process pid (in this process's PID
// namespace) as calldir writes it into the names of its temporaries: the
// spill files here, and the temporary siblings of an output directory.
func Owner(pid int) string { return ownerToken(pid) }

// OwnerGone reports whether the process an owner token names is known to
// have ended: a token of this PID namespace whose PID is no running
// process. A token of another namespace, or one that does not parse, is
// never gone: what calldir cannot prove stale it keeps.
func OwnerGone(tok string) bool {
	pidText, ns, _ := strings.Cut(tok, ".")
	if ns != myNS {
		return false
	}
	pid, err := strconv.Atoi(pidText)
	if err != nil || pid <= 0 || strconv.Itoa(pid) != pidText || pid == os.Getpid() {
		return false
	}
	return !processAlive(pid)
}

// spillPattern is the os.CreateTemp pattern of this process's spill files
// of kind what.
func spillPattern(what string) string { return spillPrefix + owner + "-" + what + "-*" }

// SpillName is the name of a spill file of kind what (bucket, run or
// packed) made by process pid, with random in place of CreateTemp's
// random part: what RemoveStale looks for. For tests and tools.
func SpillName(pid int, what, random string) string {
	return spillPrefix + ownerToken(pid) + "-" + what + "-" + random
}

// RemoveStale removes the spill files in dir (empty: os.TempDir()) left by
// processes that are gone: files named by SpillName whose PID, in this
// process's PID namespace, is no running process (kill(pid, 0) says
// ESRCH). A file of a live process, of another PID namespace, not a
// regular file, or not named so, is kept. It returns how many files it
// removed, and the errors of reading dir or removing a file, which a caller
// may ignore: the files are scratch.
func RemoveStale(dir string) (removed int, err error) {
	if dir == "" {
		dir = os.TempDir()
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return 0, fmt.Errorf("remove stale spill files: %w", err)
	}
	var errs []error
	for _, e := range ents {
		pid, ok := staleOwner(e.Name())
		if !ok || pid == os.Getpid() || !e.Type().IsRegular() || processAlive(pid) {
			continue
		}
		p := filepath.Join(dir, e.Name())
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, fmt.Errorf("remove stale spill file: %w", err))
			continue
		}
		removed++
	}
	return removed, errors.Join(errs...)
}

// staleOwner returns the PID of a spill file's name when the name is a
// spill file's of this PID namespace.
func staleOwner(name string) (int, bool) {
	rest, ok := strings.CutPrefix(name, spillPrefix)
	if !ok {
		return 0, false
	}
	tok, rest, ok := strings.Cut(rest, "-")
	if !ok {
		return 0, false
	}
	what, random, ok := strings.Cut(rest, "-")
	if !ok || !spillKinds[what] || random == "" {
		return 0, false
	}
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

// SpaceError is a spill that does not fit in the free space of its
// directory.
type SpaceError struct {
	Dir         string
	Need, Avail int64 // bytes
}

func (e *SpaceError) Error() string {
	return fmt.Sprintf("spill to %s: needs %d bytes (%s), %d bytes (%s) available; free space there or choose another --temp-dir",
		e.Dir, e.Need, sizeText(e.Need), e.Avail, sizeText(e.Avail))
}

// FreeSpace returns the bytes an unprivileged user may still write in dir,
// or -1 when it cannot tell. Tests replace it.
var FreeSpace = freeSpace

// CheckSpace returns a *SpaceError when dir (empty: os.TempDir()) has less
// than need bytes free. An unknown free space passes: the write will say.
func CheckSpace(dir string, need int64) error {
	if need <= 0 {
		return nil
	}
	if dir == "" {
		dir = os.TempDir()
	}
	if avail := FreeSpace(dir); avail >= 0 && avail < need {
		return &SpaceError{Dir: dir, Need: need, Avail: avail}
	}
	return nil
}

// sizeText is n bytes in binary units: "9.3 GiB".
func sizeText(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	d, e := int64(unit), 0
	for m := n / unit; m >= unit && e < 4; m /= unit {
		d *= unit
		e++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(d), "KMGTP"[e])
}
