package sortx

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"math/bits"
	"os"
	"slices"
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
//	    ──▶ blocks of blockKeys numbers per bucket, in memory
//	    ──▶ past the budget: every block to a spill file, raw, as extents
//	        of their bucket (checksummed), and the memory is reused
//	Iterator ──▶ for each bucket in order: read its extents and blocks,
//	        SortDedupe, yield (a goroutine sorts the next bucket meanwhile)
//
// A bucket bigger than a quarter of the budget (clustered input: every
// number in one area code) is sorted by a Runs of its own instead, with
// sorted runs on disk and a merge; the output is the same.
//
// Buckets is not safe for concurrent use.
type Buckets struct {
	dir   string
	limit int // numbers in memory (blocks allocated × blockKeys)

	blocks [][]int64 // every block allocated, reused after a spill
	used   int       // blocks handed out since the last spill
	chains [numBuckets][]int32
	fill   [numBuckets]int32 // numbers in the bucket's last block
	last   [numBuckets]int32 // the bucket's last block, -1 when none

	f       *os.File
	path    string
	off     int64
	extents [numBuckets][]extent
	spilled int

	iter   *BucketIter
	err    error
	closed bool
}

// extent is a bucket's numbers in the spill file.
type extent struct {
	off int64
	n   int
	crc uint32
}

