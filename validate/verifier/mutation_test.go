package verifier

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// mutations break one CallKit rule each in the driver (the daemon under
// test). The harness (mutants_test.go, -tags mutants) replays the fixture
// plan that exercises each and requires replay itself to report a finding
// it does not report without the mutation. docs/VERIFIER.md's table lists
// the same set (TestMutationsDocumented).
var mutations = []struct {
	mutation, plan string
}{
	{"cap", "cap.plan"},                                             // >= becomes >: 2,000,000 entries (the cap) pass
	{"order", "out-of-order.plan"},                                  // a smaller number is accepted
	{"duplicate", "duplicate.plan"},                                 // an equal number is accepted (then UNIQUE fails)
	{"failure-delete", "incremental-after-load-fails.plan"},         // the failure path keeps the rows
	{"failure-state", "out-of-order.plan"},                          // the failure path sets 4 for 1 and 1 for 4
	{"initial-deletion", "churn.plan"},                              // a complete load keeps the old rows
	{"disabled", "disabled.plan"},                                   // a state-2 extension loads
	{"unavailable", "unavailable.plan"},                             // a state-5 extension loads
	{"flush-boundary", "flush-boundary.plan"},                       // the extension flushes at more than the flush size
	{"failure-skip-ident-delete", "identify-then-failed-load.plan"}, // the failure path keeps identification rows (as many statements)
	{"label-truncate", "long-labels.plan"},                          // labels cut to 255 bytes in the driver's SQL
	{"failure-sql-error", "identify-then-failed-load.plan"},         // a typo in the failure path's identification DELETE
	{"buffer-order", "mixed-kinds.plan"},                            // identification sent before blocking at completeRequest
	{"drop-labels-off", "dropped-labels.plan"},                      // empty labels reach the daemon
	{"remove-in-complete", "remove-in-complete.plan"},               // a removal in a complete load does not kill the extension
	{"fail-after-late", "fail-after.plan"},                          // the extension dies one batch late
}

// TestMutationsDocumented: docs/VERIFIER.md's mutation table lists the
// harness's mutations, each with its plan.
func TestMutationsDocumented(t *testing.T) {
	b, err := os.ReadFile("../../docs/VERIFIER.md")
	if err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile("(?m)^\\| `([a-z-]+)` \\| `([a-z-]+\\.plan)` \\|")
	var doc, code []string
	for _, m := range row.FindAllStringSubmatch(string(b), -1) {
		doc = append(doc, m[1]+" "+m[2])
	}
	for _, m := range mutations {
		code = append(code, m.mutation+" "+m.plan)
	}
	slices.Sort(doc)
	slices.Sort(code)
	if !slices.Equal(doc, code) {
		t.Errorf("docs/VERIFIER.md lists mutations\n  %s\nthe harness runs\n  %s", strings.Join(doc, "\n  "), strings.Join(code, "\n  "))
	}
	if len(code) < 12 {
		t.Errorf("%d mutations; the harness needs at least 12", len(code))
	}
}
