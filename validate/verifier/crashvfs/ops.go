package crashvfs

import (
	"fmt"
	"os"
)

// regOpen is the hook before the real xOpen: the id of a tracked handle,
// 0 for a file no run tracks, or a negated error code.
func regOpen(name string, flags int) int64 {
	reg.Lock()
	defer reg.Unlock()
	r := reg.runs[name]
	if r == nil {
		return 0
	}
	if !r.started {
		if name != r.db || flags&openCreate != 0 {
			return 0 // still creating the database: not counted
		}
		r.started = true
	}
	if r.off {
		return -codeCantOpen
	}
	e := r.names[name]
	if e == nil {
		e = &entry{}
		r.names[name] = e
		if fi, err := os.Stat(name); err == nil { // there before the run: durable
			n := &node{path: name, synced: fi.Size()}
			e.durable, e.cur = n, n
		}
	}
	h := &handle{run: r, name: name, node: e.cur}
	if e.cur == nil {
		h.node, h.created = &node{path: name}, true
		e.cur = h.node
	}
	// As unixOpen: a journal or WAL opened to be created syncs its
	// directory on its first sync.
	h.dirSync = flags&openCreate != 0 && flags&(openMainJournal|openWAL) != 0
	reg.next++
	reg.handles[reg.next] = h
	r.open++
	return reg.next
}

// regClose forgets a handle; a failed open forgets the file it would
// have created.
func regClose(id int64) {
	reg.Lock()
	defer reg.Unlock()
	h := reg.handles[id]
	if h == nil {
		return
	}
	delete(reg.handles, id)
	h.run.open--
	if e := h.run.names[h.name]; e != nil && h.created && e.cur == h.node {
		if _, err := os.Stat(h.name); err != nil {
			e.cur = nil
		}
	}
}

func regHandle(id int64) *handle {
	reg.Lock()
	defer reg.Unlock()
	return reg.handles[id]
}

// point counts a write point and fails the power after the chosen one.
// The caller holds reg; the returned function (OnPowerLoss) runs after
// it lets go.
func (r *Run) point() func() {
	n := r.writes
	r.writes++
	if n == r.cfg.PowerLossAt {
		r.off = true
		if r.cfg.OnPowerLoss != nil {
			return r.cfg.OnPowerLoss
		}
	}
	return func() {}
}

func (r *Run) read() int {
	reg.Lock()
	defer reg.Unlock()
	if r.off {
		return ioerrRead
	}
	return 0
}

func (r *Run) write(h *handle, p []byte, off int64) int {
	reg.Lock()
	if r.off {
		reg.Unlock()
		return ioerrWrite
	}
	if r.cfg.DiskFullAt >= 0 && r.writes >= r.cfg.DiskFullAt {
		if !r.full {
			r.full, r.budget = true, r.allocated()
		}
		if grow := off + int64(len(p)) - fileSize(h.node.path); grow > 0 && r.allocated()+grow > r.budget {
			r.writes++
			r.refused++
			reg.Unlock()
			return codeFull
		}
	}
	h.node.save(off, int64(len(p)), int64(r.cfg.Sector))
	after := r.point()
	reg.Unlock()
	after()
	return 0
}

func (r *Run) truncate(h *handle, size int64) int {
	reg.Lock()
	if r.off {
		reg.Unlock()
		return ioerrTruncate
	}
	if cur := fileSize(h.node.path); size < cur {
		h.node.save(size, cur-size, int64(r.cfg.Sector))
	}
	after := r.point()
	reg.Unlock()
	after()
	return 0
}

// sync makes the file's data durable (the real fsync is skipped: the
// simulated disk is what a power loss rewrites).
func (r *Run) sync(h *handle) int {
	reg.Lock()
	defer reg.Unlock()
	if r.off {
		return ioerrFsync
	}
	h.node.pre = nil
	h.node.synced = fileSize(h.node.path)
	if h.dirSync {
		h.dirSync = false
		r.dirSync()
	}
	return 0
}

// regRemove is xDelete: a tracked file is moved aside rather than deleted
// until its directory is synced, so that a power loss can bring it back.
func regRemove(name string, dirSync bool) int {
	reg.Lock()
	r := reg.runs[name]
	if r == nil || !r.started || r.names[name] == nil || r.names[name].cur == nil {
		reg.Unlock()
		return proceedWithReal
	}
	if r.off {
		reg.Unlock()
		return ioerrDelete
	}
	e := r.names[name]
	n := e.cur
	e.cur = nil
	if n == e.durable {
		r.graves++
		grave := fmt.Sprintf("%s-crashvfs-gone-%d", name, r.graves)
		if err := os.Rename(name, grave); err != nil {
			reg.Unlock()
			return ioerrDelete
		}
		n.path = grave
	} else { // never durable under this name: gone for good
		n.close()
		if err := os.Remove(name); err != nil {
			reg.Unlock()
			return ioerrDelete
		}
	}
	if dirSync {
		r.dirSync()
	}
	after := r.point()
	reg.Unlock()
	after()
	return 0
}

// dirSync makes every name's current file durable; the files deleted
// before it are gone for good.
func (r *Run) dirSync() {
	for _, e := range r.names {
		if e.durable != nil && e.durable != e.cur {
			e.durable.close()
			os.Remove(e.durable.path)
		}
		e.durable = e.cur
	}
}

// allocated is the bytes the run's current files hold.
func (r *Run) allocated() int64 {
	var n int64
	for _, e := range r.names {
		if e.cur != nil {
			n += fileSize(e.cur.path)
		}
	}
	return n
}

func fileSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// save keeps, for every sector of [off, off+n) not yet written since the
// last sync, its content as of that sync.
func (n *node) save(off, length, sector int64) {
	if length <= 0 {
		return
	}
	if n.pre == nil {
		n.pre = map[int64][]byte{}
	}
	for s := off / sector; s <= (off+length-1)/sector; s++ {
		if _, ok := n.pre[s]; ok {
			continue
		}
		buf := make([]byte, sector)
		k := 0
		if f := n.file(); f != nil {
			k, _ = f.ReadAt(buf, s*sector)
		}
		n.pre[s] = buf[:k]
	}
}

func (n *node) file() *os.File {
	if n.f == nil {
		n.f, _ = os.OpenFile(n.path, os.O_RDWR, 0)
	}
	return n.f
}

func (n *node) close() {
	if n.f != nil {
		n.f.Close()
		n.f = nil
	}
}
