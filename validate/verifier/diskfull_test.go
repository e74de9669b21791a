package verifier

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

// A real full disk (SQLITE_FULL from the VFS, for the database, the
// journal and the WAL alike) at write points through a load: the load
// fails into the CallKit failure path, and the database stays sound and
// equal to the model at every step; it never ends in rows lost or an
// integrity failure.
func TestDiskFullThroughVFS(t *testing.T) {
	for _, journal := range []string{"delete", "wal"} {
		p := mustPlan(t, fmt.Sprintf(powerPlan, "journal_mode="+journal))
		ctx := context.Background()
		count, err := runCrashed(ctx, p, t.TempDir()+"/CallDirectory.db", crashCount)
		if err != nil {
			t.Fatal(err)
		}
		every := max(count.res.Writes/12, 1)
		if long {
			every = 1
		}
		classes := map[string]int{}
		for k := every / 2; k < count.res.Writes; k += every {
			q := clonePlan(p)
			q.Power = &PowerFault{Kind: "disk-full", At: k}
			rep, err := Replay(ctx, q, Options{})
			if err != nil {
				t.Fatal(err)
			}
			classes[rep.Outcome.String()]++
			switch rep.Outcome.Class {
			case ClassOK, ClassSQLite, ClassStuck, ClassZeroRows:
			default:
				t.Errorf("%s at=%d: %s (%s)", journal, k, rep.Outcome, rep.Outcome.Detail)
			}
			if rep.Integrity != "ok" {
				t.Errorf("%s at=%d: integrity_check %s", journal, k, rep.Integrity)
			}
			if !strings.Contains(rep.Outcome.Detail, "disk full from write") {
				t.Errorf("%s at=%d: the report does not name the fault: %s", journal, k, rep.Outcome.Detail)
			}
		}
		if classes["SQLite 13 (SQLITE_FULL)"] == 0 {
			t.Errorf("%s: no load failed with SQLITE_FULL: %v", journal, classes)
		}
		t.Logf("%s: %d write points: %v", journal, count.res.Writes, classes)
	}
}

// The new fault directives parse, refuse bad options with the line, and
// format back to the same text.
func TestPowerFaultPlans(t *testing.T) {
	for _, c := range []struct{ text, want string }{
		{"fault power-loss at=17\n", "fault power-loss at=17\n"},
		{"fault power-loss at=3 seed=9 mode=drop sector=512\n", "fault power-loss at=3 seed=9 mode=drop sector=512\n"},
		{"fault disk-full at=0\n", "fault disk-full at=0\n"},
		{"fault power-loss\n", "test.plan:2: fault power-loss needs at=K"},
		{"fault power-loss at=-1\n", "test.plan:2: fault power-loss at=\"-1\""},
		{"fault power-loss at=1 mode=melt\n", "mode=\"melt\": want drop or tear"},
		{"fault power-loss at=1 sector=1024\n", "want 512 or 4096"},
		{"fault disk-full at=1 mode=drop\n", "fault disk-full: unknown option \"mode\""},
		{"fault power-loss at=1\nfault disk-full at=2\n", "test.plan:3: only one fault per plan"},
		{"fault disk-full at=1\nfault kill at=2\n", "test.plan:3: only one kill fault per plan"},
		{"fault flood at=1\n", "fault takes: kill"},
	} {
		p, err := ParsePlan(strings.NewReader("calldir-plan 1\n"+c.text), "test.plan", "/plans")
		if err != nil {
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("%q: %v, want %q", c.text, err, c.want)
			}
			continue
		}
		if got := p.Format("/plans"); !strings.Contains(got, c.want) {
			t.Errorf("%q formats as:\n%s", c.text, got)
		}
	}
	p := mustPlan(t, "calldir-plan 1\nextension a x\nfault power-loss at=1\nbusy hold=1s\nload a complete\nend\n")
	if _, err := Replay(context.Background(), p, Options{}); err == nil || !strings.Contains(err.Error(), "cannot be combined with busy") {
		t.Errorf("power loss with busy: %v", err)
	}
}
