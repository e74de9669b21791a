package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// An allowlist is a promise about numbers that must not be blocked: a
// pattern line in it allows its whole range, and a line it cannot read is
// a reject like a source's (listed in --rejects, counted against
// --max-rejects, shown in the summary), never silently dropped.

// allowCase writes a list of the 100 numbers +1 212 555 0100..0199 and
// three others, and an allowlist holding allow, into dir.
func allowCase(t *testing.T, dir, allow string) (list, allowPath string) {
	t.Helper()
	var nums []int64
	for n := int64(12125550100); n <= 12125550199; n++ {
		nums = append(nums, n)
	}
	nums = append(nums, 12125550099, 12125550200, 442079460958)
	list = mustWrite(t, filepath.Join(dir, "list.txt"), numbersText(nums...))
	allowPath = mustWrite(t, filepath.Join(dir, "allow.txt"), allow)
	return list, allowPath
}

func TestAllowPatternAllowsRange(t *testing.T) {
	dir := t.TempDir()
	list, allow := allowCase(t, dir, "# the test range\n+1 212 555 01##\n")
	out := filepath.Join(dir, "build")
	_, stderr := mustCLI(t, 0, "compile", "--out", out, "--max-rejects", "0", "--allow", allow, list)
	for _, want := range []string{"104 lines from 1 file(s) and 1 allowlist(s)", "0 rejected", "100 allowlisted -> 3 entries",
		"allowlist " + allow + ": 1 lines, 1 accepted (1 pattern(s)), 0 rejected"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("summary lacks %q:\n%s", want, stderr)
		}
	}
	dump, _ := mustCLI(t, 0, "inspect", "--dump", out)
	if want := numbersText(12125550099, 12125550200, 442079460958); dump != want {
		t.Errorf("build holds:\n%swant:\n%s", dump, want)
	}
}

func TestAllowRejectsOverMaxRejects(t *testing.T) {
	dir := t.TempDir()
	list, allow := allowCase(t, dir, "+1 212 555 01##\n+1 212 555 01\n")
	out := filepath.Join(dir, "build")
	mustCLI(t, 0, "compile", "-q", "--out", out, list) // the build the refused compile must leave alone
	rejects := filepath.Join(dir, "rejects.csv")
	before := snapshotTree(t, dir)
	code, stdout, stderr := runCLI(t, "", "compile", "--out", out, "--max-rejects", "0", "--rejects", rejects, "--allow", allow, list)
	if code != 1 {
		t.Fatalf("exit %d, want 1 (an allowlist's reject over --max-rejects 0); stderr: %s", code, stderr)
	}
	if !strings.Contains(stderr, "1 of 105 lines rejected, over --max-rejects 0") {
		t.Errorf("stderr: %q", stderr)
	}
	if stdout != "" {
		t.Errorf("stdout: %q", stdout)
	}
	// The rejects are written even when the build is refused: they say why.
	assertSameTree(t, dir, before, "rejects.csv")
	if got, want := mustRead(t, rejects), "source,line,reason,raw\n"+allow+",2,too-short,+1 212 555 01\n"; got != want {
		t.Errorf("rejects:\n%s\nwant:\n%s", got, want)
	}
}

func TestAllowRejectsListed(t *testing.T) {
	dir := t.TempDir()
	list, allow := allowCase(t, dir, "+1 212 555 01##\nhello\n+1 212 555 01\n+999 ####\n")
	out := filepath.Join(dir, "build")
	rejects := filepath.Join(dir, "rejects.csv")
	_, stderr := mustCLI(t, 0, "compile", "--out", out, "--rejects", rejects, "--allow", allow, list)
	for _, want := range []string{"107 lines from 1 file(s) and 1 allowlist(s)", "3 rejected", "100 allowlisted -> 3 entries",
		"allowlist " + allow + ": 4 lines, 1 accepted (1 pattern(s)), 3 rejected (1 bad-pattern, 1 no-digits, 1 too-short)"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("summary lacks %q:\n%s", want, stderr)
		}
	}
	want := "source,line,reason,raw\n" +
		allow + ",2,no-digits,hello\n" +
		allow + ",3,too-short,+1 212 555 01\n" +
		allow + ",4,bad-pattern,+999 ####\n"
	if got := mustRead(t, rejects); got != want {
		t.Errorf("rejects:\n%s\nwant:\n%s", got, want)
	}
}
