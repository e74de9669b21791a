package verifier

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

// stepOutcomes lists each step's outcome as "class/code".
func stepOutcomes(rep *Report) []string {
	var out []string
	for _, s := range rep.Steps {
		out = append(out, s.Outcome.Key())
	}
	return out
}

func wantOutcomes(t *testing.T, rep *Report, want ...string) {
	t.Helper()
	got := stepOutcomes(rep)
	if strings.Join(got, " ") != strings.Join(want, " ") {
		for _, s := range rep.Steps {
			t.Logf("step %d %s: %s: %s", s.Index+1, s.Step, s.Outcome, s.Outcome.Detail)
		}
		t.Fatalf("outcomes %v, want %v", got, want)
	}
}

// An 11-entry batch whose last number goes back fails CallKit's order
// check before any statement of it is written: the extension sends the
// two block ops as one batch (it flushes at 10,000 entries, not per op),
// and the daemon checks the whole batch first. The load issues only the
// state read, state 3, the failure path's two DELETEs and state 1.
func TestOutOfOrderBatchFailsBeforeAnyWrite(t *testing.T) {
	p := mustPlan(t, `calldir-plan 1
extension a com.example.a
load a complete
  block range 14155550000 14155550009
  block numbers 14155550005
end
`)
	rep := mustReplay(t, p)
	wantOutcomes(t, rep, "callkit-error/3")
	s := rep.Steps[0]
	if s.Statements != 5 || s.Metrics.Rows != 0 || s.Metrics.PhoneNumbers != 0 {
		t.Fatalf("%d statements, %d rows, %d PhoneNumber rows; want 5, 0, 0", s.Statements, s.Metrics.Rows, s.Metrics.PhoneNumbers)
	}
}

