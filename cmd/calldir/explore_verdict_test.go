package main

import (
	"strings"
	"testing"

	"github.com/calldir/calldir/validate/verifier"
)

// explore fails (exit 1, each reason on stderr) on a finding the settings
// do not excuse; synchronous=off excuses power-loss findings only.
func TestExploreFindings(t *testing.T) {
	lost := verifier.Outcome{Class: verifier.ClassRowsLost}
	for _, tc := range []struct {
		c    verifier.CaseResult
		fail bool
	}{
		{verifier.CaseResult{Settings: "default", Fault: "power-loss", Outcome: lost}, true},
		{verifier.CaseResult{Settings: "sync-off", Fault: "power-loss", Outcome: lost}, false},
		{verifier.CaseResult{Settings: "sync-off", Fault: "kill", Outcome: lost}, true},
		{verifier.CaseResult{Settings: "journal-off", Fault: "kill", Outcome: lost}, false},
		{verifier.CaseResult{Settings: "wal", Fault: "power-loss", Outcome: verifier.Outcome{Class: verifier.ClassRolledBack}}, false},
		{verifier.CaseResult{Settings: "journal-off", Fault: "none", Outcome: verifier.Outcome{Class: verifier.ClassModel}}, true},
		{verifier.CaseResult{Settings: "default", Fault: "disk-full", Outcome: verifier.Outcome{Class: verifier.ClassZeroRows}}, false},
	} {
		got := exploreFindings(&verifier.ExploreReport{Cases: []verifier.CaseResult{tc.c}})
		if (len(got) > 0) != tc.fail {
			t.Errorf("%s/%s/%s: findings %q, want fail=%v", tc.c.Settings, tc.c.Fault, tc.c.Outcome, got, tc.fail)
		}
		if len(got) > 0 && !strings.Contains(got[0], tc.c.Settings) {
			t.Errorf("reason %q does not name the settings", got[0])
		}
	}
}

// A case explore could not run has no verdict: the run exits 2 naming it,
// even beside cases that passed or found something (never 0, never 1).
func TestExploreCaseErrorIsNotAPass(t *testing.T) {
	ok := verifier.CaseResult{N: 1, Settings: "default", Fault: "kill", Outcome: verifier.Outcome{Class: verifier.ClassOK}}
	broken := verifier.CaseResult{N: 2, Pattern: "churn", Settings: "wal", Fault: "power-loss", Outcome: verifier.Outcome{Class: verifier.ClassError, Detail: "open scratch: no space left on device"}}
	lost := verifier.CaseResult{N: 3, Settings: "default", Fault: "power-loss", Outcome: verifier.Outcome{Class: verifier.ClassRowsLost}}
	for _, cases := range [][]verifier.CaseResult{{ok, broken}, {broken, lost}, {broken}} {
		var stderr strings.Builder
		err := exploreVerdict(&stderr, &verifier.ExploreReport{Cases: cases})
		if code := exitCode(err); code != exitUsage || !strings.Contains(err.Error(), "case 2 (churn, wal, power-loss): open scratch: no space left") {
			t.Errorf("%d cases with one that could not run: exit %d, %v; want exit %d naming it", len(cases), code, err, exitUsage)
		}
	}
	if err := exploreVerdict(new(strings.Builder), &verifier.ExploreReport{Cases: []verifier.CaseResult{ok}}); err != nil {
		t.Errorf("one ok case: %v", err)
	}
}
