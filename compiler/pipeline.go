package compiler

import (
	"context"
	"errors"
	"runtime"
	"sync"
)

// stages are the parts of an ordered pipeline: produce runs in its own
// goroutine and sends items numbered 0, 1, … (seq); work runs on every
// core (worker is its index, 0 to GOMAXPROCS-1), then done (if not nil)
// once per worker that did not fail; consume runs on the calling goroutine
// and sees the items in seq order.
type stages[T any] struct {
	seq     func(T) int
	produce func(ctx context.Context, out chan<- T) error
	work    func(worker int, item T) error
	done    func(worker int) error
	consume func(T) error
}

// orderedPipeline runs s (the block pipeline's shape, blocks.go). The
// first error of work, done or consume cancels the rest and the pipeline
// drains. It returns produce's error and the first other error that is
// not a cancellation.
func orderedPipeline[T any](ctx context.Context, s stages[T]) (prodErr, err error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	workers := max(1, runtime.GOMAXPROCS(0))
	in := make(chan T, workers*2)
	out := make(chan T, workers*2)
	prodDone := make(chan struct{})
	go func() {
		defer close(prodDone)
		defer close(in)
		prodErr = s.produce(ctx, in)
	}()
	errs := make([]error, workers+1) // the workers', then consume's
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			fail := func(err error) { errs[w] = err; cancel() }
			for item := range in {
				if err := s.work(w, item); err != nil {
					fail(err)
					return
				}
				select {
				case out <- item:
				case <-ctx.Done():
					return
				}
			}
			if s.done != nil && ctx.Err() == nil {
				if err := s.done(w); err != nil {
					fail(err)
				}
			}
		})
	}
	go func() {
		wg.Wait()
		close(out)
	}()
	errs[workers] = consumeInOrder(out, s.seq, s.consume, cancel)
	<-prodDone
	for _, e := range errs {
		if e != nil && !errors.Is(e, context.Canceled) {
			return prodErr, e
		}
	}
	return prodErr, nil
}

// consumeInOrder hands the items of out to consume in seq order, until
// consume fails; then it cancels the pipeline and drains out.
func consumeInOrder[T any](out <-chan T, seq func(T) int, consume func(T) error, cancel func()) error {
	pending := map[int]T{}
	next := 0
	var err error
	for item := range out {
		if err != nil {
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
			if err = consume(it); err != nil {
				cancel()
				break
			}
		}
	}
	return err
}
