package crashvfs

import (
	"fmt"
	"math/rand/v2"
	"os"
	"sort"
)

// Result is what a run saw and, after a power loss, what the reboot found.
type Result struct {
	Writes     int64 // write points (writes, truncations, deletions) counted
	PoweredOff bool  // the power failed
	Refused    int64 // writes refused with SQLITE_FULL
	Kept       int   // unsynced sectors that reached the disk
	Reverted   int   // unsynced sectors back to their content at the last sync
	Garbage    int   // unsynced sectors left holding garbage (tear mode)
	Restored   int   // deleted files back under their name (directory not synced)
	Vanished   int   // created files gone again (directory not synced)
}

func (res Result) String() string {
	return fmt.Sprintf("%d sectors kept, %d reverted, %d garbage; %d deleted files back, %d new files gone",
		res.Kept, res.Reverted, res.Garbage, res.Restored, res.Vanished)
}

// Finish ends the run; call it after the database is closed (after a
// power loss it refuses to run while a file is still open). After a
// power loss it rewrites the files as the reboot finds them (see the
// package comment); without one, files deleted during the run are removed
// for good.
func (r *Run) Finish() (Result, error) {
	reg.Lock()
	defer reg.Unlock()
	res := Result{Writes: r.writes, PoweredOff: r.off, Refused: r.refused}
	if r.open > 0 && r.off { // the files must be closed to be rewritten
		return res, errOpenHandles
	}
	for _, f := range r.files {
		delete(reg.runs, f)
	}
	names := make([]string, 0, len(r.names))
	for name := range r.names {
		names = append(names, name)
	}
	sort.Strings(names)
	rng := rand.New(rand.NewPCG(r.cfg.Seed, 0x706f776572)) // "power"
	var err error
	for _, name := range names {
		e := r.names[name]
		keep := e.cur
		if r.off {
			keep = e.durable
			if r.cfg.Tear && e.cur != e.durable && rng.IntN(2) == 0 {
				keep = e.cur
			}
		}
		if perr := r.place(name, e, keep, &res); perr != nil && err == nil {
			err = perr
		}
		if keep != nil && r.off {
			if derr := r.damage(keep, rng, &res); derr != nil && err == nil {
				err = derr
			}
		}
		for _, n := range []*node{e.durable, e.cur} {
			if n != nil {
				n.close()
			}
		}
	}
	return res, err
}

// place leaves node keep (nil: nothing) under name and removes the other
// file the name had.
func (r *Run) place(name string, e *entry, keep *node, res *Result) error {
	if e.cur != nil && e.cur != keep {
		res.Vanished++
		if err := os.Remove(e.cur.path); err != nil {
			return fmt.Errorf("crashvfs: power loss: %w", err)
		}
	}
	if e.durable != nil && e.durable != e.cur {
		if e.durable != keep {
			return os.Remove(e.durable.path)
		}
		res.Restored++
		if err := os.Rename(e.durable.path, name); err != nil {
			return fmt.Errorf("crashvfs: power loss: %w", err)
		}
		e.durable.path = name
	}
	return nil
}

// damage rewrites a file's unsynced sectors: all restored (drop), or each
// kept, restored or garbage (tear); its size becomes the synced one (drop)
// or either (tear).
func (r *Run) damage(n *node, rng *rand.Rand, res *Result) error {
	f := n.file()
	if f == nil {
		return fmt.Errorf("crashvfs: power loss: cannot open %s", n.path)
	}
	size := n.synced
	if cur := fileSize(n.path); r.cfg.Tear && rng.IntN(2) == 0 {
		size = cur
	}
	sectors := make([]int64, 0, len(n.pre))
	for s := range n.pre {
		sectors = append(sectors, s)
	}
	sort.Slice(sectors, func(i, j int) bool { return sectors[i] < sectors[j] })
	sec := int64(r.cfg.Sector)
	for _, s := range sectors {
		buf := make([]byte, sec)
		action := "revert"
		if r.cfg.Tear { // 2 in 5 kept, 2 reverted, 1 garbage
			switch c := rng.IntN(5); {
			case c < 2:
				action = "keep"
			case c == 4:
				action = "garbage"
			}
		}
		switch action {
		case "keep":
			res.Kept++
			continue
		case "garbage":
			res.Garbage++
			for i := range buf {
				buf[i] = byte(rng.Uint32())
			}
		default:
			res.Reverted++
			copy(buf, n.pre[s])
		}
		if _, err := f.WriteAt(buf, s*sec); err != nil {
			return fmt.Errorf("crashvfs: power loss: %w", err)
		}
	}
	if err := f.Truncate(size); err != nil {
		return fmt.Errorf("crashvfs: power loss: %w", err)
	}
	return nil
}
