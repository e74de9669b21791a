//go:build mutants

package verifier

import (
	"context"
	"testing"

	"github.com/calldir/calldir/validate/verifier/model"
)

// findingSteps are the steps of a report with a finding the plan's rules
// do not explain: the model disagreeing, rows or states lost, a damaged
// file.
func findingSteps(rep *Report) map[int]string {
	out := map[int]string{}
	for _, s := range rep.Steps {
		switch s.Outcome.Class {
		case ClassModel, ClassRowsLost, ClassState, ClassIntegrity:
			out[s.Index] = s.Outcome.Class + ": " + s.Outcome.Detail
		}
	}
	return out
}

// TestMutants is the mutation harness (go test -tags mutants): every
// mutation of the list, one build, selected at run time, must make replay
// itself report a finding on its plan that the clean driver does not.
func TestMutants(t *testing.T) {
	escaped := 0
	for _, tc := range mutations {
		t.Run(tc.mutation, func(t *testing.T) {
			p := planFile(t, tc.plan)
			if tc.plan == "cap.plan" {
				p = capPlan(t)
			}
			SetMutant("")
			clean, err := Replay(context.Background(), p, Options{Dir: t.TempDir()})
			if err != nil {
				t.Fatal(err)
			}
			if f := findingSteps(clean); len(f) > 0 {
				t.Fatalf("without the mutation: %v", f)
			}
			SetMutant(tc.mutation)
			defer SetMutant("")
			rep, err := Replay(context.Background(), p, Options{Dir: t.TempDir()})
			if err != nil {
				t.Fatal(err)
			}
			f := findingSteps(rep)
			if len(f) == 0 || !rep.Outcome.Finding() {
				escaped++
				t.Fatalf("mutation %s escaped: outcome %s (%s)", tc.mutation, rep.Outcome, rep.Outcome.Detail)
			}
			for i, d := range f {
				t.Logf("step %d: %s", i+1, d)
				break
			}
		})
	}
	if escaped > 0 {
		t.Errorf("%d of %d mutations escaped", escaped, len(mutations))
	}
}

// capPlan is cap.plan; without -tags long the cap is lowered to 20,000
// for the test (in the driver and, separately, in the model) and the
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
