package verifier

import (
	"fmt"
	"hash/fnv"
)

// Extension states as the daemon uses them (CALLKIT.md §1.7).
const (
	StateDisabled    = 1 // disabled / not loaded
	StateSwitchedOff = 2 // switched off, pending cleanup
	StateLoading     = 3 // a load is in progress
	StateLoaded      = 4 // enabled and loaded
	StateUnavailable = 5 // unavailable (error 102)
)

// Model is the in-memory reference: what the database must hold, given the
// transactions the driver saw commit.
type Model struct {
	exts  map[string]*modelExt
	order []string
}

type modelExt struct {
	id    int64
	state int
	block map[int64]struct{}
	ident map[int64][]string // labels per number: the table has no UNIQUE key [Inf]
	// Running digests of block and ident, kept by the mutators below, so a
	// fingerprint costs nothing per row (the golden run takes one at every
	// commit point).
	bdig, idig digest
}

func (e *modelExt) addBlock(n int64) {
	if _, ok := e.block[n]; !ok {
		e.block[n] = struct{}{}
		e.bdig.add(blockHash(n))
	}
}

func (e *modelExt) removeBlock(n int64) {
	if _, ok := e.block[n]; ok {
		delete(e.block, n)
		e.bdig.remove(blockHash(n))
	}
}

func (e *modelExt) addIdent(n int64, label string) {
	e.ident[n] = append(e.ident[n], label)
	e.idig.add(identHash(n, label))
}

func (e *modelExt) removeIdent(n int64) {
	for _, l := range e.ident[n] {
		e.idig.remove(identHash(n, l))
	}
	delete(e.ident, n)
}

func (e *modelExt) clearBlock() { clear(e.block); e.bdig = digest{} }
func (e *modelExt) clearIdent() { clear(e.ident); e.idig = digest{} }

// identRows counts identification rows (a number may have several).
func (e *modelExt) identRows() int64 { return e.idig.n }

// digest is an order-independent fingerprint of a set of entries: a count
// and a wrapping sum of mixed hashes, maintained incrementally on add and
// remove and recomputed from the database by a single scan.
type digest struct {
	n   int64
	sum uint64
}

func (d *digest) add(h uint64)    { d.n++; d.sum += h }
func (d *digest) remove(h uint64) { d.n--; d.sum -= h }
func (d digest) String() string   { return fmt.Sprintf("%d/%016x", d.n, d.sum) }
func mix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}
func blockHash(n int64) uint64 { return mix(uint64(n)) }
func identHash(n int64, label string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(label))
	return mix(uint64(n) ^ mix(h.Sum64()))
}

func newModel() *Model { return &Model{exts: map[string]*modelExt{}} }

func (m *Model) ext(name string) *modelExt { return m.exts[name] }

func (m *Model) addExt(name string, id int64) {
	m.exts[name] = &modelExt{id: id, state: StateDisabled, block: map[int64]struct{}{}, ident: map[int64][]string{}}
	m.order = append(m.order, name)
}

// Fingerprint is the whole model's state as one comparable string: per
// extension (in registration order) its state and both entry digests.
func (m *Model) Fingerprint() string {
	s := ""
	for _, name := range m.order {
		e := m.exts[name]
		s += fmt.Sprintf("%s:%d:%s:%s;", name, e.state, e.bdig, e.idig)
	}
	return s
}

// Rows is the number of entries of all extensions.
func (m *Model) Rows() int64 {
	var n int64
	for _, e := range m.exts {
		n += e.bdig.n + e.idig.n
	}
	return n
}
