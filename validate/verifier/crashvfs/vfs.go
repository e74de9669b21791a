// Package crashvfs is a SQLite VFS that simulates power loss and a full
// disk, in the manner of SQLite's own crash-test VFS (test6.c): it passes
// every call to the real "unix" VFS, and for the files of a Run (the main
// database, its rollback journal and its WAL) it records each write,
// truncation and deletion since the file's last sync.
//
// Power loss: at a chosen write the power fails. Every later call on the
// run's files fails with SQLITE_IOERR, as a dead disk would; once the
// connection is closed, Finish rewrites the files as a disk might hold
// them after the reboot: each file's unsynced sectors are dropped
// (restored to their content at the last sync), or, in tear mode, each is
// independently kept, restored or filled with garbage; a file's size is
// the synced one or the current one; and a name created or deleted since
// the directory was last synced may come back as it was then.
//
// Disk full: from a chosen write on, the run's files may not grow beyond
// the bytes they held at that write; a write that would grow them fails
// with SQLITE_FULL, as unixWrite reports ENOSPC. Overwrites, truncations
// and deletions still succeed.
//
// Directory sync follows SQLite's unix VFS: a rollback journal or WAL
// opened with SQLITE_OPEN_CREATE syncs its directory on its first xSync,
// and xDelete syncs it when asked (synchronous=EXTRA). A directory sync
// makes every creation and deletion in it durable.
package crashvfs

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
)

// Name is the VFS name a database is opened with (?vfs=calldir-crash).
const Name = "calldir-crash"

// SQLite open flags and result codes the shim uses.
const (
	openCreate      = 0x00000004
	openMainDB      = 0x00000100
	openMainJournal = 0x00000800
	openWAL         = 0x00080000

	codeFull        = 13
	codeCantOpen    = 14
	ioerrRead       = 10 | 1<<8
	ioerrWrite      = 10 | 3<<8
	ioerrFsync      = 10 | 4<<8
	ioerrTruncate   = 10 | 6<<8
	ioerrDelete     = 10 | 10<<8
	proceedWithReal = -1 // cvDelete: let the real VFS delete
)

// Config chooses a run's fault.
type Config struct {
	PowerLossAt int64  // the power fails right after this write (0-based); -1: never
	DiskFullAt  int64  // from this write on the disk is full; -1: never
	Tear        bool   // tear unsynced sectors rather than drop them all
	Seed        uint64 // for the tear decisions and the garbage
	Sector      int    // bytes per sector, 512 or 4096 (0: 4096, an iPhone's APFS block)
	// OnPowerLoss, when set, is called as the power fails, on the
	// goroutine whose statement was writing (before that statement
	// returns), so the caller can note which statement it was.
	OnPowerLoss func()
}

// Run is the fault state of one database path. Counting starts when the
// main database is first opened without SQLITE_OPEN_CREATE: a database
// created with its schema before (as the daemon copies a template) is
// taken as durable.
type Run struct {
	cfg     Config
	db      string
	files   []string // db, journal, WAL
	started bool
	writes  int64 // write points so far: writes, truncations, deletions
	off     bool  // the power has failed
	full    bool  // the disk is full
	budget  int64 // bytes the files may hold once the disk is full
	refused int64 // writes refused with SQLITE_FULL
	names   map[string]*entry
	graves  int
	open    int // handles open
}

// entry is one name: the file it had when its directory was last synced
// (nil: none) and the file it has now.
type entry struct{ durable, cur *node }

// node is one file (an inode): where it is, its size at its last sync and
// its sectors' content at that sync, for the sectors written since.
type node struct {
	path   string
	synced int64
	pre    map[int64][]byte
	f      *os.File // for reading and restoring content; opened on first use
}

type handle struct {
	run     *Run
	name    string
	node    *node
	created bool // the open created the file
	dirSync bool // the first sync syncs the directory
}

// registry maps file names to runs and shim ids to handles.
var reg = struct {
	sync.Mutex
	runs    map[string]*Run
	handles map[int64]*handle
	next    int64
}{runs: map[string]*Run{}, handles: map[int64]*handle{}}

// Start registers the VFS (once per process) and a run for the database
// at path, which is then opened with the VFS Name. One run per path at a
// time.
func Start(path string, cfg Config) (*Run, error) {
	if err := register(); err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("crashvfs: %w", err)
	}
	switch cfg.Sector {
	case 0:
		cfg.Sector = 4096
	case 512, 4096:
	default:
		return nil, fmt.Errorf("crashvfs: sector size %d: want 512 or 4096", cfg.Sector)
	}
	r := &Run{cfg: cfg, db: abs, files: []string{abs, abs + "-journal", abs + "-wal"}, names: map[string]*entry{}}
	reg.Lock()
	defer reg.Unlock()
	for _, f := range r.files {
		if reg.runs[f] != nil {
			return nil, fmt.Errorf("crashvfs: %s already has a run", abs)
		}
	}
	for _, f := range r.files {
		reg.runs[f] = r
	}
	return r, nil
}

// Writes is the number of write points so far (writes, truncations and
// deletions of the run's files).
func (r *Run) Writes() int64 {
	reg.Lock()
	defer reg.Unlock()
	return r.writes
}

// PoweredOff reports whether the power has failed.
func (r *Run) PoweredOff() bool {
	reg.Lock()
	defer reg.Unlock()
	return r.off
}

func itoa(n int) string { return fmt.Sprint(n) }

var errOpenHandles = errors.New("crashvfs: the run still has open files (close the database first)")

// PowerOff fails the power now, between two writes: every later call on
// the run's files fails as after a power loss at a write point, and Finish
// rewrites them as the reboot finds them. A fleet simulation cuts the
// power this way after a reload that made fewer writes than the chosen
// point, so that a commit's last unsynced step can still be lost.
func (r *Run) PowerOff() {
	reg.Lock()
	defer reg.Unlock()
	r.off = true
}
