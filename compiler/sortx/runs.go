package sortx

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"

	"github.com/calldir/calldir/shard/outfs"
)

// Memory accounting of Runs. The budget covers the numbers buffered and
// the radix sort's scratch, which is as long as the buffer: each buffered
// number costs 16 bytes, so a 256 MiB budget buffers 16 Mi numbers
// (128 MiB) per run, and sorting it takes the other 128 MiB.
//
//	before the first spill   buffer, doubling from 512 KiB to 8 MiB, then ½ of
//	                         the budget (pages are only touched as numbers arrive)
//	spill                    buffer + scratch = budget, + a 64 KiB write buffer
//	merge                    the last run (≤ ½ budget, the scratch is freed)
//	                         + per run file 18 KiB (read buffer and decoded
//	                         block), at most maxFanIn files: 2.3 MiB
//
// Outside the budget: the sorter's counters (about 100 KiB a core) and the
// Go heap's garbage (buffers outgrown, until the next collection; set
// GOMEMLIMIT to bound the whole process).
const (
	// DefaultMemory is the budget NewRuns uses when given 0 or less.
	DefaultMemory = 256 << 20 // bytes
	// bytesPerNumber is what one buffered number costs: 8 bytes in the
	// buffer and 8 in the sort's scratch.
	bytesPerNumber = 16
	// minRunNumbers keeps a tiny budget working, at the cost of many runs.
	minRunNumbers = 64
	// firstBufNumbers is the buffer's first size; it doubles up to the
	// budget, so a small compile does not allocate the whole budget.
	firstBufNumbers = 64 << 10
	// bigBufNumbers is where doubling stops and the buffer takes the whole
	// budget.
	bigBufNumbers = 1 << 20
	// maxFanIn is the most runs merged at once, each with an open file and
	// a read buffer. More runs are first merged into bigger ones, oldest
	// first, which costs one more read and write of those runs.
	maxFanIn = 128
)

// runPattern names the run files, for outfs.CreateScratch (spill.go).
var runPattern = spillPattern("run")

// Runs collects numbers in memory up to a budget, and spills sorted,
// deduplicated runs to temporary files in a directory when the budget is
// reached. Iterator then merges the runs into one ascending stream of
// distinct numbers. Close removes every file, whatever happened before.
//
// Runs is not safe for concurrent use.
type Runs struct {
	dir     string
	limit   int     // numbers buffered before a spill
	buf     []int64 // nil once finished, closed or failed
	sorter  Sorter
	runs    []string // complete run files, oldest first
	paths   []string // every file created: what Close removes
	spilled int
	merge   *Merge
	err     error // sticky: the Runs is unusable after an error
	closed  bool

	// Tests lower fanIn and inject faults through create.
	fanIn  int
	create func(dir, pattern string) (runFile, error)
}

// runFile is the part of *os.File a spill uses.
type runFile interface {
	io.Writer
	Name() string
	Close() error
}

var (
	// ErrClosed is returned by a Runs used after Close.
	ErrClosed = errors.New("runs closed")
	// errFinished is returned by Add after Iterator.
	errFinished = errors.New("runs finished: Iterator was called")
)

// NewRuns returns an empty Runs that keeps at most memoryBytes of numbers
// and sort scratch in memory (0 or less: DefaultMemory) and spills to
// files in dir (empty: os.TempDir()). The directory is not touched until
// the first spill, so a bad one is reported by Add.
func NewRuns(dir string, memoryBytes int64) *Runs {
	if dir == "" {
		dir = os.TempDir()
	}
	if memoryBytes <= 0 {
		memoryBytes = DefaultMemory
	}
	limit := int(min(memoryBytes/bytesPerNumber, math.MaxInt))
	return &Runs{
		dir:    dir,
		limit:  max(limit, minRunNumbers),
		buf:    []int64{}, // cap 0: the first Add allocates
		fanIn:  maxFanIn,
		create: func(dir, pattern string) (runFile, error) { return outfs.CreateScratch(dir, pattern) },
	}
}

// Add buffers n; when the buffer is full it is sorted and spilled first.
func (r *Runs) Add(n int64) error {
	if len(r.buf) == cap(r.buf) {
		if err := r.makeRoom(); err != nil {
			return err
		}
	}
	r.buf = append(r.buf, n)
	return nil
}

// AddSlice is Add for each number of ns.
func (r *Runs) AddSlice(ns []int64) error {
	for len(ns) > 0 {
		if len(r.buf) == cap(r.buf) {
			if err := r.makeRoom(); err != nil {
				return err
			}
		}
		k := min(len(ns), cap(r.buf)-len(r.buf))
		r.buf = append(r.buf, ns[:k]...)
		ns = ns[k:]
	}
	return nil
}

