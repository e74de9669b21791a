package validate

import (
	"context"
	"fmt"

	"github.com/calldir/calldir/compiler"
)

// RawReport is the outcome of checking raw lists with the compile front end.
type RawReport struct {
	Files     int       `json:"files"`
	Lines     int64     `json:"lines"`
	Accepted  int64     `json:"accepted"`
	Rejected  int64     `json:"rejected"`
	Conflicts int64     `json:"label_conflicts,omitempty"`
	Findings  []Finding `json:"findings"`
}

// Raw runs the compile front end over opts' sources and allowlists without
// writing anything, and returns every rejected line as a finding. The error
// is for inputs that cannot be read at all (exit 2).
func Raw(ctx context.Context, opts compiler.Options) (*RawReport, error) {
	r := &RawReport{Findings: []Finding{}}
	opts.OnReject = func(rj compiler.Reject) {
		r.Findings = append(r.Findings, Finding{
			Kind: KindReject, File: rj.Source, Line: rj.Line, Reason: rj.Reason.String(), Raw: rj.Raw,
			Message: fmt.Sprintf("%s: %q (%s)", rj.Reason, rj.Raw, rj.Reason.Help()),
		})
	}
	res, err := compiler.Compile(ctx, opts)
	if err != nil {
		return nil, err
	}
	defer res.Close() // its spill files
	r.Files = len(res.Inputs)
	for _, in := range res.Inputs {
		r.Lines += in.Lines
		r.Accepted += in.Accepted
		r.Rejected += in.Rejected
	}
	r.Conflicts = res.Totals.LabelConflicts
	Sort(r.Findings)
	return r, nil
}