// The extension's flush points (CALLKIT.md §1.2): a buffer per kind, sent
// at FlushSize entries, when the request switches between adding and
// removing, on removeAll*, and at completeRequest.
func TestExtensionFlushPoints(t *testing.T) {
	ops := []Op{
		{Kind: OpBlock, Source: Source{First: 1, Last: 4, Step: 1}},
		{Kind: OpIdentify, Label: "x", Source: Source{Numbers: []int64{1, 2}}},
		{Kind: OpBlock, Source: Source{Numbers: []int64{5}}},       // same buffer as the first op
		{Kind: OpRemoveBlock, Source: Source{Numbers: []int64{9}}}, // switch: both add buffers go
		{Kind: OpBlock, Source: Source{Numbers: []int64{6}}},       // switch back
		{Kind: OpRemoveAllIdentify},
		{Kind: OpIdentify, Label: "", Source: Source{Numbers: []int64{3}}}, // dropped
	}
	set := DefaultSettings()
	set.FlushSize = 3
	x := newExtension(set, true, -1)
	var got []string
	err := x.run(context.Background(), ops, func(b batch) error {
		got = append(got, fmt.Sprintf("%s:%d", b.kind, len(b.entries)))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := "block:3 block:2 identify:2 remove-block:1 block:1 remove-all-identify:0"
	if strings.Join(got, " ") != want || x.dropped != 1 {
		t.Fatalf("batches %v (%d dropped), want %s (1 dropped)", got, x.dropped, want)
	}
	x = newExtension(set, false, -1)
	if err := x.run(context.Background(), ops[2:4], func(batch) error { return nil }); err == nil || !strings.Contains(err.Error(), "CallKit error 2") {
		t.Fatalf("a removal in a complete load: %v", err)
	}
}

// Paths the plan reaches: error 6 for a switched-off extension, error
// 102 for state 5 and its purge, labels CallKit drops, removeAllBlocking
// and removeAllIdentification apart.
func TestMissingPaths(t *testing.T) {
	rep := mustReplay(t, planFile(t, "disabled.plan"))
	wantOutcomes(t, rep, "ok/0", "ok/0", "callkit-error/6", "ok/0")
	rep = mustReplay(t, planFile(t, "unavailable.plan"))
	wantOutcomes(t, rep, "ok/0", "ok/0", "ok/0", "callkit-error/102", "ok/0", "callkit-error/1")
	if !strings.Contains(rep.Steps[2].Step, "[inferred") || rep.Steps[5].Metrics.Rows != 100 {
		t.Errorf("step 3 %q; rows after the purge %d, want b's 100", rep.Steps[2].Step, rep.Steps[5].Metrics.Rows)
	}
	rep = mustReplay(t, planFile(t, "dropped-labels.plan"))
	wantOutcomes(t, rep, "ok/0", "ok/0", "ok/0")
	var rows []int64
	for _, s := range rep.Steps {
		rows = append(rows, s.Metrics.Rows)
	}
	if fmt.Sprint(rows) != "[11 1 1]" || !strings.Contains(rep.Steps[0].Outcome.Detail, "2 identification entries dropped") {
		t.Errorf("rows %v, want [11 1 1]; step 1: %s", rows, rep.Steps[0].Outcome.Detail)
	}
	long := strings.Repeat("é", 32768) // 65,536 bytes
	p := mustPlan(t, "calldir-plan 1\nextension a x\nload a complete\n  identify numbers 5 label=\""+long+"\"\n  identify numbers 6 label=ok\nend\n")
	if rep := mustReplay(t, p); rep.Outcome.Class != ClassOK || rep.Steps[0].Metrics.Rows != 1 {
		t.Errorf("long label: %s, %d rows", rep.Outcome, rep.Steps[0].Metrics.Rows)
	}
}

// Corruption the schema-version probe does not read stays across a
// reopen (CALLKIT.md §3.5 [Inf]); corruption it reads makes the daemon
// recreate the file, after which loads work again.
func TestCorruptionDetectionAndRecovery(t *testing.T) {
	rep := mustReplay(t, planFile(t, "sticky-corruption.plan"))
	last := rep.Steps[3].Outcome
	if last.Class != ClassIntegrity || !strings.Contains(rep.Steps[2].Outcome.Detail, "probe succeeded") {
		t.Errorf("sticky: reopen %q, next load %s (%s)", rep.Steps[2].Outcome.Detail, last, last.Detail)
	}
	rep = mustReplay(t, planFile(t, "corruption-recovery.plan"))
	wantOutcomes(t, rep, "ok/0", "integrity", "ok/0", "ok/0")
	if !strings.Contains(rep.Steps[2].Outcome.Detail, "[inferred]") || rep.Steps[3].Metrics.Rows != 1000 || rep.Integrity != "ok" {
		t.Errorf("recovery: %q, %d rows, integrity %s", rep.Steps[2].Outcome.Detail, rep.Steps[3].Metrics.Rows, rep.Integrity)
	}
}

// A fault never hides a finding of the plan itself: duplicate.plan with a
// kill reports the zero-row extension of its fault-free run, naming both.
func TestFaultDoesNotHideFinding(t *testing.T) {
	p := planFile(t, "duplicate.plan")
	p.Kill = &KillFault{At: 10}
	rep := mustReplay(t, p)
	if rep.Outcome.Class != ClassZeroRows || rep.FaultFree == nil || rep.FaultFree.Class != ClassZeroRows || rep.Fault == nil || rep.Fault.Class != ClassOK {
		t.Fatalf("outcome %s, fault-free %v, fault %v", rep.Outcome, rep.FaultFree, rep.Fault)
	}
}

// "rows lost" only when rows differ; a state alone is "state differs".
func TestDiffOutcome(t *testing.T) {
	if o := diffOutcome("a:1:3/00:0/00;", "a:4:3/00:0/00;"); o.Class != ClassState {
		t.Errorf("state only: %s", o)
	}
	if o := diffOutcome("a:4:2/00:0/00;", "a:4:3/00:0/00;"); o.Class != ClassRowsLost {
		t.Errorf("rows: %s", o)
	}
}

// explore's matrix runs every fault once before any fault twice, and
// reports the pairs that cannot fail by construction instead of running
// them.
func TestExploreMatrixOrder(t *testing.T) {
	cells, first, vacuous := ExploreOptions{Scale: 0.01}.matrix()
	if first != len(Faults) {
		t.Fatalf("first round of %d cases, want one per fault (%d)", first, len(Faults))
	}
	seen := map[string]bool{}
	for _, c := range cells[:first] {
		seen[c.f] = true
	}
	if len(seen) != len(Faults) {
		t.Errorf("first round covers %v", seen)
	}
	if c := cells[0]; c.f != "kill" || c.v.Name != "journal-off" {
		t.Errorf("first case %s × %s", c.v.Name, c.f)
	}
	why := map[string]string{}
	for _, v := range vacuous {
		why[v.Settings+"×"+v.Fault] = v.Outcome.Detail
	}
	for _, pair := range []string{"sync-off×kill", "default×kill+delete-journal", "page-1k×kill+delete-journal"} {
		if !strings.Contains(why[pair], "[inferred]") {
			t.Errorf("%s not reported as unable to fail: %q", pair, why[pair])
		}
	}
	for _, pair := range []string{"small-cache×kill+delete-journal", "wal×kill+delete-wal", "default×kill", "sync-off×kill+delete-wal"} {
		if _, ok := why[pair]; ok {
			t.Errorf("%s reported as unable to fail", pair)
		}
	}
	powerOff := false
	for _, c := range cells {
		if c.v.Name == "sync-off" && c.f != "power-loss" {
			t.Fatalf("a sync-off case runs without a power loss: %s × %s", c.pat.Name, c.f)
		}
		powerOff = powerOff || (c.v.Name == "sync-off" && c.f == "power-loss")
	}
	if !powerOff {
		t.Error("synchronous=off is never run under a power loss, the one fault it can fail")
	}
}
