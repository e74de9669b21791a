package verifier

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// powerPlan is a 3-flush complete load (1,000 entries, flush 400) and a
// maintenance (orphan cleanup and VACUUM).
const powerPlan = `calldir-plan 1
seed 11
set flush=400 statement=100 %s
extension a com.example.a
load a complete
  block range 14155550000 14155550999
end
maintenance
`

// powerSweep fails the power after write points of the plan under
// settings and returns the cases that ended in a finding, with how many
// cases ran and the statements the failures landed in. With long it
// sweeps every write point in both modes; without it (the README's test
// command) every nth point from a seeded offset, about 24 points,
// alternating drop and tear. stopAt ends the sweep after that many
// findings (0: never).
func powerSweep(t *testing.T, settings string, stopAt int) (bad []*Plan, cases int, stmts map[int64]bool, g *golden, states map[string]int) {
	t.Helper()
	p := mustPlan(t, fmt.Sprintf(powerPlan, settings))
	ctx := context.Background()
	g, err := goldenRun(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	if err := g.traceWrites(ctx, p, t.TempDir()+"/CallDirectory.db"); err != nil {
		t.Fatal(err)
	}
	count, err := runCrashed(ctx, p, t.TempDir()+"/CallDirectory.db", crashCount)
	if err != nil {
		t.Fatal(err)
	}
	total := count.res.Writes
	every, from := int64(1), int64(0)
	modes := []string{"drop", "tear"}
	if !long {
		every = max(total/24, 1)
		from = rand.New(rand.NewPCG(uint64(len(settings)), 7)).Int64N(every)
	}
	stmts = map[int64]bool{}
	states = map[string]int{}
	for k := from; k < total; k += every {
		for i, mode := range modes {
			if !long && int64(i) != (k/every)%2 {
				continue
			}
			q := clonePlan(p)
			q.Power = &PowerFault{Kind: "power-loss", At: k, Mode: mode, Seed: uint64(k) + 1}
			rep, cr, err := powerCase(ctx, q, g, t.TempDir()+"/CallDirectory.db")
			if err != nil {
				t.Fatal(err)
			}
			cases++
			stmts[cr.stmt] = true
			states[strings.TrimPrefix(rep.Steps[len(rep.Steps)-1].Step, "reopen after the power loss: ")]++
			if rep.Outcome.Finding() {
				bad = append(bad, q)
				if len(bad) == 1 {
					t.Logf("%s: first finding: %s: %s (%s)", settings, q.Power, rep.Outcome, rep.Outcome.Detail)
				}
				if stopAt > 0 && len(bad) >= stopAt {
					return bad, cases, stmts, g, states
				}
			}
		}
	}
	t.Logf("%q: %d write points, %d statements, %d cases, %d findings; reopened in %v", settings, total, g.total, cases, len(bad), states)
	return bad, cases, stmts, g, states
}

// TestPowerLoss: under the defaults (rollback journal, synchronous=full)
// no power loss at any write point, inside COMMIT or VACUUM included,
// loses a committed transaction other than the last or damages the file;
// with synchronous=off, journal_mode=off or journal_mode=memory some
// power loss does, and the shrunk plan of the first finding replays to
// the same finding.
const stateRolledBack1 = "rolled back 1 commit(s)"

func TestPowerLoss(t *testing.T) {
	bad, cases, stmts, g, states := powerSweep(t, "", 0)
	for _, q := range bad {
		t.Errorf("defaults: %s: a finding", q.Power)
	}
	inCommit := false
	for i := 1; i < len(g.points); i++ {
		// A COMMIT is a commit point after a statement that was not one.
		inCommit = inCommit || (stmts[g.points[i]] && g.points[i-1] != g.points[i]-1)
	}
	if !inCommit || !stmts[g.total-1] {
		t.Errorf("defaults: %d cases, none inside a COMMIT (%v) or none inside the VACUUM (%v)", cases, inCommit, stmts[g.total-1])
	}
	// synchronous=EXTRA syncs the directory after deleting the journal:
	// the last transaction never comes back rolled back, where under FULL
	// (the defaults) it does.
	if _, _, _, _, extra := powerSweep(t, "synchronous=extra", 0); extra[stateRolledBack1] > 0 || states[stateRolledBack1] == 0 {
		t.Errorf("the last transaction rolled back: %d cases under synchronous=extra, %d under the defaults", extra[stateRolledBack1], states[stateRolledBack1])
	}
	for _, settings := range []string{"synchronous=off", "journal_mode=off", "journal_mode=memory"} {
		t.Run(settings, func(t *testing.T) {
			bad, _, _, _, _ := powerSweep(t, settings, 1)
			if len(bad) == 0 {
				t.Fatalf("%s: no power loss lost a committed row or damaged the file", settings)
			}
			ctx := context.Background()
			first, err := Replay(ctx, bad[0], Options{})
			if err != nil {
				t.Fatal(err)
			}
			want := first.Outcome.Key()
			min := ShrinkPower(ctx, bad[0], func(q *Plan) bool {
				r, err := Replay(ctx, q, Options{})
				return err == nil && r.Outcome.Key() == want
			}, 20*time.Second)
			text := min.Format("/plans")
			q, err := ParsePlan(strings.NewReader(text), "shrunk.plan", "/plans")
			if err != nil {
				t.Fatal(err)
			}
			again, err := Replay(ctx, q, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if again.Outcome.Key() != want {
				t.Fatalf("the shrunk plan replays to %s, not %s:\n%s", again.Outcome, first.Outcome, text)
			}
			t.Logf("%s: %s, shrunk to:\n%s", settings, first.Outcome, text)
		})
	}
}
