package validate

import (
	"fmt"

	"github.com/calldir/calldir/e164"
	"github.com/calldir/calldir/shard"
)

// RawReport is the outcome of checking raw lists with the compile front
// end: the caller runs the front end, passing every rejected line to
// Reject, then calls Finish with the inputs' statistics. The checkers do
// not depend on the compiler; they take what it reports.
type RawReport struct {
	Files     int       `json:"files"`
	Lines     int64     `json:"lines"`
	Accepted  int64     `json:"accepted"`
	Rejected  int64     `json:"rejected"`
	Conflicts int64     `json:"label_conflicts,omitempty"`
	Findings  []Finding `json:"findings"`
}

// NewRawReport returns an empty report.
func NewRawReport() *RawReport { return &RawReport{Findings: []Finding{}} }

// Reject records one rejected line as a finding.
func (r *RawReport) Reject(source string, line int64, reason e164.Reason, raw string) {
	r.Findings = append(r.Findings, Finding{
		Kind: KindReject, File: source, Line: line, Reason: reason.String(), Raw: raw,
		Message: fmt.Sprintf("%s: %q (%s)", reason, raw, reason.Help()),
	})
}

// Finish sums the inputs' statistics and sorts the findings.
func (r *RawReport) Finish(inputs []shard.InputStats, conflicts int64) {
	r.Files = len(inputs)
	for _, in := range inputs {
		r.Lines += in.Lines
		r.Accepted += in.Accepted
		r.Rejected += in.Rejected
	}
	r.Conflicts = conflicts
	Sort(r.Findings)
}
