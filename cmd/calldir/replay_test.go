package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestReplayCLI(t *testing.T) {
	dir := t.TempDir()
	in := mustWrite(t, filepath.Join(dir, "a.txt"), genMixedDeterministic(3000))
	build := filepath.Join(dir, "build")
	mustCLI(t, 0, "compile", "-q", "--max-per-shard", "1000", "--out", build, in)
	out, _ := mustCLI(t, 0, "replay", build)
	if !strings.Contains(out, "outcome: ok; integrity_check: ok") {
		t.Errorf("replay of a build:\n%s", out)
	}
	plans := filepath.Join("..", "..", "fixtures", "plans")
	code, out, _ := runCLI(t, "", "replay", filepath.Join(plans, "out-of-order.plan"))
	if code != 1 || !strings.Contains(out, "CallKit error 3") {
		t.Errorf("out-of-order plan: exit %d\n%s", code, out)
	}
	code, js, _ := runCLI(t, "", "replay", "--format", "json", filepath.Join(plans, "incremental-after-load-fails.plan"))
	var rep struct {
		Outcome struct{ Class string } `json:"outcome"`
	}
	if err := json.Unmarshal([]byte(js), &rep); err != nil || code != 1 || rep.Outcome.Class != "zero-rows" {
		t.Errorf("json replay: exit %d, %v, %s", code, err, js)
	}
	// Plan errors name the file and line, exit 2.
	bad := mustWrite(t, filepath.Join(dir, "bad.plan"), "calldir-plan 1\nextension a x\nload a sideways\nend\n")
	_, stderr := mustCLI(t, 2, "replay", bad)
	if !strings.Contains(stderr, "bad.plan:3:") {
		t.Errorf("plan error: %s", stderr)
	}
	mustCLI(t, 2, "replay", "--set", "journal_mode=sideways", build)
	mustCLI(t, 2, "replay", filepath.Join(dir, "missing.plan"))
}

// calldir explore, within a budget, finds a
// journal_mode=OFF kill that ends malformed or with rows lost, shrinks it,
// and calldir replay re-runs the shrunk plan to the same finding.
//
// Shrinking a kill finding replays the plan in a child process per try
// (about 8 s a pattern on a quiet machine, converged well inside the 15 s
// budget; a smaller budget leaves the plan unshrunk on a busy one): with
// -tags long two patterns, without one.
func TestExploreFindsAndShrinksJournalOff(t *testing.T) {
	dir := t.TempDir()
	patterns := []string{"--pattern", "field-report"}
	if long {
		patterns = append(patterns, "--pattern", "failed-after-partial")
	}
	args := append([]string{"explore", "--budget", "60s", "--shrink-budget", "15s", "--seed", "4"}, patterns...)
	out, _ := mustCLI(t, 0, append(args, "--settings", "journal-off", "--fault", "kill", "--out", dir)...)
	row := regexp.MustCompile(`(?m)^\d+\s+\S+\s+journal-off\s+kill\s+(integrity failure|rows lost) \[kill@\d+\].*?(case-\S+\.plan) \(\d+ steps, reproduces\)$`).FindStringSubmatch(out)
	if row == nil {
		t.Fatalf("no shrunk journal-off kill finding in:\n%s", out)
	}
	plan := filepath.Join(dir, row[2])
	code, rout, _ := runCLI(t, "", "replay", plan)
	want := map[string]string{"integrity failure": "outcome: integrity failure", "rows lost": "outcome: rows lost"}[row[1]]
	if code != 1 || !strings.Contains(rout, want) {
		t.Errorf("replay of the shrunk plan %s: exit %d, want %q\n%s", plan, code, want, rout)
	}
	b, _ := os.ReadFile(plan)
	if !strings.Contains(string(b), "fault kill at=") || strings.Count(string(b), "\nload ") > 3 {
		t.Errorf("shrunk plan is not minimal-looking:\n%s", b)
	}
	if !strings.Contains(out, "explore: seed 4") {
		t.Errorf("no summary line:\n%s", out)
	}
}
