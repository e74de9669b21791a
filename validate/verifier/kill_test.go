package verifier

import (
	"context"
	"fmt"
	"testing"
)

// killPlan touches every kind of write: complete loads (initial deletion,
// flush transactions), identification with labels, an incremental load with
// removals, a failed load (failure path), a switch-off and maintenance.
const killPlan = `calldir-plan 1
seed 3
set flush=500 statement=100 %s
extension a com.example.a
extension b com.example.b
load a complete
  block range 14155550000 14155551199
end
load b complete
  block range 14155551000 14155551599
  identify range 14155550000 14155550199 label="Pizza"
end
load a incremental
  remove-block range 14155550000 14155550299
  block range 14155560000 14155560599
end
load a complete fail-after=1
  block range 14155570000 14155570999
end
disable b
maintenance
`

// sweep kills the writer before statements from, from+every, … of the plan
// and returns the outcomes by state. Each kill point costs a process (about
// 90 ms), so the tests without -tags long take a stride.
func sweep(t *testing.T, settings, then string, from, every int64) (map[string]int, []*Report) {
	t.Helper()
	p := mustPlan(t, fmt.Sprintf(killPlan, settings))
	ctx := context.Background()
	g, err := goldenRun(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	states := map[string]int{}
	var bad []*Report
	for k := from; k < g.total; k += every {
		p.Kill = &KillFault{At: k, Then: then}
		rep, err := killCase(ctx, p, g, t.TempDir()+"/CallDirectory.db")
		if err != nil {
			t.Fatal(err)
		}
		states[rep.Kill.State]++
		if rep.Fault.Class != ClassOK { // the plan's own zero-row load is in rep.FaultFree
			bad = append(bad, rep)
		}
	}
	t.Logf("%s then=%q: %d statements, every %d from %d, states %v", settings, then, g.total, every, from, states)
	return states, bad
}

// A kill before every statement of the plan, with a rollback
// journal and with WAL, ends with integrity ok and the state before or
// after the interrupted transaction, never in between. With -tags long,
// four journal modes and every statement; without, two modes and every
// fourth statement, the second mode's points shifted by two so that
// together they cover half of the plan's statements.
func TestKillEveryStatementSafeJournals(t *testing.T) {
	modes := []string{"journal_mode=delete", "journal_mode=wal"}
	every, want := int64(4), 25
	if long {
		modes = append(modes, "journal_mode=truncate synchronous=normal", "journal_mode=persist page_size=1024")
		every, want = 1, 50
	}
	for i, s := range modes {
		states, bad := sweep(t, s, "", int64(i*2)%every, every)
		for _, r := range bad {
			t.Errorf("%s: kill at %d: %s: %s", s, r.Kill.At, r.Fault, r.Fault.Detail)
		}
		if n := states["before"] + states["after"]; n < want {
			t.Errorf("%s: only %d kill points checked, want at least %d", s, n, want)
		}
	}
}

// unsafeEvery is the stride of the sweeps that look for a broken database.
func unsafeEvery() int64 {
	if long {
		return 3
	}
	return 6
}

// With journal_mode=OFF (and a small cache, so dirty pages spill to the
// file mid-transaction) some kill point leaves the database malformed or
// with rows lost; the same holds when a hot journal is deleted.
func TestKillJournalOffCorrupts(t *testing.T) {
	_, bad := sweep(t, "journal_mode=off cache_size=8", "", 0, unsafeEvery())
	if len(bad) == 0 {
		t.Fatal("no kill point broke a journal_mode=off database")
	}
	for _, r := range bad[:min(3, len(bad))] {
		t.Logf("kill at %d: %s (%s) %s", r.Kill.At, r.Outcome, r.Kill.State, r.Outcome.Detail)
	}
}

func TestKillDeletedHotJournalLosesAtomicity(t *testing.T) {
	_, bad := sweep(t, "journal_mode=delete cache_size=8", "delete-journal", 0, unsafeEvery())
	if len(bad) == 0 {
		t.Fatal("deleting the hot journal never broke the database")
	}
	t.Logf("%d bad kill points, e.g. %s at %d", len(bad), bad[0].Outcome, bad[0].Kill.At)
}
