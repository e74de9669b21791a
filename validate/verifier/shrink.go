package verifier

import (
	"context"
	"path/filepath"
	"time"

	"github.com/calldir/calldir/shard/outfs"
)

// Shrink minimizes a plan that fails (fails(p) is true) by delta debugging:
// it removes chunks of steps, then ops within loads, halves the ranges of
// the remaining ops, and moves a kill point earlier, keeping each change
// only when the smaller plan still fails the same way. It stops when
// nothing more can be removed or the budget is spent, and returns the
// smallest failing plan found (p itself if none).
//
// A kill point is kept at the same statement within the same step: when
// steps before it shrink, its index is recomputed from a replay without
// the kill, so the writer still dies at the same place in the same
// transaction.
func Shrink(ctx context.Context, p *Plan, fails func(*Plan) bool, budget time.Duration) *Plan {
	deadline := time.Now().Add(budget)
	alive := func() bool { return ctx.Err() == nil && time.Now().Before(deadline) }
	s := &shrinker{ctx: ctx, fails: fails, alive: alive, best: clonePlan(p), killStep: -1}
	if p.Kill != nil {
		prefix, ok := s.prefixes(p)
		if !ok {
			return p
		}
		for i := range p.Steps {
			if p.Kill.At < prefix[i+1] {
				s.killStep, s.offset = i, p.Kill.At-prefix[i]
				break
			}
		}
		if s.killStep >= 0 { // steps after the kill never run
			q := clonePlan(s.best)
			q.Steps = q.Steps[:s.killStep+1]
			s.try(q, s.killStep, s.offset)
		}
	}
	for progress := true; progress && alive(); {
		progress = false
		// 1. Steps: chunk removal, from halves down to single steps.
		for n := len(s.best.Steps) / 2; n >= 1 && alive(); n /= 2 {
			for i := 0; i+n <= len(s.best.Steps) && len(s.best.Steps) > 1 && alive(); {
				ks := s.killStep
				if ks >= i && ks < i+n {
					i += n
					continue
				}
				if ks >= i+n {
					ks -= n
				}
				q := clonePlan(s.best)
				q.Steps = append(q.Steps[:i], q.Steps[i+n:]...)
				if s.try(q, ks, s.offset) {
					progress = true
					continue
				}
				i += n
			}
		}
		// 2. Ops within loads, then 3. halves of ranges.
		for si := 0; si < len(s.best.Steps) && alive(); si++ {
			progress = s.shrinkOps(si) || progress
		}
		// 4. An earlier kill point within its step.
		if s.killStep >= 0 && s.offset > 0 {
			for _, off := range []int64{0, s.offset / 4, s.offset / 2, s.offset * 3 / 4, s.offset - 1} {
				if off >= s.offset || !alive() {
					continue
				}
				if s.try(clonePlan(s.best), s.killStep, off) {
					progress = true
					break
				}
			}
		}
	}
	return s.best
}

type shrinker struct {
	ctx      context.Context
	fails    func(*Plan) bool
	alive    func() bool
	best     *Plan
	killStep int   // index of the step the kill lands in, -1 without a kill
	offset   int64 // statements into that step
}

// try keeps q when it still fails; a kill is re-anchored first.
func (s *shrinker) try(q *Plan, killStep int, offset int64) bool {
	if !s.alive() {
		return false
	}
	if q.Kill != nil {
		prefix, ok := s.prefixes(q)
		if !ok || killStep >= len(q.Steps) {
			return false
		}
		q.Kill.At = prefix[killStep] + offset
	}
	if !s.fails(q) {
		return false
	}
	s.best, s.killStep, s.offset = q, killStep, offset
	return true
}

// prefixes replays q without its kill and returns, for each step, the
// number of statements issued before it (and the total at the end).
func (s *shrinker) prefixes(q *Plan) ([]int64, bool) {
	r := clonePlan(q)
	r.Kill = nil
	dir, remove, err := outfs.ScratchDir("calldir-shrink-")
	if err != nil {
		return nil, false
	}
	defer remove()
	rep, err := replayInProcess(s.ctx, r, filepath.Join(dir, "CallDirectory.db"), Options{}, nil)
	if err != nil {
		return nil, false
	}
	prefix := make([]int64, len(r.Steps)+1)
	for i, st := range rep.Steps {
		prefix[i+1] = prefix[i] + st.Statements
	}
	return prefix, true
}

func clonePlan(p *Plan) *Plan {
	q := *p
	q.Extensions = append([]ExtDef(nil), p.Extensions...)
	if p.Kill != nil {
		k := *p.Kill
		q.Kill = &k
	}
	q.Steps = make([]Step, len(p.Steps))
	for i, st := range p.Steps {
		st.Ops = append([]Op(nil), st.Ops...)
		for j := range st.Ops {
			st.Ops[j].Source.Numbers = append([]int64(nil), st.Ops[j].Source.Numbers...)
		}
		q.Steps[i] = st
	}
	return &q
}

// shrinkOps removes ops of step si, then halves the ranges of the ops
// left, keeping each change that still fails.
func (s *shrinker) shrinkOps(si int) bool {
	progress := false
	for oi := 0; oi < len(s.best.Steps[si].Ops) && len(s.best.Steps[si].Ops) > 1 && s.alive(); {
		q := clonePlan(s.best)
		q.Steps[si].Ops = append(q.Steps[si].Ops[:oi], q.Steps[si].Ops[oi+1:]...)
		if s.try(q, s.killStep, s.offset) {
			progress = true
			continue
		}
		oi++
	}
	for oi := range s.best.Steps[si].Ops {
		for s.alive() {
			src := s.best.Steps[si].Ops[oi].Source
			if src.Step == 0 || src.Count() < 2 {
				break
			}
			mid := src.First + (src.Count()/2-1)*src.Step
			lo, hi := clonePlan(s.best), clonePlan(s.best)
			lo.Steps[si].Ops[oi].Source.Last = mid
			hi.Steps[si].Ops[oi].Source.First = mid + src.Step
			if s.try(lo, s.killStep, s.offset) || s.try(hi, s.killStep, s.offset) {
				progress = true
				continue
			}
			break
		}
	}
	return progress
}
