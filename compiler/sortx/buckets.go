package sortx

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math/bits"
	"os"
	"slices"

	"github.com/calldir/calldir/shard/outfs"
)

// Buckets sorts a large stream of positive numbers in bounded memory
// without merging: numbers are distributed as they arrive into buckets of
// consecutive key ranges, and at the end each bucket is sorted on its own
// and the buckets come out in order. A k-way merge of sorted runs (Runs)
// costs a heap step per number and a sort of every number under a lock
// while the input waits; here adding a number is a store, and the sorts
// run bucket by bucket, each in cache-sized scratch, beside the consumer.
//
//	Add ──▶ bucket = key's bit length and the 8 bits below its top bit
//	        (14,592 buckets, each a range ≤ 1/256 of its keys' magnitude:
//	        the US numbers of a list fall in about 240 of them)
//	    ──▶ blocks of 64 to 1,024 numbers per bucket, in memory (the
//	        budget holds a block for every bucket at once)
//	    ──▶ past the budget: every block to a spill file, raw, as extents
//	        of their bucket (checksummed), and the memory is reused
//	Iterator ──▶ for each bucket in order: read its extents and blocks,
//	        SortDedupe, yield (a sorter per core sorts the next buckets meanwhile)
//
// A bucket bigger than bigBucket (clustered input: every number in one
// area code) is sorted by a Runs of its own instead, with sorted runs on
// disk and a merge; the output is the same.
//
// Buckets has parts, one per goroutine that adds numbers, each with its
// own blocks and spill file, so that the adding needs no lock; a bucket is
// gathered from every part at the end. Buckets itself adds to part 0. Use
// each part from one goroutine at a time, and nothing concurrently with
// Iterator or Close.
type Buckets struct {
	dir   string
	limit int // numbers in memory, all parts together
	parts []*BucketPart

	iter   *BucketIter
	closed bool
}

// BucketPart is the numbers added by one goroutine.
type BucketPart struct {
	dir   string
	limit int    // numbers in memory (blocks allocated × bk)
	bk    int    // numbers per block
	buf   []byte // spill write buffer

	blocks [][]int64 // every block allocated, reused after a spill
	used   int       // blocks handed out since the last spill
	chains [numBuckets][]int32
	fill   [numBuckets]int32 // numbers in the bucket's last block
	last   [numBuckets]int32 // the bucket's last block, -1 when none

	f       spillFile
	path    string
	off     int64
	extents [numBuckets][]extent
	spilled int

	done bool // Iterator was called
	err  error
}

// spillFile is the part of *os.File a spill uses.
type spillFile interface {
	io.WriterAt
	io.ReaderAt
	Name() string
	Close() error
}

// createSpill creates a spill file; tests inject faults through it.
var createSpill = func(dir, pattern string) (spillFile, error) { return outfs.CreateScratch(dir, pattern) }

// extent is a bucket's numbers in the spill file.
type extent struct {
	off int64
	n   int
	crc uint32
}

const (
	mantBits   = 8
	numBuckets = (63-mantBits)<<mantBits + 2<<mantBits
	// A bucket's numbers are held in blocks of bk numbers: 8 KiB when the
	// budget is large, down to 512 bytes so that a part's budget holds a
	// block for every bucket at once (spread input puts numbers in
	// thousands of buckets; with fewer blocks than buckets in use, every
	// spill would write tiny pieces). The budget counts whole blocks: the
	// memory is the numbers plus at most a partly filled block per bucket.
	blockKeys    = 1 << 10 // the largest block
	minBlockKeys = 64
)

// bucketOf maps a positive key to its bucket; it is monotonic in the key.
func bucketOf(k int64) int {
	l := bits.Len64(uint64(k)) // 1..63
	if l <= mantBits+1 {
		return int(k) // small keys are their own bucket, below the others
	}
	sh := l - mantBits - 1
	return sh<<mantBits + int(uint64(k)>>sh&(1<<mantBits-1)) + 2<<mantBits
}

// NewBuckets is NewBucketsParts with one part.
func NewBuckets(dir string, memoryBytes int64) *Buckets { return NewBucketsParts(dir, memoryBytes, 1) }

