package verifier

import (
	"context"
	"strings"
	"testing"

	"github.com/calldir/calldir/validate/verifier/model"
)

// mutations break one CallKit rule each in the driver (the daemon under
// test); replaying the plan that exercises the rule must then report a
// finding of the model itself, not only fail a unit test. Without the
// mutation the same plan must show no such finding.
var mutations = []struct {
	mutation, plan string
}{
	{"cap", "cap.plan"},                                     // >= becomes >: 2,000,000 entries (the cap) pass
	{"order", "out-of-order.plan"},                          // a smaller number is accepted
	{"duplicate", "duplicate.plan"},                         // an equal number is accepted (then UNIQUE fails)
	{"failure-delete", "incremental-after-load-fails.plan"}, // the failure path keeps the rows
	{"failure-state", "out-of-order.plan"},                  // the failure path sets 4 for 1 and 1 for 4
	{"failure-state", "duplicate.plan"},
	{"initial-deletion", "churn.plan"}, // a complete load keeps the old rows
	{"disabled", "disabled.plan"},      // a state-2 extension loads
	{"unavailable", "unavailable.plan"},
}

// modelFinding is the first step the model found fault with.
func modelFinding(rep *Report) (StepReport, bool) {
	for _, s := range rep.Steps {
		if s.Outcome.Class == ClassModel {
			return s, true
		}
	}
	return StepReport{}, false
}

// capPlan is cap.plan; without -tags long the cap is lowered to 20,000
// for the test (entryCap is shared by the driver and the model) and the
// plan's range cut to exactly that many entries, so that the ≥ in the
// rule decides, as 2,000,000 entries do at full size.
func capPlan(t *testing.T) *Plan {
	p := planFile(t, "cap.plan")
	if long {
		return p
	}
	old, oldModel := entryCap, model.Cap
	entryCap, model.Cap = 20_000, 20_000
	t.Cleanup(func() { entryCap, model.Cap = old, oldModel })
	src := &p.Steps[0].Ops[0].Source
	src.Last = src.First + entryCap - 1
	return p
}

func TestMutationsCaughtByReplay(t *testing.T) {
	for _, tc := range mutations {
		t.Run(tc.mutation+"/"+tc.plan, func(t *testing.T) {
			var p *Plan
			if tc.plan == "cap.plan" {
				p = capPlan(t)
			} else {
				p = planFile(t, tc.plan)
			}
			clean, err := Replay(context.Background(), p, Options{Dir: t.TempDir()})
			if err != nil {
				t.Fatal(err)
			}
			if s, found := modelFinding(clean); found {
				t.Fatalf("without the mutation, step %d: %s", s.Index+1, s.Outcome.Detail)
			}
			mutation = tc.mutation
			defer func() { mutation = "" }()
			rep, err := Replay(context.Background(), p, Options{Dir: t.TempDir()})
			if err != nil {
				t.Fatal(err)
			}
			s, found := modelFinding(rep)
			if !found || rep.Outcome.Class != ClassModel {
				t.Fatalf("mutation %s not caught: outcome %s (%s)", tc.mutation, rep.Outcome, rep.Outcome.Detail)
			}
			if !strings.Contains(s.Outcome.Detail, "model disagrees") {
				t.Errorf("finding worded %q", s.Outcome.Detail)
			}
			t.Logf("step %d: %s", s.Index+1, s.Outcome.Detail)
		})
	}
}
