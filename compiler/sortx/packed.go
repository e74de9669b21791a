package sortx

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"

	"github.com/calldir/calldir/shard/outfs"
)

// Packed holds a long ascending sequence of distinct positive numbers
// delta encoded (about 1–3 bytes a number for CallKit lists), so that a
// build's final entries, counted in one merge pass, can be read back any
// number of times, and any span of them decoded on its own (shards are
// written in parallel). The bytes live in fixed-size chunks: in memory up
// to a budget, in a temporary file past it.
//
//	chunk: uvarint(x₀ − prev − 1) uvarint(x₁ − x₀ − 1) …   (no varint crosses a chunk)
//	mark every packEvery numbers: chunk, offset and the number before it
//
// Each chunk carries a CRC-32C, checked when it is read back from the file.
type Packed struct {
	dir    string
	budget int // bytes of chunks kept in memory

	chunks [][]byte // nil once written to the file
	used   []int    // bytes of each chunk
	crcs   []uint32
	marks  []packMark
	n      int
	last   int64
	cur    []byte // the chunk being filled

	f      *os.File
	path   string
	closed bool
	err    error // sticky
}

type packMark struct {
	chunk, off int32
	prev       int64
}

const (
	packChunk = 1 << 20 // bytes
	packEvery = 1 << 14 // numbers between marks
)

// NewPacked returns an empty Packed that keeps up to budget bytes in
// memory and the rest in a temporary file in dir (empty: os.TempDir()).
func NewPacked(dir string, budget int64) *Packed {
	if dir == "" {
		dir = os.TempDir()
	}
	return &Packed{dir: dir, budget: int(min(budget, 1<<62))}
}

// Append adds x, which must be above every number added before.
func (p *Packed) Append(x int64) error {
	if p.err != nil {
		return p.err
	}
	if x <= 0 || (p.n > 0 && x <= p.last) {
		p.err = fmt.Errorf("pack: %d after %d: not ascending", x, p.last)
		return p.err
	}
	if len(p.cur)+binary.MaxVarintLen64 > packChunk || p.cur == nil {
		if err := p.nextChunk(); err != nil {
			return err
		}
	}
	if p.n%packEvery == 0 {
		p.marks = append(p.marks, packMark{chunk: int32(len(p.chunks) - 1), off: int32(len(p.cur)), prev: p.last})
	}
	p.cur = binary.AppendUvarint(p.cur, uint64(x-p.last-1)) // p.last is 0 before the first
	p.last = x
	p.n++
	return nil
}

// nextChunk closes the chunk being filled and starts another.
func (p *Packed) nextChunk() error {
	if p.cur != nil {
		if err := p.seal(); err != nil {
			return err
		}
	}
	p.chunks = append(p.chunks, nil)
	p.used = append(p.used, 0)
	p.crcs = append(p.crcs, 0)
	p.cur = make([]byte, 0, packChunk)
	return nil
}

// seal records the current chunk, and moves chunks to the file once the
// memory budget is spent.
func (p *Packed) seal() error {
	i := len(p.chunks) - 1
	p.chunks[i], p.used[i], p.crcs[i] = p.cur, len(p.cur), crc32.Checksum(p.cur, castagnoli)
	p.cur = nil
	if (i+1)*packChunk <= p.budget && p.f == nil {
		return nil
	}
	var need int64
	for j := range p.chunks {
		if p.chunks[j] != nil {
			need += int64(p.used[j])
		}
	}
	if err := CheckSpace(p.dir, need); err != nil {
		return p.fail(fmt.Errorf("pack: %w", err))
	}
	if p.f == nil {
		f, err := outfs.CreateScratch(p.dir, spillPattern("packed"))
		if err != nil {
			return p.fail(fmt.Errorf("pack: %w", err))
		}
		p.f, p.path = f, f.Name()
	}
	for j := range p.chunks {
		if p.chunks[j] == nil {
			continue
		}
		if _, err := p.f.WriteAt(p.chunks[j][:p.used[j]], int64(j)*packChunk); err != nil {
			return p.fail(fmt.Errorf("pack: %w", err))
		}
		p.chunks[j] = nil
	}
	return nil
}

func (p *Packed) fail(err error) error {
	p.err = err
	return err
}

// Finish ends the appends.
func (p *Packed) Finish() error {
	if p.err != nil {
		return p.err
	}
	if p.cur != nil {
		return p.seal()
	}
	return nil
}

// Len is the count of numbers.
func (p *Packed) Len() int { return p.n }

// InFile reports whether some chunks went to the temporary file.
func (p *Packed) InFile() bool { return p.f != nil }

// Close removes the temporary file, if any.
func (p *Packed) Close() error {
	if p.closed {
		return nil
	}
	p.closed = true
	p.chunks, p.cur = nil, nil
	if p.f == nil {
		return nil
	}
	return closeRemove(p.f, p.path)
}

// closeRemove closes a temporary file and removes it (gone already is
// fine), and returns both errors.
func closeRemove(f io.Closer, path string) error {
	err := f.Close()
	if rerr := outfs.RemoveScratch(path); rerr != nil {
		err = errors.Join(err, rerr)
	}
	return err
}

// PackedReader decodes spans of a finished Packed. Each goroutine needs
// its own.
type PackedReader struct {
	p   *Packed
	buf []byte // a chunk read from the file
}

// Reader returns a reader of p.
func (p *Packed) Reader() *PackedReader { return &PackedReader{p: p} }

// chunk returns chunk i, from memory or from the file (checked).
func (r *PackedReader) chunk(i int) ([]byte, error) {
	p := r.p
	if p.closed {
		return nil, errors.New("pack: closed")
	}
	if c := p.chunks[i]; c != nil {
		return c[:p.used[i]], nil
	}
	if cap(r.buf) < packChunk {
		r.buf = make([]byte, packChunk)
	}
	b := r.buf[:p.used[i]]
	if _, err := p.f.ReadAt(b, int64(i)*packChunk); err != nil {
		return nil, fmt.Errorf("pack: read %s: %w", p.path, err)
	}
	if crc32.Checksum(b, castagnoli) != p.crcs[i] {
		return nil, fmt.Errorf("pack: %s: chunk %d: %w: checksum mismatch", p.path, i, ErrCorrupt)
	}
	return b, nil
}

// Span decodes the numbers of index start to end (exclusive) into dst,
// in blocks of up to len(dst), and calls fn with each block.
func (r *PackedReader) Span(start, end int, dst []int64, fn func([]int64) error) error {
	p := r.p
	if p.err != nil {
		return p.err
	}
	if start < 0 || end > p.n || start > end || len(dst) == 0 {
		return fmt.Errorf("pack: span %d..%d of %d", start, end, p.n)
	}
	if start == end {
		return nil
	}
	mk := p.marks[start/packEvery]
	ci, off, prev := int(mk.chunk), int(mk.off), mk.prev
	c, err := r.chunk(ci)
	if err != nil {
		return err
	}
	skip := start - start/packEvery*packEvery
	k := 0
	for i := start - skip; i < end; i++ {
		if off >= len(c) {
			ci++
			if c, err = r.chunk(ci); err != nil {
				return err
			}
			off = 0
		}
		g, w := binary.Uvarint(c[off:])
		if w <= 0 {
			return fmt.Errorf("pack: chunk %d: %w: bad varint", ci, ErrCorrupt)
		}
		off += w
		prev += int64(g) + 1
		if i < start {
			continue
		}
		dst[k] = prev
		if k++; k == len(dst) {
			if err := fn(dst); err != nil {
				return err
			}
			k = 0
		}
	}
	if k > 0 {
		return fn(dst[:k])
	}
	return nil
}
