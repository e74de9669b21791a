package verifier

import (
	"context"
	"time"
)

// Shrink minimizes a plan that fails (fails(p) is true) by delta debugging:
// it removes chunks of steps, then ops within loads, halves the ranges of
// the remaining ops, and moves a kill point earlier, keeping each change
// only when the smaller plan still fails the same way. It stops when
// nothing more can be removed or the budget is spent, and returns the
// smallest failing plan found (p itself if none).
func Shrink(ctx context.Context, p *Plan, fails func(*Plan) bool, budget time.Duration) *Plan {
	deadline := time.Now().Add(budget)
	alive := func() bool { return ctx.Err() == nil && time.Now().Before(deadline) }
	best := clonePlan(p)
	try := func(q *Plan) bool {
		if !alive() {
			return false
		}
		if fails(q) {
			best = q
			return true
		}
		return false
	}
	for progress := true; progress && alive(); {
		progress = false
		// 1. Steps: ddmin-style chunk removal, from halves down to singles.
		for n := len(best.Steps) / 2; n >= 1 && alive(); n /= 2 {
			for i := 0; i+n <= len(best.Steps) && len(best.Steps) > 1; {
				q := clonePlan(best)
				q.Steps = append(q.Steps[:i], q.Steps[i+n:]...)
				if try(q) {
					progress = true
					continue
				}
				i += n
			}
		}
		// 2. Ops within loads, then 3. halves of ranges.
		for si := 0; si < len(best.Steps) && alive(); si++ {
			for oi := 0; oi < len(best.Steps[si].Ops) && len(best.Steps[si].Ops) > 1; {
				q := clonePlan(best)
				q.Steps[si].Ops = append(q.Steps[si].Ops[:oi], q.Steps[si].Ops[oi+1:]...)
				if try(q) {
					progress = true
					continue
				}
				oi++
			}
			for oi := range best.Steps[si].Ops {
				for alive() {
					src := best.Steps[si].Ops[oi].Source
					if src.Step == 0 || src.Count() < 2 {
						break
					}
					mid := src.First + (src.Count()/2-1)*src.Step
					lo, hi := clonePlan(best), clonePlan(best)
					lo.Steps[si].Ops[oi].Source.Last = mid
					hi.Steps[si].Ops[oi].Source.First = mid + src.Step
					if try(lo) || try(hi) {
						progress = true
						continue
					}
					break
				}
			}
		}
		// 4. An earlier kill point.
		if k := best.Kill; k != nil && k.At > 0 {
			for _, at := range []int64{0, k.At / 4, k.At / 2, k.At * 3 / 4, k.At - 1} {
				if at >= k.At || !alive() {
					continue
				}
				q := clonePlan(best)
				q.Kill.At = at
				if try(q) {
					progress = true
					break
				}
			}
		}
	}
	return best
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
