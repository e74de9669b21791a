package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDiffCLI(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	mustWrite(t, "day1.txt", genMixedDeterministic(3000))
	day2 := strings.Replace(genMixedDeterministic(3000), "+14152000005\n", "+14152009999\n", 1) + "+442079460958\n"
	mustWrite(t, "day2.txt", day2)
	mustCLI(t, 0, "compile", "-q", "--max-per-shard", "1000", "-o", "b1", "day1.txt")
	_, stderr := mustCLI(t, 0, "compile", "--base", "b1", "--delta", "d2", "--max-per-shard", "1000", "-o", "b2", "day2.txt")
	if !strings.Contains(stderr, "2 added, 1 removed, 0 relabelled; 1 incremental, 2 complete") || !strings.Contains(stderr, "+44 ") {
		t.Errorf("compile --delta summary:\n%s", stderr)
	}
	// diff gives the same delta as compile --delta.
	mustCLI(t, 0, "diff", "-q", "b1", "b2", "--out", "d2b")
	if mustRead(t, "d2/delta.json") != mustRead(t, "d2b/delta.json") {
		t.Error("diff and compile --delta disagree")
	}
	out, _ := mustCLI(t, 0, "validate", "--base", "b1", "--target", "b2", "d2")
	if !strings.Contains(out, "0 finding(s)") {
		t.Errorf("validate delta: %s", out)
	}
	out, _ = mustCLI(t, 0, "replay", "--target", "b2", "b1", "d2")
	if !strings.Contains(out, "every extension equals build") {
		t.Errorf("replay of base + delta:\n%s", out)
	}
	// The wrong base: refused, with the builds named; validate reports it.
	_, stderr = mustCLI(t, 2, "replay", "b2", "d2")
	if !strings.Contains(stderr, "refused before any row changes") {
		t.Errorf("wrong base: %s", stderr)
	}
	code, out, _ := runCLI(t, "", "validate", "--base", "b2", "d2")
	if code != 1 || !strings.Contains(out, ": base: delta applies to build") {
		t.Errorf("validate wrong base: %d %s", code, out)
	}
	// A removal the base does not hold is a finding.
	os.Remove(filepath.Join("b1", "manifest.json"))
	mustCLI(t, 2, "diff", "b1", "b2", "--out", "d3")
	mustCLI(t, 2, "compile", "-q", "--delta", "d4", "-o", "b4", "day2.txt")
}
