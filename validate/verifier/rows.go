package verifier

import (
	"fmt"

	"github.com/calldir/calldir/validate/verifier/model"
)

// Extension states as the daemon uses them (CALLKIT.md §1.7). 0 stands
// for an extension whose row is gone (remove-extension, a purge).
const (
	StateDisabled    = 1 // disabled / not loaded
	StateSwitchedOff = 2 // switched off, pending cleanup
	StateLoading     = 3 // a load is in progress
	StateLoaded      = 4 // enabled and loaded
	StateUnavailable = 5 // unavailable (error 102)
)

// extRows is one extension's state and entries, as a set of rows with
// running digests. Both the reference model (what CallKit's rules
// predict) and the driver's ledger (what the driver committed) are made
// of these, so that they compare with each other and with the database
// through one fingerprint.
type extRows struct {
	id    int64 // Extension.id in the database (the ledger's; 0 in the model)
	state int
	block map[int64]struct{}
	ident map[int64][]string // labels per number: the table has no UNIQUE key [Inf]
	// Running digests of block and ident, kept by the mutators below, so a
	// fingerprint costs nothing per row (the golden run takes one at every
	// commit point).
	bdig, idig digest
}

func newExtRows(id int64) *extRows {
	return &extRows{id: id, state: StateDisabled, block: map[int64]struct{}{}, ident: map[int64][]string{}}
}

func (e *extRows) addBlock(n int64) {
	if _, ok := e.block[n]; !ok {
		e.block[n] = struct{}{}
		e.bdig.add(blockHash(n))
	}
}

func (e *extRows) removeBlock(n int64) {
	if _, ok := e.block[n]; ok {
		delete(e.block, n)
		e.bdig.remove(blockHash(n))
	}
}

func (e *extRows) addIdent(n int64, label string) {
	e.ident[n] = append(e.ident[n], label)
	e.idig.add(identHash(n, label))
}

func (e *extRows) removeIdent(n int64) {
	for _, l := range e.ident[n] {
		e.idig.remove(identHash(n, l))
	}
	delete(e.ident, n)
}

func (e *extRows) clearBlock() { clear(e.block); e.bdig = digest{} }
func (e *extRows) clearIdent() { clear(e.ident); e.idig = digest{} }
func (e *extRows) clearAll()   { e.clearBlock(); e.clearIdent() }

// rows counts both kinds.
func (e *extRows) rows() int64 { return e.bdig.n + e.idig.n }

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

// The entry hashes are the model's (model.BlockHash, model.IdentHash), so
// that the ledger, the database and the model fingerprint alike.
func blockHash(n int64) uint64               { return model.BlockHash(n) }
func identHash(n int64, label string) uint64 { return model.IdentHash(n, label) }

// rowSet is every extension's rows, in registration order.
type rowSet struct {
	exts  map[string]*extRows
	order []string
}

func newRowSet() rowSet { return rowSet{exts: map[string]*extRows{}} }

func (m *rowSet) ext(name string) *extRows { return m.exts[name] }

func (m *rowSet) addExt(name string, id int64) {
	m.exts[name] = newExtRows(id)
	m.order = append(m.order, name)
}

// Fingerprint is the whole set's state as one comparable string: per
// extension (in registration order) its state and both entry digests.
func (m *rowSet) Fingerprint() string {
	s := ""
	for _, name := range m.order {
		e := m.exts[name]
		s += fmt.Sprintf("%s:%d:%s:%s;", name, e.state, e.bdig, e.idig)
	}
	return s
}

// Rows is the number of entries of all extensions.
func (m *rowSet) Rows() int64 {
	var n int64
	for _, e := range m.exts {
		n += e.rows()
	}
	return n
}

// Ledger is what the driver committed: it follows every statement that
// succeeds (a transaction's changes at its COMMIT). The database is
// compared with it after every step (rows lost) and at every commit point
// of a kill replay; the reference Model is compared with it to catch a
// driver that breaks CallKit's rules.
type Ledger struct{ rowSet }

func newLedger() *Ledger { return &Ledger{newRowSet()} }
