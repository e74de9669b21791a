package verifier

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/calldir/calldir/validate/verifier/plan"
)

func TestParsePlanErrors(t *testing.T) {
	for _, tc := range []struct {
		name, text, want string
	}{
		{"empty", "", "test.plan:1: empty plan"},
		{"no header", "seed 1\n", "test.plan:1: not a calldir plan"},
		{"unknown directive", "calldir-plan 1\nfrobnicate\n", "test.plan:2: unknown directive"},
		{"unknown extension", "calldir-plan 1\nload z complete\nend\n", `test.plan:2: unknown extension "z"`},
		{"bad mode", "calldir-plan 1\nextension a x\nload a sideways\nend\n", "test.plan:3: load takes"},
		{"no end", "calldir-plan 1\nextension a x\nload a complete\n  block numbers 1\n", "test.plan:3: load block without end"},
		{"bad number", "calldir-plan 1\nextension a x\nload a complete\n  block numbers 12x\nend\n", `test.plan:4: number "12x"`},
		{"range backwards", "calldir-plan 1\nextension a x\nload a complete\n  block range 10 5\nend\n", "test.plan:4: range 10..5"},
		{"huge range", "calldir-plan 1\nextension a x\nload a complete\n  block range 1 9000000000000\nend\n", "more than 500000000 numbers"},
		{"identify without label", "calldir-plan 1\nextension a x\nload a complete\n  identify numbers 5\nend\n", "needs label="},
		{"bad setting", "calldir-plan 1\nset journal_mode=sideways\n", "test.plan:2: setting journal_mode"},
		{"unknown setting", "calldir-plan 1\nset colour=blue\n", `unknown setting "colour"`},
		{"two kills", "calldir-plan 1\nfault kill at=1\nfault kill at=2\n", "only one kill fault"},
		{"negative kill", "calldir-plan 1\nfault kill at=-3\n", "fault kill at="},
		{"unterminated quote", "calldir-plan 1\nextension a \"x\n", "unterminated quote"},
		{"duplicate extension", "calldir-plan 1\nextension a x\nextension a y\n", "declared twice"},
		{"kill with busy", "calldir-plan 1\nfault kill at=3\nbusy hold=1s\n", ""}, // parses; Replay refuses
		{"long line", "calldir-plan 1\n# " + strings.Repeat("x", plan.MaxLine+10) + "\n", "line longer than"},
		{"bad hold", "calldir-plan 1\nbusy hold=forever\n", "busy takes hold="},
		{"empty label accepted", "calldir-plan 1\nextension a x\nload a complete\n  identify numbers 5 label=\"\"\nend\n", ""},
		{"NUL label", "calldir-plan 1\nextension a x\nload a complete\n  identify numbers 5 label=a\\\x00b\nend\n", "NUL"},
		{"remove-all-block", "calldir-plan 1\nextension a x\nload a incremental\n  remove-all-block\n  remove-all-identify\nend\n", ""},
		{"remove-all-block args", "calldir-plan 1\nextension a x\nload a incremental\n  remove-all-block 5\nend\n", "remove-all-block takes nothing"},
		{"corrupt unknown table", "calldir-plan 1\ncorrupt table=Nope\n", "corrupt takes table="},
		{"unavailable unknown", "calldir-plan 1\nunavailable z\n", `unknown extension "z"`},
		{"reopen args", "calldir-plan 1\nreopen now\n", "reopen takes nothing"},
		{"unknown op option", "calldir-plan 1\nextension a x\nload a complete\n  block numbers 5 colour=red\nend\n", `unknown option "colour"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParsePlan(strings.NewReader(tc.text), "test.plan", t.TempDir())
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("error %v, want it to contain %q", err, tc.want)
			}
		})
	}
	for _, step := range []string{"busy hold=1s", "reopen", "corrupt table=Label"} {
		p := mustPlan(t, "calldir-plan 1\nfault kill at=3\n"+step+"\n")
		if err := checkFaults(p); err == nil {
			t.Errorf("a kill combined with %s must be refused", step)
		}
	}
}

// The fixtures and the patterns survive Format → ParsePlan → Format.
func TestPlanRoundTrip(t *testing.T) {
	var plans []*Plan
	files, _ := filepath.Glob(filepath.Join("..", "..", "fixtures", "plans", "*.plan"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		p, err := ParsePlan(strings.NewReader(string(b)), f, filepath.Dir(f))
		if err != nil {
			t.Fatal(err)
		}
		plans = append(plans, p)
	}
	for _, pat := range Patterns {
		plans = append(plans, pat.Make(0.01))
	}
	if len(plans) < 10 {
		t.Fatalf("only %d plans", len(plans))
	}
	for _, p := range plans {
		text := p.Format(p.Dir)
		q, err := ParsePlan(strings.NewReader(text), "round trip", p.Dir)
		if err != nil {
			t.Fatalf("%v\n%s", err, text)
		}
		if again := q.Format(q.Dir); again != text {
			t.Errorf("round trip differs:\n%s\n---\n%s", text, again)
		}
	}
}

func FuzzParsePlan(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("..", "..", "fixtures", "plans", "*.plan"))
	for _, fn := range files {
		b, _ := os.ReadFile(fn)
		f.Add(string(b))
	}
	f.Add("calldir-plan 1\nset flush=3 statement=2\nextension a \"b c\"\nload a incremental fail-after=1\n  identify numbers 1 2 label=\"x\\\"y\"\n  remove-all\nend\ndisk-full extra=3\n")
	f.Fuzz(func(t *testing.T, text string) {
		p, err := ParsePlan(strings.NewReader(text), "fuzz.plan", "/plans")
		if err != nil {
			if _, ok := err.(*PlanError); !ok {
				t.Fatalf("error of type %T: %v", err, err)
			}
			return
		}
		out := p.Format("/plans")
		q, err := ParsePlan(strings.NewReader(out), "formatted", "/plans")
		if err != nil {
			t.Fatalf("a parsed plan does not parse back once formatted: %v\n%s", err, out)
		}
		if again := q.Format("/plans"); again != out {
			t.Fatalf("format is not stable:\n%s\n---\n%s", out, again)
		}
	})
}
