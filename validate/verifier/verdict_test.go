package verifier

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
)

// duplicatePlan reads fixtures/plans/duplicate.plan: its second load ends
// in CallKit error 4 and leaves the loaded extension with zero rows.
func duplicatePlan(t *testing.T, fault string) *Plan {
	t.Helper()
	b, err := os.ReadFile("../../fixtures/plans/duplicate.plan")
	if err != nil {
		t.Fatal(err)
	}
	return mustPlan(t, string(b)+fault+"\n")
}

// A fault never hides the plan's own finding: duplicate.plan with a power
// loss at every write point of its fault-free run (both modes), a kill
// before every statement, a full disk from every write point, and each
// fault never reached, always ends in the zero-rows finding.
func TestFaultNeverHidesFinding(t *testing.T) {
	ctx := context.Background()
	count, err := runCrashed(ctx, duplicatePlan(t, ""), t.TempDir()+"/CallDirectory.db", crashCount)
	if err != nil {
		t.Fatal(err)
	}
	writes := count.res.Writes
	g, err := goldenRun(ctx, duplicatePlan(t, ""))
	if err != nil {
		t.Fatal(err)
	}
	every := int64(1)
	if !long {
		every = 3
	}
	var faults []string
	for k := int64(0); k < writes; k += every {
		faults = append(faults, fmt.Sprintf("fault power-loss at=%d mode=drop", k), fmt.Sprintf("fault power-loss at=%d mode=tear", k), fmt.Sprintf("fault disk-full at=%d", k))
	}
	for k := int64(0); k <= g.total; k += every {
		faults = append(faults, fmt.Sprintf("fault kill at=%d", k))
	}
	faults = append(faults, "fault power-loss at=100000", "fault disk-full at=100000", "fault kill at=100000")
	for _, f := range faults {
		rep, err := Replay(ctx, duplicatePlan(t, f), Options{})
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if rep.Outcome.Class != ClassZeroRows || rep.FaultFree == nil || rep.FaultFree.Class != ClassZeroRows {
			t.Errorf("%s: outcome %s (%s), fault-free %v; want the zero-rows finding", f, rep.Outcome, rep.Outcome.Detail, rep.FaultFree)
		}
		if strings.Contains(f, "100000") && !strings.Contains(fmt.Sprint(rep.Fault, rep.Outcome.Detail, rep.Steps), "not reached") && rep.Kill == nil {
			t.Errorf("%s: the report does not say the fault was not reached", f)
		}
	}
	t.Logf("%d faults, %d write points, %d statements", len(faults), writes, g.total)
}

// A power loss that rolls back the last commit gets one class under
// DELETE+FULL and WAL+NORMAL (both allow it): rolled back, not a finding.
// Under synchronous=extra nothing may roll back: the same database judged
// under extra is a finding.
func TestRollbackSameClassAcrossSettings(t *testing.T) {
	ctx := context.Background()
	for _, settings := range []string{"", "journal_mode=wal synchronous=normal"} {
		found := false
		for _, q := range sweepPlans(t, settings) {
			path := t.TempDir() + "/CallDirectory.db"
			g := mustGolden(t, q, path)
			rep, cr, err := powerCase(ctx, q, g, path)
			if err != nil {
				t.Fatal(err)
			}
			last := rep.Steps[len(rep.Steps)-1]
			if !strings.HasPrefix(last.Step, "reopen after the power loss: rolled back") {
				continue
			}
			found = true
			if rep.Outcome.Class != ClassRolledBack || rep.Outcome.Finding() {
				t.Fatalf("%q: %s: outcome %s, want rolled back (not a finding)", settings, q.Power, rep.Outcome)
			}
			// The same file judged as if synchronous=extra had been set.
			extra := clonePlan(q)
			extra.Settings.Synchronous = "extra"
			_, out, _ := checkRecovered(ctx, extra, path, powerAllowed(g, cr.stmt, extra.Settings))
			if !out.Finding() {
				t.Fatalf("%q: %s: under synchronous=extra the rollback is %s, want a finding", settings, q.Power, out)
			}
			break
		}
		if !found {
			t.Errorf("%q: no power loss rolled back a commit", settings)
		}
	}
}

// sweepPlans is powerPlan under settings with a power loss at every write
// point, tear and drop alternating.
func sweepPlans(t *testing.T, settings string) []*Plan {
	t.Helper()
	p := mustPlan(t, fmt.Sprintf(powerPlan, settings))
	count, err := runCrashed(context.Background(), p, t.TempDir()+"/CallDirectory.db", crashCount)
	if err != nil {
		t.Fatal(err)
	}
	var out []*Plan
	for k := int64(0); k < count.res.Writes; k++ {
		q := clonePlan(p)
		q.Power = &PowerFault{Kind: "power-loss", At: k, Mode: []string{"drop", "tear"}[k%2], Seed: uint64(k) + 1}
		out = append(out, q)
	}
	return out
}

func mustGolden(t *testing.T, p *Plan, path string) *golden {
	t.Helper()
	g, err := goldenRun(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	if err := g.traceWrites(context.Background(), p, path); err != nil {
		t.Fatal(err)
	}
	return g
}

// A busy, reader or writer step arms the model for the next step: the
// environmental failures it may cause are among the alternatives, so a
// load that meets the lock is judged by its consequences, not reported as
// the model disagreeing (explore found this with overlapping-extensions).
func TestArmedStepWidensTheModel(t *testing.T) {
	for _, arm := range []string{"busy hold=400ms", "reader hold=400ms"} {
		p := mustPlan(t, "calldir-plan 1\nset busy_timeout=100ms\nextension a com.example.a\nextension b com.example.b\n"+arm+"\nload b complete\n  block range 14155000000 14155000009\nend\nload a complete\n  block range 14155000100 14155000109\nend\n")
		rep := mustReplay(t, p)
		for _, s := range rep.Steps {
			if s.Outcome.Class == ClassModel {
				t.Errorf("%s: step %d: %s", arm, s.Index+1, s.Outcome.Detail)
			}
		}
	}
}

// A case that could not run outranks every finding: no worst-of may turn
// it into a lesser outcome, let alone ok.
func TestErrorIsWorst(t *testing.T) {
	e := Outcome{Class: ClassError, Detail: "no scratch"}
	for c := range classRank {
		if got := worse(Outcome{Class: c}, e); got.Class != ClassError {
			t.Errorf("worse(%s, error) = %s", c, got.Class)
		}
		if got := worse(e, Outcome{Class: c}); got.Class != ClassError {
			t.Errorf("worse(error, %s) = %s", c, got.Class)
		}
	}
}
