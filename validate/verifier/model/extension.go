package model

import (
	"context"
	"fmt"

	"github.com/calldir/calldir/validate/verifier/plan"
)

// The extension side of one request, from CALLKIT.md §1.2: entries are
// buffered per kind and sent as one batch when a buffer holds FlushSize
// entries (10,000 on a device), when the request switches between adding
// and removing, on removeAll*, and at completeRequest.

// batch is one message from the extension to the daemon.
type batch struct {
	kind    plan.OpKind
	entries []entry
}

// adds reports whether a kind adds entries (rather than removing).
func adds(k plan.OpKind) bool { return k == plan.OpBlock || k == plan.OpIdentify }

// removesAll reports whether a kind is a removeAll* call.
func removesAll(k plan.OpKind) bool {
	return k == plan.OpRemoveAll || k == plan.OpRemoveAllBlock || k == plan.OpRemoveAllIdentify
}

// sendOrder is the order the buffers go out in when several hold entries.
// The decompiled context only says each is flushed ([Inf]): adds before
// removals, blocking before identification.
var sendOrder = [...]plan.OpKind{plan.OpBlock, plan.OpIdentify, plan.OpRemoveBlock, plan.OpRemoveIdentify}

// dropsLabel is the label table's refusal (CALLKIT.md §1.2 [Inf]): an
// empty label, or one whose UTF-8 length + 1 needs more than 16 bits. The
// context ignores it, so the entry is never sent.
func dropsLabel(l string) bool { return l == "" || len(l) >= 0xFFFF }

// dies is the extension ending before completeRequest (CallKit error 2).
type dies struct{ why string }

func (d *dies) Error() string { return d.why }

// client plays one request's extension.
type client struct {
	flush       int
	incremental bool
	failAfter   int // batches sent before the extension dies; -1: never
	sent        int
	dropped     int64
	buf         map[plan.OpKind][]entry
	send        func(batch) error
}

// run sends the request's ops and stops at the first error of send, or
// when the extension dies.
func (c *client) run(ctx context.Context, ops []plan.Op) error {
	for _, op := range ops {
		if !adds(op.Kind) && !c.incremental {
			return &dies{fmt.Sprintf("%s while isIncremental is NO: the context raises and the extension dies [inferred]", op.Kind)}
		}
		if removesAll(op.Kind) {
			if err := c.sendAll(); err != nil {
				return err
			}
			if err := c.out(batch{kind: op.Kind}); err != nil {
				return err
			}
			continue
		}
		err := entries(op, func(en entry) error {
			if op.Kind == plan.OpIdentify && dropsLabel(en.label) {
				c.dropped++
				return nil
			}
			for _, k := range sendOrder { // a switch of direction sends the other side
				if adds(k) != adds(op.Kind) && len(c.buf[k]) > 0 {
					if err := c.sendKind(k); err != nil {
						return err
					}
				}
			}
			c.buf[op.Kind] = append(c.buf[op.Kind], en)
			if len(c.buf[op.Kind]) == c.flush {
				if err := c.sendKind(op.Kind); err != nil {
					return err
				}
			}
			return ctx.Err()
		})
		if err != nil {
			return err
		}
	}
	return c.sendAll() // completeRequest
}

func (c *client) sendAll() error {
	for _, k := range sendOrder {
		if len(c.buf[k]) > 0 {
			if err := c.sendKind(k); err != nil {
				return err
			}
		}
	}
	return nil
}

func (c *client) sendKind(k plan.OpKind) error {
	b := batch{kind: k, entries: c.buf[k]}
	c.buf[k] = nil
	return c.out(b)
}

func (c *client) out(b batch) error {
	if c.failAfter >= 0 && c.sent == c.failAfter {
		return &dies{fmt.Sprintf("the extension dies after %d batch(es) (the plan's fail-after)", c.failAfter)}
	}
	c.sent++
	return c.send(b)
}