const (
	mantBits   = 8
	numBuckets = (63-mantBits)<<mantBits + 2<<mantBits
	// blockKeys is a bucket's block: 8 KiB. Every bucket in use holds a
	// partly filled block, so the memory is the numbers plus at most a
	// block per bucket, and the budget counts whole blocks.
	blockKeys = 1 << 10
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

// NewBuckets returns an empty Buckets that uses about memoryBytes (0 or
// less: DefaultMemory) and spills to a file in dir (empty: os.TempDir()):
// 5/8 of it holds numbers as they arrive, and the sort at the end takes up
// to 3/16 more (see bigBucket) while the memory of the buckets already
// read is given back. The rest is the caller's (the compile packs the
// sorted numbers in 1/8).
func NewBuckets(dir string, memoryBytes int64) *Buckets {
	if dir == "" {
		dir = os.TempDir()
	}
	if memoryBytes <= 0 {
		memoryBytes = DefaultMemory
	}
	b := &Buckets{dir: dir, limit: int(max(memoryBytes*5/8/8, 2*blockKeys))}
	for i := range b.last {
		b.last[i] = -1
	}
	return b
}

// Add adds the positive number x.
func (b *Buckets) Add(x int64) error {
	return b.AddSlice([]int64{x})
}

// AddSlice adds the positive numbers xs.
func (b *Buckets) AddSlice(xs []int64) error {
	switch {
	case b.closed:
		return fmt.Errorf("add: %w", ErrClosed)
	case b.err != nil:
		return b.err
	case b.iter != nil:
		return fmt.Errorf("add: %w", errFinished)
	}
	for _, x := range xs {
		if x <= 0 {
			return b.fail(fmt.Errorf("add: %d is not positive", x))
		}
		k := bucketOf(x)
		if b.fill[k] == blockKeys || b.last[k] < 0 {
			if err := b.newBlock(k); err != nil {
				return err
			}
		}
		b.blocks[b.last[k]][b.fill[k]] = x
		b.fill[k]++
	}
	return nil
}

// newBlock gives bucket k an empty block, spilling first when the budget
// is spent.
func (b *Buckets) newBlock(k int) error {
	if (b.used+1)*blockKeys > b.limit {
		if err := b.spill(); err != nil {
			return b.fail(err)
		}
	}
	if b.used == len(b.blocks) {
		b.blocks = append(b.blocks, make([]int64, blockKeys))
	}
	b.chains[k] = append(b.chains[k], int32(b.used))
	b.last[k], b.fill[k] = int32(b.used), 0
	b.used++
	return nil
}

// memNumbers returns the numbers of bucket k's blocks in memory.
func (b *Buckets) memNumbers(k int) int {
	if len(b.chains[k]) == 0 {
		return 0
	}
	return (len(b.chains[k])-1)*blockKeys + int(b.fill[k])
}

// spill writes every bucket's blocks to the spill file, one extent per
// bucket, and frees the blocks.
func (b *Buckets) spill() error {
	if b.f == nil {
		f, err := os.CreateTemp(b.dir, runPattern)
		if err != nil {
			return fmt.Errorf("spill: %w", err)
		}
		b.f, b.path = f, f.Name()
	}
	buf := make([]byte, 0, 256<<10)
	for k := range b.chains {
		n := b.memNumbers(k)
		if n == 0 {
			continue
		}
		ext := extent{off: b.off, n: n}
		crc := uint32(0)
		for i, blk := range b.chains[k] {
			m := blockKeys
			if i == len(b.chains[k])-1 {
				m = int(b.fill[k])
			}
			for _, x := range b.blocks[blk][:m] {
				buf = binary.LittleEndian.AppendUint64(buf, uint64(x))
				if len(buf) == cap(buf) {
					if err := b.write(&buf, &crc); err != nil {
						return err
					}
				}
			}
		}
		if err := b.write(&buf, &crc); err != nil {
			return err
		}
		ext.crc = crc
		b.extents[k] = append(b.extents[k], ext)
		b.chains[k], b.last[k], b.fill[k] = b.chains[k][:0], -1, 0
	}
	b.used = 0
	b.spilled++
	return nil
}

func (b *Buckets) write(buf *[]byte, crc *uint32) error {
	if len(*buf) == 0 {
		return nil
	}
	if _, err := b.f.WriteAt(*buf, b.off); err != nil {
		return fmt.Errorf("spill to %s: %w", b.path, err)
	}
	*crc = crc32.Update(*crc, castagnoli, *buf)
	b.off += int64(len(*buf))
	*buf = (*buf)[:0]
	return nil
}

// Spilled returns how many times the numbers in memory went to the file.
func (b *Buckets) Spilled() int { return b.spilled }

func (b *Buckets) fail(err error) error {
	b.err = err
	return err
}

// gather returns every number of bucket k in one slice (from the file and
// from memory), in dst if it is big enough.
func (b *Buckets) gather(k int, dst []int64) ([]int64, error) {
	n := b.memNumbers(k)
	for _, e := range b.extents[k] {
		n += e.n
	}
	dst = slices.Grow(dst[:0], n)[:0]
	var raw []byte
	for _, e := range b.extents[k] {
		if raw == nil {
			raw = make([]byte, min(e.n*8, 1<<20))
		}
		crc := uint32(0)
		for done := 0; done < e.n*8; {
			m := min(len(raw), e.n*8-done)
			if _, err := b.f.ReadAt(raw[:m], e.off+int64(done)); err != nil {
				return nil, fmt.Errorf("read %s: %w", b.path, err)
			}
			crc = crc32.Update(crc, castagnoli, raw[:m])
			for i := 0; i < m; i += 8 {
				dst = append(dst, int64(binary.LittleEndian.Uint64(raw[i:])))
			}
			done += m
		}
		if crc != e.crc {
			return nil, fmt.Errorf("read %s: %w: checksum mismatch at offset %d", b.path, ErrCorrupt, e.off)
		}
	}
	for i, blk := range b.chains[k] {
		m := blockKeys
		if i == len(b.chains[k])-1 {
			m = int(b.fill[k])
		}
		dst = append(dst, b.blocks[blk][:m]...)
	}
	return dst, nil
}

// bucketSize is the count of numbers in bucket k.
func (b *Buckets) bucketSize(k int) int {
	n := b.memNumbers(k)
	for _, e := range b.extents[k] {
		n += e.n
	}
	return n
}

// release drops bucket k's blocks once they are read: the memory goes
// back as the iteration goes on.
func (b *Buckets) release(k int) {
	for _, blk := range b.chains[k] {
		b.blocks[blk] = nil
	}
}

// Iterator finishes the collection and returns the distinct numbers in
// ascending order. It can be called once: the memory of each bucket is
// given back as soon as it is read.
func (b *Buckets) Iterator() (*BucketIter, error) {
	switch {
	case b.closed:
		return nil, fmt.Errorf("iterate: %w", ErrClosed)
	case b.err != nil:
		return nil, b.err
	case b.iter != nil:
		return nil, errors.New("iterate: Iterator called twice")
	}
	b.iter = &BucketIter{b: b}
	b.iter.start()
	return b.iter, nil
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
	b.blocks = nil
	if b.f == nil {
		return nil
	}
	err := b.f.Close()
	if rerr := os.Remove(b.path); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) && err == nil {
		err = rerr
	}
	if err != nil {
		return fmt.Errorf("close buckets: %w", err)
	}
	return nil
}

// BucketIter yields the numbers of a Buckets in ascending order, each once.
// A goroutine sorts the next bucket while the caller reads this one.
type BucketIter struct {
	b    *Buckets
	cur  []int64
	i    int
	ch   chan sortedBucket
	done chan struct{}
	quit chan struct{}
	free chan []int64 // buffers handed back
	err  error
}

