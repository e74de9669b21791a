package sortx

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// Merge yields the distinct numbers of several sorted runs in ascending
// order: a k-way merge through a binary heap of the runs' next numbers. A
// number present in several runs comes out once. (A tournament tree does
// fewer comparisons in theory but measured 20% slower here with 10 runs:
// the heap's sift-down often stops after one level.)
//
// Run files are checked as they are read (see runReader), so Next may stop
// early: once it returns false, Err tells whether the runs were read to
// their end and verified. A caller that needs the total before writing
// anything (the shard split does) calls Count first, which reads and
// verifies every run, then iterates.
//
// A Merge belongs to the Runs that made it: Runs.Close closes its files. It
// is not safe for concurrent use.
type Merge struct {
	srcs []mergeSource
	heap []head // min-heap on x
	last int64  // last number returned, when started
	some bool   // a number was returned since the last Reset
	err  error
	shut bool // closed by Runs.Close
}

// head is the next number of one source.
type head struct {
	x   int64
	src int
}

// mergeSource is a sorted, distinct run: in memory, or a file decoded a
// block at a time (a tight decode loop, and a cheap next for the merge).
type mergeSource struct {
	block []int64 // the in-memory run, or the last block decoded
	i     int     // next in block
	mem   bool
	f     *os.File
	path  string
	rr    *runReader
	dec   []int64 // block buffer of a file source
}

// blockNumbers is the size of a file source's block: 2 KiB.
const blockNumbers = 256

func (s *mergeSource) next() (int64, bool, error) {
	if s.i < len(s.block) {
		s.i++
		return s.block[s.i-1], true, nil
	}
	if s.mem {
		return 0, false, nil
	}
	n := s.rr.read(s.dec)
	if n > 0 {
		s.block, s.i = s.dec[:n], 1
		return s.block[0], true, nil
	}
	s.block, s.i = nil, 0
	if err := s.rr.err; err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) { // an I/O error names the file already
			return 0, false, err
		}
		return 0, false, fmt.Errorf("read %s: %w", s.path, err)
	}
	return 0, false, nil
}

func (s *mergeSource) rewind() error {
	s.i = 0
	if s.mem {
		return nil
	}
	s.block = nil
	if _, err := s.f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	s.rr.reset(s.f)
	return nil
}

// newMerge opens the run files and starts a merge of them and of the
// in-memory run mem (sorted and distinct; may be empty). On error it
// closes what it opened.
func newMerge(mem []int64, paths []string) (*Merge, error) {
	m := &Merge{}
	if len(mem) > 0 {
		m.srcs = append(m.srcs, mergeSource{block: mem, mem: true})
	}
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			m.close()
			return nil, err
		}
		m.srcs = append(m.srcs, mergeSource{f: f, path: p, rr: newRunReader(f), dec: make([]int64, blockNumbers)})
	}
	if err := m.Reset(); err != nil {
		m.close()
		return nil, err
	}
	return m, nil
}

// Next returns the next distinct number, or false at the end or at the
// first error.
func (m *Merge) Next() (int64, bool) {
	for len(m.heap) > 0 {
		top := &m.heap[0]
		x := top.x
		var (
			y   int64
			ok  bool
			err error
		)
		if s := &m.srcs[top.src]; s.i < len(s.block) { // inlined fast path of next
			y, ok = s.block[s.i], true
			s.i++
		} else {
			y, ok, err = s.next()
		}
		switch {
		case err != nil:
			m.err, m.heap = err, m.heap[:0]
			return 0, false
		case ok:
			top.x = y
		default: // this source is done
			last := len(m.heap) - 1
			m.heap[0] = m.heap[last]
			m.heap = m.heap[:last]
		}
		m.downFrom(0)
		if m.some && x == m.last {
			continue // also in an earlier run
		}
		m.last, m.some = x, true
		return x, true
	}
	return 0, false
}

// Err returns the error that ended the merge early, or nil.
func (m *Merge) Err() error { return m.err }

// Reset starts the merge again from the first number.
func (m *Merge) Reset() error {
	if m.shut {
		return m.err
	}
	m.heap, m.some, m.err = m.heap[:0], false, nil
	for i := range m.srcs {
		s := &m.srcs[i]
		if err := s.rewind(); err != nil {
			m.err = fmt.Errorf("rewind %s: %w", s.path, err)
			return m.err
		}
		x, ok, err := s.next()
		if err != nil {
			m.err = err
			return err
		}
		if ok {
			m.heap = append(m.heap, head{x, i})
		}
	}
	for i := len(m.heap)/2 - 1; i >= 0; i-- {
		m.downFrom(i)
	}
	return nil
}

// Count merges every run to its end without yielding and returns the
// number of distinct numbers, then starts the merge again from the first
// number. It reads and verifies every run, so a corrupt run is reported
// before the caller has written anything.
func (m *Merge) Count() (int64, error) {
	if err := m.Reset(); err != nil {
		return 0, err
	}
	var n int64
	for {
		if _, ok := m.Next(); !ok {
			break
		}
		n++
	}
	if m.err != nil {
		return n, m.err
	}
	return n, m.Reset()
}

// downFrom restores the heap order below i.
func (m *Merge) downFrom(i int) {
	h := m.heap
	for {
		l := 2*i + 1
		if l >= len(h) {
			return
		}
		c := l
		if r := l + 1; r < len(h) && h[r].x < h[l].x {
			c = r
		}
		if h[i].x <= h[c].x {
			return
		}
		h[i], h[c] = h[c], h[i]
		i = c
	}
}

// close closes the run files; the Merge is unusable afterwards.
func (m *Merge) close() error {
	var errs []error
	for i := range m.srcs {
		if f := m.srcs[i].f; f != nil {
			if err := f.Close(); err != nil {
				errs = append(errs, err)
			}
		}
	}
	m.srcs, m.heap, m.shut = nil, nil, true
	m.err = errors.New("merge: runs closed")
	return errors.Join(errs...)
}