// NewBucketsParts returns an empty Buckets of parts parts (at least 1)
// within the budget memoryBytes (0 or less: DefaultBudget; see Budget for
// the shares) that spills to files in dir (empty: os.TempDir()): the
// numbers as they arrive are split evenly between the parts, and the sort
// at the end (see bigBucket) runs while the memory of the buckets already
// read is given back.
func NewBucketsParts(dir string, memoryBytes int64, parts int) *Buckets {
	if dir == "" {
		dir = os.TempDir()
	}
	parts = max(parts, 1)
	b := &Buckets{dir: dir, limit: int(max(Budget(memoryBytes).Buckets()/8, int64(2*minBlockKeys*parts)))}
	for range parts {
		p := &BucketPart{dir: dir, limit: b.limit / parts}
		p.bk = minBlockKeys
		for p.bk < blockKeys && 2*p.bk*numBuckets <= p.limit {
			p.bk *= 2
		}
		for i := range p.last {
			p.last[i] = -1
		}
		b.parts = append(b.parts, p)
	}
	return b
}

// Part returns part i, for one goroutine's numbers.
func (b *Buckets) Part(i int) *BucketPart { return b.parts[i] }

// Parts returns the number of parts.
func (b *Buckets) Parts() int { return len(b.parts) }

// Add adds the positive number x to part 0.
func (b *Buckets) Add(x int64) error { return b.AddSlice([]int64{x}) }

// AddSlice adds the positive numbers xs to part 0.
func (b *Buckets) AddSlice(xs []int64) error {
	if b.closed {
		return fmt.Errorf("add: %w", ErrClosed)
	}
	return b.parts[0].AddSlice(xs)
}

// AddSlice adds the positive numbers xs.
func (p *BucketPart) AddSlice(xs []int64) error {
	switch {
	case p.err != nil:
		return p.err
	case p.done:
		return fmt.Errorf("add: %w", errFinished)
	}
	for _, x := range xs {
		if x <= 0 {
			return p.fail(fmt.Errorf("add: %d is not positive", x))
		}
		k := bucketOf(x)
		if int(p.fill[k]) == p.bk || p.last[k] < 0 {
			if err := p.newBlock(k); err != nil {
				return err
			}
		}
		p.blocks[p.last[k]][p.fill[k]] = x
		p.fill[k]++
	}
	return nil
}

// newBlock gives bucket k an empty block, spilling first when the budget
// is spent.
func (p *BucketPart) newBlock(k int) error {
	if (p.used+1)*p.bk > p.limit {
		if err := p.spill(); err != nil {
			return p.fail(err)
		}
	}
	if p.used == len(p.blocks) {
		p.blocks = append(p.blocks, make([]int64, p.bk))
	}
	p.chains[k] = append(p.chains[k], int32(p.used))
	p.last[k], p.fill[k] = int32(p.used), 0
	p.used++
	return nil
}

// memNumbers returns the numbers of bucket k's blocks in memory.
func (p *BucketPart) memNumbers(k int) int {
	if len(p.chains[k]) == 0 {
		return 0
	}
	return (len(p.chains[k])-1)*p.bk + int(p.fill[k])
}

// memBlocks calls fn with each of bucket k's blocks in memory, filled part.
func (p *BucketPart) memBlocks(k int, fn func([]int64) error) error {
	for i, blk := range p.chains[k] {
		m := p.bk
		if i == len(p.chains[k])-1 {
			m = int(p.fill[k])
		}
		if err := fn(p.blocks[blk][:m]); err != nil {
			return err
		}
	}
	return nil
}

// spill writes every bucket's blocks to the spill file, one extent per
// bucket, and frees the blocks.
func (p *BucketPart) spill() error {
	var n int64
	for k := range p.chains {
		n += int64(p.memNumbers(k))
	}
	if err := CheckSpace(p.dir, 8*n); err != nil {
		return err
	}
	if p.f == nil {
		f, err := createSpill(p.dir, spillPattern("bucket"))
		if err != nil {
			return fmt.Errorf("spill: %w", err)
		}
		p.f, p.path = f, f.Name()
	}
	if p.buf == nil {
		p.buf = make([]byte, 0, 256<<10)
	}
	buf := p.buf[:0]
	for k := range p.chains {
		n := p.memNumbers(k)
		if n == 0 {
			continue
		}
		ext := extent{off: p.off, n: n}
		crc := uint32(0)
		err := p.memBlocks(k, func(xs []int64) error {
			for _, x := range xs {
				buf = binary.LittleEndian.AppendUint64(buf, uint64(x))
				if len(buf) == cap(buf) {
					if err := p.write(&buf, &crc); err != nil {
						return err
					}
				}
			}
			return nil
		})
		if err == nil {
			err = p.write(&buf, &crc)
		}
		if err != nil {
			return err
		}
		ext.crc = crc
		p.extents[k] = append(p.extents[k], ext)
		p.chains[k], p.last[k], p.fill[k] = p.chains[k][:0], -1, 0
	}
	p.used = 0
	p.spilled++
	return nil
}

