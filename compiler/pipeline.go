package compiler

import (
	"context"
	"runtime"
	"sync"

	"github.com/calldir/calldir/e164"
)

// The per-source pipeline runs on every core with ordered, deterministic
// output:
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
	raw0, raw1 int32 // raw line
	num0, num1 int32 // number field
	label      string
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
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	workers := max(1, runtime.GOMAXPROCS(0))
	in := make(chan *batch, workers*2)
	out := make(chan *batch, workers*2)
	var prodErr error
	prodDone := make(chan struct{})
	go func() {
		defer close(prodDone)
		defer close(in)
		prodErr = produce(ctx, in)
	}()
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range in {
				normalizeBatch(n, b)
				select {
				case out <- b:
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	go func() {
		wg.Wait()
		close(out)
	}()
	pending := map[int]*batch{}
	next := 0
	var consErr error
	for b := range out {
		if consErr != nil {
			continue // drain
		}
		pending[b.seq] = b
		for {
			nb, ok := pending[next]
			if !ok {
				break
			}
			delete(pending, next)
			next++
			if err := consume(nb); err != nil {
				consErr = err
				cancel()
				break
			}
			batchPool.Put(nb)
		}
	}
	<-prodDone
	if consErr != nil {
		return consErr
	}
	if prodErr != nil {
		return prodErr
	}
	return ctx.Err()
}
