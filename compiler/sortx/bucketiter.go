package sortx

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
)

// Iterator finishes the collection and returns the distinct numbers in
// ascending order. It can be called once: the memory of each bucket is
// given back as soon as it is read.
func (b *Buckets) Iterator() (*BucketIter, error) {
	switch {
	case b.closed:
		return nil, fmt.Errorf("iterate: %w", ErrClosed)
	case b.iter != nil:
		return nil, errors.New("iterate: Iterator called twice")
	}
	for _, p := range b.parts {
		if p.err != nil {
			return nil, p.err
		}
		p.done = true
	}
	b.iter = &BucketIter{b: b}
	b.iter.start()
	return b.iter, nil
}

// BucketIter yields the numbers of a Buckets in ascending order, each once.
// A sorter per core sorts the next buckets while the caller reads this one.
type BucketIter struct {
	b     *Buckets
	cur   []int64
	i     int
	jobs  []int               // the buckets that hold numbers, in order
	res   []chan sortedBucket // each job's sorted numbers, closed at its end
	job   int                 // the job being read
	next  atomic.Int64        // the next job for a sorter
	slots chan struct{}       // jobs taken and not yet read to their end
	done  chan struct{}       // closed when every sorter has returned
	quit  chan struct{}
	free  chan []int64 // buffers handed back
	err   error
	ended bool // every number was returned
}

type sortedBucket struct {
	nums []int64 // sorted, distinct
	err  error
}

// sorters is how many buckets are sorted at once, beside the reader of the
// iteration: one per core from the default budget up, else one (see
// parallelSort).
func (b *Buckets) sorters() int {
	if !parallelSort(int64(b.limit) * 8) {
		return 1
	}
	return max(1, runtime.GOMAXPROCS(0))
}

func (it *BucketIter) start() {
	b := it.b
	for k := range numBuckets {
		if b.bucketSize(k) > 0 {
			it.jobs = append(it.jobs, k)
		}
	}
	it.res = make([]chan sortedBucket, len(it.jobs))
	for j := range it.res {
		it.res[j] = make(chan sortedBucket, 1)
	}
	w := b.sorters()
	it.slots = make(chan struct{}, w+1)
	it.done = make(chan struct{})
	it.quit = make(chan struct{})
	it.free = make(chan []int64, w+1)
	var wg sync.WaitGroup
	for range w {
		wg.Go(it.sortJobs)
	}
	go func() {
		wg.Wait()
		close(it.done)
	}()
}

// bigBucket is the most numbers a bucket is sorted with in one slice. With
// a sort scratch per sorter and a buffer per job in flight, that is 3/10
// of the numbers' memory (3/16 of the budget) with one sorter, 1/2 with
// two. Bigger buckets are sorted through runs on disk, which is slower.
func (b *Buckets) bigBucket() int { return max(b.limit/10, minBlockKeys) }

// sortJobs is one sorter: it takes the next job while fewer than sorters+1
// are taken and unread, and sorts it into the job's channel.
func (it *BucketIter) sortJobs() {
	b := it.b
	var sorter Sorter
	defer sorter.Release()
	raw := make([]byte, 256<<10)
	for {
		select {
		case it.slots <- struct{}{}:
		case <-it.quit:
			return
		}
		j := int(it.next.Add(1) - 1)
		if j >= len(it.jobs) {
			return
		}
		out := it.res[j]
		send := func(sb sortedBucket) bool {
			select {
			case out <- sb:
				return sb.err == nil
			case <-it.quit:
				return false
			}
		}
		k := it.jobs[j]
		ok := true
		if b.bucketSize(k) > b.bigBucket() {
			ok = it.sortBig(k, raw, send)
		} else {
			var buf []int64
			select {
			case buf = <-it.free:
			default:
			}
			nums, err := b.gather(k, buf, raw)
			if err != nil {
				send(sortedBucket{err: err})
				return
			}
			b.release(k)
			ok = send(sortedBucket{nums: sorter.SortDedupe(nums)})
		}
		if !ok {
			return
		}
		close(out)
	}
}

// sortBig sorts an oversized bucket through a Runs of its own.
func (it *BucketIter) sortBig(k int, raw []byte, send func(sortedBucket) bool) bool {
	b := it.b
	r := NewRuns(b.dir, int64(b.bigBucket())*16)
	defer r.Close()
	if err := b.each(k, raw, r.AddSlice); err != nil {
		return send(sortedBucket{err: err})
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

// NextChunk returns the numbers that Next would return next, up to the end
// of the current bucket's sorted piece, all at once (never empty), or
// false at the end or at the first error. The slice is valid until the
// next call of Next or NextChunk.
func (it *BucketIter) NextChunk() ([]int64, bool) {
	if it.i >= len(it.cur) {
		if _, ok := it.nextBucket(); !ok {
			return nil, false
		}
		it.i = 0
	}
	c := it.cur[it.i:]
	it.i = len(it.cur)
	return c, true
}

func (it *BucketIter) nextBucket() (int64, bool) {
	for {
		if it.err != nil {
			return 0, false
		}
		if it.job == len(it.jobs) {
			it.ended = true
			return 0, false
		}
		var sb sortedBucket
		var ok bool
		select {
		case sb, ok = <-it.res[it.job]:
		case <-it.quit:
			return 0, false
		}
		if !ok { // the job's end: its slot goes to the next one
			it.job++
			<-it.slots
			continue
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

// stop ends the sorting goroutine; the iteration ends with ErrClosed if
// it had not ended already.
func (it *BucketIter) stop() {
	select {
	case <-it.quit:
	default:
		close(it.quit)
	}
	<-it.done
	if it.err == nil && !it.ended {
		it.err = fmt.Errorf("iterate: %w", ErrClosed)
	}
	it.cur, it.i = nil, 0
}
