package compiler

import (
	"context"
	"errors"
	"runtime"
	"sync"

	"github.com/calldir/calldir/e164"
)

// The line pipeline reads allowlists, and the first records of a CSV/TSV
// source (until they settle its columns; the block pipeline in blocks.go
// reads the rest, and text sources); tests compare the two. It runs on every
// core with ordered, deterministic output:
//
//	reader ──batches──▶ workers (normalize) ──▶ collector (in input order)
//
// The reader reads and splits lines and extracts the number and label
// fields (a CSV header decides the columns, so this part is sequential);
// workers normalize, the costly part, in parallel; the collector takes the
// batches back in order, so rejects, conflicts and stats come out exactly
// as a sequential run would give them.

// batchLines is the number of lines per batch: large enough to amortize the
// channel hand-offs, small enough to keep every core busy on small inputs.
const batchLines = 2048

// pline is one candidate line of a batch. The raw line and the number field
// are byte ranges of the batch's buffer.
type pline struct {
	line       int64
	raw0, raw1 int32       // raw line
	num0, num1 int32       // number field
	lbl0, lbl1 int32       // identify: the label
	pre        e164.Reason // a reject decided by the reader (line too long, bad CSV, …)
	rng        *Range      // a pattern or range line
	// set by the workers
	number int64
	why    e164.Reason
	ext    bool
}

type batch struct {
	seq   int
	buf   []byte
	lines []pline
}

// normalizeBatch fills in the workers' fields.
func normalizeBatch(n *e164.Normalizer, b *batch) {
	for i := range b.lines {
		l := &b.lines[i]
		if l.pre != e164.ReasonNone || l.rng != nil {
			l.why = l.pre
			continue
		}
		res, why := n.NormalizeBytes(b.buf[l.num0:l.num1])
		l.number, l.why, l.ext = res.Number, why, res.HadExtension
	}
}

// batchPool recycles batches and their buffers.
var batchPool = sync.Pool{New: func() any { return &batch{buf: make([]byte, 0, 64<<10), lines: make([]pline, 0, batchLines)} }}

func newBatch(seq int) *batch {
	b := batchPool.Get().(*batch)
	b.seq, b.buf, b.lines = seq, b.buf[:0], b.lines[:0]
	return b
}

// runPipeline feeds batches from produce (which runs in its own goroutine
// and returns the reader's error) through the workers to consume, in order.
// consume runs on the calling goroutine. When consume or produce fails, or
// ctx ends, the pipeline drains and returns the first error.
func runPipeline(ctx context.Context, n *e164.Normalizer, produce func(ctx context.Context, out chan<- *batch) error, consume func(*batch) error) error {
	prodErr, err := orderedPipeline(ctx, func(b *batch) int { return b.seq }, produce,
		func(_ int, b *batch) error { normalizeBatch(n, b); return nil },
		nil,
		func(b *batch) error {
			if err := consume(b); err != nil {
				return err
			}
			batchPool.Put(b)
			return nil
		})
	if err != nil {
		return err
	}
	if prodErr != nil {
		return prodErr
	}
	return ctx.Err()
}

// orderedPipeline is the shape of both readers: produce runs in its own
// goroutine and sends items numbered 0, 1, … (seq); work runs on every
// core (worker is its index, 0 to GOMAXPROCS-1), then done (if not nil)
// once per worker that did not fail; consume runs on the calling goroutine
// and sees the items in seq order. The first error of work, done or
// consume cancels the rest and the pipeline drains. It returns produce's
// error and the first other error that is not a cancellation.
func orderedPipeline[T any](ctx context.Context, seq func(T) int, produce func(ctx context.Context, out chan<- T) error,
	work func(worker int, item T) error, done func(worker int) error, consume func(T) error) (prodErr, err error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	workers := max(1, runtime.GOMAXPROCS(0))
	in := make(chan T, workers*2)
	out := make(chan T, workers*2)
	prodDone := make(chan struct{})
	go func() {
		defer close(prodDone)
		defer close(in)
		prodErr = produce(ctx, in)
	}()
	errs := make([]error, workers+1) // the workers', then consume's
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			fail := func(err error) { errs[w] = err; cancel() }
			for item := range in {
				if err := work(w, item); err != nil {
					fail(err)
					return
				}
				select {
				case out <- item:
				case <-ctx.Done():
					return
				}
			}
			if done != nil && ctx.Err() == nil {
				if err := done(w); err != nil {
					fail(err)
				}
			}
		})
	}
	go func() {
		wg.Wait()
		close(out)
	}()
	pending := map[int]T{}
	next := 0
	for item := range out {
		if errs[workers] != nil {
			continue // drain
		}
		pending[seq(item)] = item
		for {
			it, ok := pending[next]
			if !ok {
				break
			}
			delete(pending, next)
			next++
			if err := consume(it); err != nil {
				errs[workers] = err
				cancel()
				break
			}
		}
	}
	<-prodDone
	for _, e := range errs {
		if e != nil && !errors.Is(e, context.Canceled) {
			return prodErr, e
		}
	}
	return prodErr, nil
}