type sortedBucket struct {
	nums []int64 // sorted, distinct
	err  error
}

func (it *BucketIter) start() {
	it.ch = make(chan sortedBucket, 1)
	it.done = make(chan struct{})
	it.quit = make(chan struct{})
	it.free = make(chan []int64, 1)
	go it.sortAll()
}

// bigBucket is the most numbers a bucket is sorted with in one slice:
// with its sort scratch, the bucket being read and a spare buffer, that is
// 3/10 of the numbers' memory (3/16 of the budget).
func (b *Buckets) bigBucket() int { return max(b.limit/10, blockKeys) }

func (it *BucketIter) sortAll() {
	defer close(it.done)
	defer close(it.ch)
	b := it.b
	var sorter Sorter
	defer sorter.Release()
	send := func(sb sortedBucket) bool {
		select {
		case it.ch <- sb:
			return sb.err == nil
		case <-it.quit:
			return false
		}
	}
	for k := range numBuckets {
		n := b.bucketSize(k)
		if n == 0 {
			continue
		}
		if n > b.bigBucket() {
			if !it.sortBig(k, send) {
				return
			}
			continue
		}
		var buf []int64
		select {
		case buf = <-it.free:
		default:
		}
		nums, err := b.gather(k, buf)
		if err != nil {
			send(sortedBucket{err: err})
			return
		}
		b.release(k)
		sorted := sorter.SortDedupe(nums)
		if !send(sortedBucket{nums: sorted}) {
			return
		}
	}
}

// sortBig sorts an oversized bucket through a Runs of its own.
func (it *BucketIter) sortBig(k int, send func(sortedBucket) bool) bool {
	b := it.b
	r := NewRuns(b.dir, int64(b.bigBucket())*16)
	defer r.Close()
	raw := make([]byte, 1<<20)
	for _, e := range b.extents[k] {
		crc := uint32(0)
		for done := 0; done < e.n*8; {
			m := min(len(raw), e.n*8-done)
			if _, err := b.f.ReadAt(raw[:m], e.off+int64(done)); err != nil {
				return send(sortedBucket{err: fmt.Errorf("read %s: %w", b.path, err)})
			}
			crc = crc32.Update(crc, castagnoli, raw[:m])
			for i := 0; i < m; i += 8 {
				if err := r.Add(int64(binary.LittleEndian.Uint64(raw[i:]))); err != nil {
					return send(sortedBucket{err: err})
				}
			}
			done += m
		}
		// Checked before anything of the bucket comes out.
		if crc != e.crc {
			return send(sortedBucket{err: fmt.Errorf("read %s: %w: checksum mismatch at offset %d", b.path, ErrCorrupt, e.off)})
		}
	}
	for i, blk := range b.chains[k] {
		m := blockKeys
		if i == len(b.chains[k])-1 {
			m = int(b.fill[k])
		}
		if err := r.AddSlice(b.blocks[blk][:m]); err != nil {
			return send(sortedBucket{err: err})
		}
	}
	b.release(k)
	m, err := r.Iterator()
	if err != nil {
		return send(sortedBucket{err: err})
	}
	out := make([]int64, 0, 64<<10)
	for x, ok := m.Next(); ok; x, ok = m.Next() {
		out = append(out, x)
		if len(out) == cap(out) {
			if !send(sortedBucket{nums: out}) {
				return false
			}
			out = make([]int64, 0, 64<<10)
		}
	}
	if err := m.Err(); err != nil {
		return send(sortedBucket{err: err})
	}
	if len(out) > 0 {
		return send(sortedBucket{nums: out})
	}
	return true
}

// Next returns the next number, or false at the end or at the first error.
func (it *BucketIter) Next() (int64, bool) {
	if it.i < len(it.cur) {
		it.i++
		return it.cur[it.i-1], true
	}
	return it.nextBucket()
}

func (it *BucketIter) nextBucket() (int64, bool) {
	for {
		sb, ok := <-it.ch
		if !ok || it.err != nil {
			return 0, false
		}
		if sb.err != nil {
			it.err = sb.err
			return 0, false
		}
		if it.cur != nil {
			select {
			case it.free <- it.cur[:0]:
			default:
			}
		}
		it.cur, it.i = sb.nums, 0
		if len(it.cur) > 0 {
			it.i = 1
			return it.cur[0], true
		}
	}
}

// Err returns the error that ended the iteration early, or nil.
func (it *BucketIter) Err() error { return it.err }

func (it *BucketIter) stop() {
	select {
	case <-it.quit:
	default:
		close(it.quit)
	}
	<-it.done
}