func (p *BucketPart) write(buf *[]byte, crc *uint32) error {
	if len(*buf) == 0 {
		return nil
	}
	if _, err := p.f.WriteAt(*buf, p.off); err != nil {
		return fmt.Errorf("spill to %s: %w", p.path, err)
	}
	*crc = crc32.Update(*crc, castagnoli, *buf)
	p.off += int64(len(*buf))
	*buf = (*buf)[:0]
	return nil
}

// Len returns the count of numbers added, duplicates included.
func (b *Buckets) Len() int {
	n := 0
	for k := range numBuckets {
		n += b.bucketSize(k)
	}
	return n
}

// Spilled returns how many times numbers in memory went to a file.
func (b *Buckets) Spilled() int {
	n := 0
	for _, p := range b.parts {
		n += p.spilled
	}
	return n
}

func (p *BucketPart) fail(err error) error {
	p.err = err
	return err
}

// readExtents calls fn with the numbers of bucket k's extents, a piece at
// a time; each extent's checksum is checked at its end, so a caller that
// acts only after the last call never acts on corrupt numbers.
func (p *BucketPart) readExtents(k int, raw []byte, fn func([]int64) error) error {
	var nums []int64
	for _, e := range p.extents[k] {
		crc := uint32(0)
		for done := 0; done < e.n*8; {
			m := min(len(raw), e.n*8-done)
			if _, err := p.f.ReadAt(raw[:m], e.off+int64(done)); err != nil {
				return fmt.Errorf("read %s: %w", p.path, err)
			}
			crc = crc32.Update(crc, castagnoli, raw[:m])
			nums = nums[:0]
			for i := 0; i < m; i += 8 {
				nums = append(nums, int64(binary.LittleEndian.Uint64(raw[i:])))
			}
			if err := fn(nums); err != nil {
				return err
			}
			done += m
		}
		if crc != e.crc {
			return fmt.Errorf("read %s: %w: checksum mismatch at offset %d", p.path, ErrCorrupt, e.off)
		}
	}
	return nil
}

// each calls fn with every number of bucket k, from every part: the
// spilled ones first, a piece at a time.
func (b *Buckets) each(k int, raw []byte, fn func([]int64) error) error {
	for _, p := range b.parts {
		if err := p.readExtents(k, raw, fn); err != nil {
			return err
		}
		if err := p.memBlocks(k, fn); err != nil {
			return err
		}
	}
	return nil
}

// gather returns every number of bucket k in one slice, in dst if it is
// big enough.
func (b *Buckets) gather(k int, dst []int64, raw []byte) ([]int64, error) {
	dst = slices.Grow(dst[:0], b.bucketSize(k))
	err := b.each(k, raw, func(xs []int64) error {
		dst = append(dst, xs...)
		return nil
	})
	return dst, err
}

// bucketSize is the count of numbers in bucket k.
func (b *Buckets) bucketSize(k int) int {
	n := 0
	for _, p := range b.parts {
		n += p.memNumbers(k)
		for _, e := range p.extents[k] {
			n += e.n
		}
	}
	return n
}

// release drops bucket k's blocks once they are read: the memory goes
// back as the iteration goes on.
func (b *Buckets) release(k int) {
	for _, p := range b.parts {
		for _, blk := range p.chains[k] {
			p.blocks[blk] = nil
		}
	}
}

// Close stops an iteration and removes the spill file. It is safe to call
// more than once and after any error.
func (b *Buckets) Close() error {
	if b.closed {
		return nil
	}
	if b.iter != nil {
		b.iter.stop()
	}
	b.closed = true
	var errs []error
	for _, p := range b.parts {
		p.err = fmt.Errorf("add: %w", ErrClosed)
		p.blocks = nil
		if p.f == nil {
			continue
		}
		errs = append(errs, closeRemove(p.f, p.path))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("close buckets: %w", err)
	}
	return nil
}
