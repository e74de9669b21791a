package sortx

import (
	"fmt"
	"os"
	"strings"

	"github.com/calldir/calldir/shard/outfs"
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

// myNS is this process's PID namespace, owner its owner token
// (shard/outfs, which names every temporary calldir makes).
var owner = outfs.Self()

// spillPattern is the outfs.CreateScratch pattern of this process's spill files
// of kind what.
func spillPattern(what string) string { return spillPrefix + owner + "-" + what + "-*" }

// SpillName is the name of a spill file of kind what (bucket, run or
// packed) made by process pid, with random in place of CreateTemp's
// random part: what RemoveStale looks for. For tests and tools.
func SpillName(pid int, what, random string) string {
	return spillPrefix + outfs.Owner(pid) + "-" + what + "-" + random
}

// RemoveStale removes the spill files in dir (empty: os.TempDir()) left by
// processes that are gone: files named by SpillName whose PID, in this
// process's PID namespace, is no running process (kill(pid, 0) says
// ESRCH). A file of a live process, of another PID namespace, not a
// regular file, or not named so, is kept. It returns how many files it
// removed, and the errors of reading dir or removing a file, which a caller
// may ignore: the files are scratch.
func RemoveStale(dir string) (removed int, err error) {
	removed, err = outfs.RemoveStale(dir, staleOwner)
	if err != nil {
		return removed, fmt.Errorf("remove stale spill files: %w", err)
	}
	return removed, nil
}

// staleOwner returns the owner token of a spill file's name when the
// name is a spill file's.
func staleOwner(name string) (string, bool) {
	rest, ok := strings.CutPrefix(name, spillPrefix)
	if !ok {
		return "", false
	}
	tok, rest, ok := strings.Cut(rest, "-")
	if !ok {
		return "", false
	}
	what, random, ok := strings.Cut(rest, "-")
	if !ok || !spillKinds[what] || random == "" {
		return "", false
	}
	return tok, true
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
