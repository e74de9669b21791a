package verifier

import (
	"context"
	"fmt"

	"github.com/calldir/calldir/validate/verifier/plan"
)

// entry is one number (and label) of a batch.
type entry struct {
	num   int64
	label string
}

// batch is one flush of the extension's buffer to the daemon (one XPC
// message): entries of one kind, or a removeAll (no entries).
type batch struct {
	kind    OpKind
	entries []entry
}

func isRemoval(k OpKind) bool {
	return k == OpRemoveBlock || k == OpRemoveIdentify || k == OpRemoveAll || k == OpRemoveAllBlock || k == OpRemoveAllIdentify
}

// labelDropped is true for a label CallKit's label table refuses: empty,
// or 65,535 UTF-8 bytes and more (its length + 1 needs more than 16 bits).
// The context ignores the refusal, so the entry never reaches the daemon
// (CALLKIT.md §1.2 [Inf]).
func labelDropped(l string) bool {
	return !mutant("drop-labels-off") && (len(l) == 0 || len(l)+1 > 0xFFFF)
}

// bufferOrder is the order in which the extension's buffers are flushed
// when several hold entries (a switch between adding and removing, a
// removeAll, completeRequest). Which buffer goes first is [Inf]: the
// decompiled context only says each flushes.
var bufferOrder = []OpKind{OpBlock, OpIdentify, OpRemoveBlock, OpRemoveIdentify}

// extension plays the extension side of one request (CALLKIT.md §1.2): it
// buffers entries per kind and sends a batch when a buffer holds FlushSize
// entries, when the request switches between adding and removing, on
// removeAll*, and at completeRequest. It calls remove* only when the
// daemon confirmed the request incremental (otherwise the context raises
// and the extension dies), and dies before its batch failAfter+1 when the
// plan says so. The driver (the daemon under test) and the reference model
// both consume the batches it sends.
type extension struct {
	flush       int
	incremental bool
	failAfter   int      // -1: never
	sent        int      // batches sent so far
	log         []string // "kind:entries" of each batch sent
	dropped     int64
	bufs        map[OpKind][]entry
}

func newExtension(set Settings, incremental bool, failAfter int) *extension {
	return &extension{flush: set.FlushSize, incremental: incremental, failAfter: failAfter, bufs: map[OpKind][]entry{}}
}

// run sends the request's ops as batches to fn and stops at fn's first
// error, which it returns.
func (x *extension) run(ctx context.Context, ops []Op, fn func(batch) error) error {
	for _, op := range ops {
		if isRemoval(op.Kind) && !x.incremental && !mutant("remove-in-complete") {
			// The context raises for remove* when isIncremental is false;
			// the extension dies (CALLKIT.md §1.2 [Inf]).
			return &CallKitError{ErrLoadingInterrupted, fmt.Sprintf("%s in a complete load: the extension raises and dies [inferred]", op.Kind)}
		}
		if op.Kind == OpRemoveAll || op.Kind == OpRemoveAllBlock || op.Kind == OpRemoveAllIdentify {
			if err := x.flushAll(fn); err != nil {
				return err
			}
			if err := x.send(batch{kind: op.Kind}, fn); err != nil {
				return err
			}
			continue
		}
		err := eachEntry(op, func(en entry) error {
			if op.Kind == OpIdentify && labelDropped(en.label) {
				x.dropped++
				return nil
			}
			if err := x.switchTo(op.Kind, fn); err != nil {
				return err
			}
			x.bufs[op.Kind] = append(x.bufs[op.Kind], en)
			if len(x.bufs[op.Kind]) >= x.flush && !mutant("flush-boundary") || len(x.bufs[op.Kind]) > x.flush {
				if err := x.flushKind(op.Kind, fn); err != nil {
					return err
				}
			}
			return ctx.Err()
		})
		if err != nil {
			return err
		}
	}
	return x.flushAll(fn) // completeRequest
}

// switchTo flushes the buffers of the other direction (adding or
// removing) before an entry of kind k is buffered.
func (x *extension) switchTo(k OpKind, fn func(batch) error) error {
	for _, o := range bufferOrder {
		if isRemoval(o) != isRemoval(k) && len(x.bufs[o]) > 0 {
			if err := x.flushKind(o, fn); err != nil {
				return err
			}
		}
	}
	return nil
}

func (x *extension) flushAll(fn func(batch) error) error {
	order := bufferOrder
	if mutant("buffer-order") { // identification before blocking
		order = []OpKind{OpIdentify, OpBlock, OpRemoveBlock, OpRemoveIdentify}
	}
	for _, o := range order {
		if len(x.bufs[o]) > 0 {
			if err := x.flushKind(o, fn); err != nil {
				return err
			}
		}
	}
	return nil
}

func (x *extension) flushKind(k OpKind, fn func(batch) error) error {
	err := x.send(batch{kind: k, entries: x.bufs[k]}, fn)
	x.bufs[k] = x.bufs[k][:0]
	return err
}

func (x *extension) send(b batch, fn func(batch) error) error {
	if x.failAfter >= 0 && x.sent >= x.failAfter+b2i(mutant("fail-after-late")) {
		return &CallKitError{ErrLoadingInterrupted, fmt.Sprintf("extension died after %d flushes (plan fail-after)", x.failAfter)}
	}
	x.sent++
	x.log = append(x.log, fmt.Sprintf("%s:%d", b.kind, len(b.entries)))
	return fn(b)
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// eachEntry yields an op's entries in source order (plan.EachEntry).
func eachEntry(op Op, fn func(entry) error) error {
	return plan.EachEntry(op, func(n int64, label string) error { return fn(entry{num: n, label: label}) })
}

// SourceError is a shard named by a plan that cannot be read.
type SourceError = plan.SourceError
