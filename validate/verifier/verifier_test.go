package verifier

import (
	"context"
	"os"
	"strings"
	"testing"
)

func TestMain(m *testing.M) {
	if IsChild() {
		if RunChild(context.Background(), os.Stdin, os.Stdout) != nil {
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func mustPlan(t *testing.T, text string) *Plan {
	t.Helper()
	p, err := ParsePlan(strings.NewReader(text), "test.plan", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func mustReplay(t *testing.T, p *Plan) *Report {
	t.Helper()
	rep, err := Replay(context.Background(), p, Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func TestReplaySmoke(t *testing.T) {
	p := mustPlan(t, `calldir-plan 1
seed 1
extension a com.example.a
load a complete
  block range 14155550000 14155559999
end
load a incremental
  remove-block numbers 14155550000 14155550001
  block range 14155560000 14155560099
end
maintenance
`)
	rep := mustReplay(t, p)
	for _, s := range rep.Steps {
		t.Logf("%d %s: %s %s stmts=%d rows=%d pages=%d", s.Index, s.Step, s.Outcome, s.Outcome.Detail, s.Statements, s.Metrics.Rows, s.Metrics.PageCount)
	}
	if rep.Outcome.Class != ClassOK || rep.Integrity != "ok" {
		t.Fatalf("outcome %v integrity %s", rep.Outcome, rep.Integrity)
	}
	if rep.Steps[1].Metrics.Rows != 10098 {
		t.Errorf("rows %d", rep.Steps[1].Metrics.Rows)
	}
}
