package model

import (
	"fmt"
	"hash/fnv"
	"maps"
	"slices"
)

// Extension states (CALLKIT.md §1.7); 0 stands for an extension whose row
// is gone (remove-extension, a purge).
const (
	Gone         = 0
	Disabled     = 1 // disabled / not loaded
	SwitchedOff  = 2 // switched off, cleanup pending
	Loading      = 3 // a load is in progress
	Loaded       = 4 // enabled and loaded
	Unavailable  = 5 // unavailable (error 102)
	defaultState = Disabled
)

// Digest is an order-independent fingerprint of a set of entries: a count
// and a wrapping sum of mixed hashes. The verifier computes the same from
// the database (BlockHash, IdentHash) to compare.
type Digest struct {
	N   int64
	Sum uint64
}

func (d *Digest) Add(h uint64)    { d.N++; d.Sum += h }
func (d *Digest) Remove(h uint64) { d.N--; d.Sum -= h }
func (d Digest) String() string   { return fmt.Sprintf("%d/%016x", d.N, d.Sum) }

func mix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// BlockHash is a blocking entry's hash in a Digest.
func BlockHash(n int64) uint64 { return mix(uint64(n)) }

// IdentHash is an identification entry's hash in a Digest.
func IdentHash(n int64, label string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(label))
	return mix(uint64(n) ^ mix(h.Sum64()))
}

// Ext is one extension as the model holds it.
type Ext struct {
	State      int
	block      map[int64]struct{}
	ident      map[int64][]string // labels per number: the table has no UNIQUE key
	bdig, idig Digest
}

func newExt() *Ext {
	return &Ext{State: defaultState, block: map[int64]struct{}{}, ident: map[int64][]string{}}
}

func (e *Ext) clone() *Ext {
	c := &Ext{State: e.State, block: maps.Clone(e.block), ident: make(map[int64][]string, len(e.ident)), bdig: e.bdig, idig: e.idig}
	for n, ls := range e.ident {
		c.ident[n] = slices.Clone(ls)
	}
	return c
}

func (e *Ext) hasBlock(n int64) bool { _, ok := e.block[n]; return ok }

func (e *Ext) addBlock(n int64) {
	if _, ok := e.block[n]; !ok {
		e.block[n] = struct{}{}
		e.bdig.Add(BlockHash(n))
	}
}

func (e *Ext) removeBlock(n int64) {
	if _, ok := e.block[n]; ok {
		delete(e.block, n)
		e.bdig.Remove(BlockHash(n))
	}
}

func (e *Ext) addIdent(n int64, label string) {
	e.ident[n] = append(e.ident[n], label)
	e.idig.Add(IdentHash(n, label))
}

func (e *Ext) removeIdent(n int64) {
	for _, l := range e.ident[n] {
		e.idig.Remove(IdentHash(n, l))
	}
	delete(e.ident, n)
}

func (e *Ext) clearBlock() { clear(e.block); e.bdig = Digest{} }
func (e *Ext) clearIdent() { clear(e.ident); e.idig = Digest{} }
func (e *Ext) clearAll()   { e.clearBlock(); e.clearIdent() }

// Rows counts both kinds of entries.
func (e *Ext) Rows() int64 { return e.bdig.N + e.idig.N }

// BlockRows and IdentRows count each kind.
func (e *Ext) BlockRows() int64 { return e.bdig.N }
func (e *Ext) IdentRows() int64 { return e.idig.N }

// World is every extension, in registration order.
type World struct {
	order []string
	exts  map[string]*Ext
}

func newWorld(names []string) *World {
	w := &World{exts: map[string]*Ext{}}
	for _, n := range names {
		w.order = append(w.order, n)
		w.exts[n] = newExt()
	}
	return w
}

func (w *World) clone() *World {
	c := &World{order: w.order, exts: make(map[string]*Ext, len(w.exts))}
	for n, e := range w.exts {
		c.exts[n] = e.clone()
	}
	return c
}

// Ext is the named extension.
func (w *World) Ext(name string) *Ext { return w.exts[name] }

// Names are the extensions in registration order.
func (w *World) Names() []string { return w.order }

// Rows counts every extension's entries.
func (w *World) Rows() int64 {
	var n int64
	for _, e := range w.exts {
		n += e.Rows()
	}
	return n
}

// Fingerprint is the world as one comparable string: per extension, in
// registration order, "name:state:block digest:identification digest;".
func (w *World) Fingerprint() string {
	s := ""
	for _, name := range w.order {
		e := w.exts[name]
		s += fmt.Sprintf("%s:%d:%s:%s;", name, e.State, e.bdig, e.idig)
	}
	return s
}