// makeRoom grows the full buffer up to the budget, or spills it.
func (r *Runs) makeRoom() error {
	switch {
	case r.closed:
		return fmt.Errorf("add: %w", ErrClosed)
	case r.err != nil:
		return r.err
	case r.merge != nil:
		return fmt.Errorf("add: %w", errFinished)
	case cap(r.buf) < r.limit:
		// Double up to bigBufNumbers, then go straight to the budget: a big
		// allocation is only address space until it is written, while each
		// doubling copies everything buffered so far.
		size := max(2*cap(r.buf), firstBufNumbers)
		if size > bigBufNumbers {
			size = r.limit
		}
		nb := make([]int64, len(r.buf), min(size, r.limit))
		copy(nb, r.buf)
		r.buf = nb
		return nil
	}
	if err := r.spill(); err != nil {
		return r.fail(err)
	}
	return nil
}

// spill sorts the buffer and writes it as a run file.
func (r *Runs) spill() error {
	nums := r.sorter.SortDedupeParallel(r.buf, 0)
	// A run is delta varints: at least a byte a number.
	if err := CheckSpace(r.dir, int64(len(nums))); err != nil {
		return fmt.Errorf("spill run %d: %w", r.spilled+1, err)
	}
	path, err := r.writeRun(uint64(len(nums)), func(w *runWriter) error { return w.WriteSlice(nums) })
	if err != nil {
		return fmt.Errorf("spill run %d: %w", r.spilled+1, err)
	}
	r.spilled++
	r.runs = append(r.runs, path)
	r.buf = r.buf[:0]
	return nil
}

// writeRun creates a run file of count numbers written by fill. On error
// the file is removed (or left for Close to remove).
func (r *Runs) writeRun(count uint64, fill func(*runWriter) error) (path string, err error) {
	f, err := r.create(r.dir, runPattern)
	if err != nil {
		return "", err
	}
	path = f.Name()
	r.paths = append(r.paths, path)
	w := newRunWriter(f, count)
	err = fill(w)
	if err == nil {
		err = w.Close()
	}
	// No fsync: a run is scratch that never has to survive a crash, and
	// the page cache gives back what was written. File systems that
	// report a full disk late (NFS) do so at close.
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		r.remove(path)
		return "", err
	}
	return path, nil
}

// Spilled returns the number of runs spilled to disk so far (runs merged
// into bigger ones by Iterator are not counted again).
func (r *Runs) Spilled() int { return r.spilled }

// Iterator finishes the collection: it sorts the numbers still buffered,
// which stay in memory as the last run, and returns a merge of every run.
// Past maxFanIn runs, the oldest are first merged into bigger run files.
// Calling Iterator again returns the same Merge, started again.
func (r *Runs) Iterator() (*Merge, error) {
	switch {
	case r.closed:
		return nil, fmt.Errorf("iterate: %w", ErrClosed)
	case r.err != nil:
		return nil, r.err
	case r.merge != nil:
		return r.merge, r.merge.Reset()
	}
	last := r.sorter.SortDedupeParallel(r.buf, 0)
	r.sorter.Release() // the scratch is not needed any more
	r.buf = nil
	for len(r.runs) > r.fanIn-1 { // one slot for the in-memory run
		if err := r.compact(); err != nil {
			return nil, r.fail(fmt.Errorf("merge runs: %w", err))
		}
	}
	m, err := newMerge(last, r.runs)
	if err != nil {
		return nil, r.fail(fmt.Errorf("iterate: %w", err))
	}
	r.merge = m
	return m, nil
}

// compact merges the oldest runs into one, as many as needed to get down
// to the fan-in (at most fanIn at a time). The output's count goes in its
// header, so the inputs are merged twice: once to count, once to write.
func (r *Runs) compact() error {
	k := min(r.fanIn, len(r.runs)-(r.fanIn-1)+1)
	in := r.runs[:k]
	m, err := newMerge(nil, in)
	if err != nil {
		return err
	}
	defer m.close()
	count, err := m.Count()
	if err != nil {
		return err
	}
	path, err := r.writeRun(uint64(count), func(w *runWriter) error {
		for x, ok := m.Next(); ok; x, ok = m.Next() {
			if err := w.Write(x); err != nil {
				return err
			}
		}
		return m.Err()
	})
	if err != nil {
		return err
	}
	for _, p := range in {
		r.remove(p)
	}
	r.runs = append(r.runs[k:], path)
	return nil
}

// fail makes err sticky and drops the buffer.
func (r *Runs) fail(err error) error {
	r.err, r.buf = err, nil
	return err
}

// remove deletes a run file now; if that fails, Close tries again.
func (r *Runs) remove(path string) {
	if err := outfs.RemoveScratch(path); err != nil {
		return
	}
	for i, p := range r.paths {
		if p == path {
			r.paths = append(r.paths[:i], r.paths[i+1:]...)
			break
		}
	}
}

// Close closes the merge and removes every file the Runs created. It is
// safe to call more than once and after any error.
func (r *Runs) Close() error {
	if r.closed {
		return nil
	}
	r.closed = true
	var errs []error
	if r.merge != nil {
		if err := r.merge.close(); err != nil {
			errs = append(errs, err)
		}
	}
	for _, p := range r.paths {
		if err := outfs.RemoveScratch(p); err != nil {
			errs = append(errs, err)
		}
	}
	r.paths, r.runs, r.buf = nil, nil, nil
	r.sorter.Release()
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("close runs: %w", err)
	}
	return nil
}
