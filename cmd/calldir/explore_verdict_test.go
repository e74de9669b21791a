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
