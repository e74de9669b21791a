package verifier

import (
	"context"
	"fmt"
	"testing"
)

const killPlan = `calldir-plan 1
seed 3
set flush=1000 statement=100 %s
extension a com.example.a
extension b com.example.b
load a complete
  block range 14155550000 14155552999
end
load b complete
  block range 14155551000 14155553999
  identify range 14155550000 14155550499 label="Pizza"
end
load a incremental
  remove-block range 14155550000 14155550999
  block range 14155560000 14155561999
end
load a complete
  block range 14155570000 14155572999
end
maintenance
`

// sweep kills the writer before every statement of the plan and returns
// the outcomes by state.
func sweep(t *testing.T, settings, then string, every int64) (map[string]int, []*Report) {
	t.Helper()
	p := mustPlan(t, fmt.Sprintf(killPlan, settings))
	ctx := context.Background()
	g, err := goldenRun(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	states := map[string]int{}
	var bad []*Report
	for k := int64(0); k < g.total; k += every {
		p.Kill = &KillFault{At: k, Then: then}
		rep, err := killCase(ctx, p, g, t.TempDir()+"/CallDirectory.db")
		if err != nil {
			t.Fatal(err)
		}
		states[rep.Kill.State]++
		if rep.Outcome.Class != ClassOK {
			bad = append(bad, rep)
		}
	}
	t.Logf("%s then=%q: %d statements, states %v", settings, then, g.total, states)
	return states, bad
}

func TestKillEveryStatementSafeJournals(t *testing.T) {
	for _, s := range []string{"journal_mode=delete", "journal_mode=wal", "journal_mode=truncate"} {
		states, bad := sweep(t, s, "", 1)
		for _, r := range bad {
			t.Errorf("%s: kill at %d: %s: %s", s, r.Kill.At, r.Outcome, r.Outcome.Detail)
		}
		if n := states["before"] + states["after"]; n < 50 {
			t.Errorf("%s: only %d kill points checked, want at least 50", s, n)
		}
	}
}

func TestKillJournalOffCorrupts(t *testing.T) {
	_, bad := sweep(t, "journal_mode=off cache_size=8", "", 1)
	if len(bad) == 0 {
		t.Fatal("no kill point broke a journal_mode=off database")
	}
	for _, r := range bad[:min(3, len(bad))] {
		t.Logf("kill at %d: %s (%s) %s", r.Kill.At, r.Outcome, r.Kill.State, r.Outcome.Detail)
	}
}
