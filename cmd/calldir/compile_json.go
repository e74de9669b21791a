package main

import (
	"encoding/json"
	"errors"
	"io"

	"github.com/calldir/calldir/compiler"
	"github.com/calldir/calldir/e164"
	"github.com/urfave/cli/v2"
)

// opsOpts are compile's options for scheduled jobs (docs/OPS.md): the
// protect lists (--protect, [[protect]]) and --format json.
type opsOpts struct {
	protect       cli.StringSlice   // --protect FILE, repeatable
	format        string            // --format: text or json
	configProtect []compiler.Source // [[protect]] of --config
}

const (
	protectUsage = "protect list `FILE`: numbers, and a text list's patterns and ranges, that must never be blocked; a build that would block one is refused (exit 2) (repeatable)"
	formatUsage  = "summary `FORMAT`: text (on stderr) or json (one object on stdout, the text summary still on stderr)"
)

// fromConfig takes the [[protect]] tables of a configuration: a path or
// glob relative to it, with a [[source]]'s keys for how to read it, as
// [[allow]] is given. A label is never read (the compiler reads a
// protect list's numbers only) and a register's keys are refused with
// the register itself.
func (p *opsOpts) fromConfig(f *configFile, list []configSource, o *compileOpts) error {
	for i, s := range list {
		if s.URL != "" || s.SHA256 != "" || s.Optional {
			key := map[bool]string{true: "url", false: "optional"}[s.URL != ""]
			if s.SHA256 != "" && s.URL == "" {
				key = "sha256"
			}
			return f.bad("protect", i, key, "a protect list is a file in the project, never fetched: the numbers that must never be blocked cannot depend on a server")
		}
		if err := f.checkSource(s, "protect", i); err != nil {
			return err
		}
	}
	srcs, err := f.expand("protect", list, o.kind)
	if err != nil {
		return err
	}
	for _, s := range srcs {
		cs, err := o.sourceFrom(s)
		if err != nil {
			return usageError{&configError{file: f.path, msg: err.Error()}}
		}
		p.configProtect = append(p.configProtect, cs)
	}
	return nil
}

// prepare checks --format and gives the job its protect lists: --protect
// FILE read as --allow FILE is (the command's --input-format and
// --column), then the configuration's.
func (p *opsOpts) prepare(job *compiler.Job, o *compileOpts) error {
	switch p.format {
	case "text", "json":
	default:
		return usagef("--format %q: want text or json", p.format)
	}
	format, err := compiler.ParseFormat(o.format)
	if err != nil {
		return usageError{err}
	}
	for _, path := range p.protect.Value() {
		job.Protect = append(job.Protect, compiler.Source{Path: path, Format: format, Column: o.column})
	}
	job.Protect = append(job.Protect, p.configProtect...)
	return nil
}

// compileSummary is what compile --format json prints on stdout: one
// object, whether the build was written or refused. Its fields are
// documented in docs/OPS.md; keep them stable.
type compileSummary struct {
	OK         bool   `json:"ok"`              // the build (and every other output) was written
	ExitStatus int    `json:"exit_status"`     // calldir's exit status (the EXIT STATUS table)
	Error      string `json:"error,omitempty"` // why not, when not ok
	Kind       string `json:"kind"`            // block or identify
	Out        string `json:"out"`             // the build directory
	// BuildID is the manifest's build_id; empty when nothing was written.
	BuildID string `json:"build_id,omitempty"`
	// Inputs are the sources, then the allowlists, as the manifest has
	// them; empty when the build was refused.
	Inputs []summaryInput `json:"inputs"`
	// Fetched are the sources given by URL, as fetched (or left out) for
	// this run, in the configuration's order.
	Fetched []summaryFetched `json:"fetched,omitempty"`
	// Protect are the protect lists the build was checked against.
	Protect  []string      `json:"protect"`
	Totals   *summaryTotal `json:"totals,omitempty"`
	Patterns int           `json:"patterns"` // patterns and ranges blocked
	// Outputs are what was written, build first; empty when not ok.
	Outputs []summaryOutput `json:"outputs"`
	// Protected are the first protected numbers a refused build would
	// block, and ProtectedCount all of them.
	Protected      []summaryProtected `json:"protected,omitempty"`
	ProtectedCount int64              `json:"protected_count,omitempty"`
}

// summaryInput is one input: what it held and what became of its lines.
type summaryInput struct {
	Path        string           `json:"path"`
	Role        string           `json:"role"`   // source or allow
	Format      string           `json:"format"` // text, csv, tsv, ranges (+gzip)
	SHA256      string           `json:"sha256"`
	Lines       int64            `json:"lines"` // candidate lines: accepted + rejected
	Accepted    int64            `json:"accepted"`
	Rejected    int64            `json:"rejected"`
	Reasons     map[string]int64 `json:"rejected_by_reason,omitempty"`
	Duplicates  int64            `json:"duplicates"`                // sources: repeats within the source
	Across      int64            `json:"duplicates_across_sources"` // sources: also in an earlier source
	Allowlisted int64            `json:"allowlisted"`               // sources: removed by the allowlist
	Patterns    int64            `json:"patterns"`                  // accepted lines that were patterns or ranges
	Entries     int64            `json:"entries"`                   // sources: numbers it brought into the build
}

// summaryFetched is one source given by URL.
type summaryFetched struct {
	URL       string `json:"url"`
	SHA256    string `json:"sha256,omitempty"`
	Bytes     int64  `json:"bytes,omitempty"`
	FetchedAt string `json:"fetched_at,omitempty"` // RFC 3339: when the server last gave or confirmed the body
	From      string `json:"from,omitempty"`       // network, not-modified (revalidated cache) or cache (--offline)
	LeftOut   string `json:"left_out,omitempty"`   // an optional source that failed: why
	Failed    string `json:"failed,omitempty"`     // a source that failed the build (exit 3): why
}

// summaryTotal sums the build up, as the manifest's totals do.
type summaryTotal struct {
	Lines          int64 `json:"lines"` // every input's, allowlists too
	Accepted       int64 `json:"accepted"`
	Rejected       int64 `json:"rejected"`
	Duplicates     int64 `json:"duplicates"`
	Allowlisted    int64 `json:"allowlisted"`
	LabelConflicts int64 `json:"label_conflicts"`
	Entries        int64 `json:"entries"`
	Shards         int   `json:"shards"`
}

// summaryOutput is one output written: role build, delta, live-lookup,
// rejects or conflicts, and its path.
type summaryOutput struct {
	Role string `json:"role"`
	Path string `json:"path"`
}

// summaryProtected is one protected number a build would block.
type summaryProtected struct {
	Number         string `json:"number"` // E.164, with +
	Source         string `json:"source"` // the list (or pattern's file) that brought it; "-" for stdin, "" when not found again
	Line           int64  `json:"line,omitempty"`
	Pattern        string `json:"pattern,omitempty"` // the blocked pattern or range that holds it
	ProtectSource  string `json:"protect_source"`
	ProtectLine    int64  `json:"protect_line"`
	ProtectPattern string `json:"protect_pattern,omitempty"`
}

// report prints the JSON summary of a compile that returned out and err,
// when --format json asked for it, and returns err (or, when the compile
// succeeded, the failure to print).
func (p *opsOpts) report(w io.Writer, o *compileOpts, job *compiler.Job, out *compiler.Outcome, err error) error {
	if p.format != "json" {
		return err
	}
	s := compileSummary{OK: err == nil, ExitStatus: exitCode(err), Kind: job.Kind.String(), Out: o.out,
		Inputs: []summaryInput{}, Protect: []string{}, Outputs: []summaryOutput{}}
	for _, src := range job.Protect {
		s.Protect = append(s.Protect, src.Path)
	}
	if err != nil {
		s.Error = err.Error()
	}
	s.Fetched = o.urls.fetched
	var pe *compiler.ProtectedError
	if errors.As(err, &pe) {
		s.ProtectedCount = pe.Count
		for _, n := range pe.Numbers {
			s.Protected = append(s.Protected, summaryProtected{Number: e164.Format(n.Number), Source: n.Source, Line: n.Line, Pattern: n.Pattern,
				ProtectSource: n.ProtectSource, ProtectLine: n.ProtectLine, ProtectPattern: n.ProtectPattern})
		}
	}
	if out != nil && err == nil {
		s.BuildID = out.Manifest.BuildID
		for _, in := range out.Inputs {
			s.Inputs = append(s.Inputs, summaryInput{Path: in.Path, Role: in.Role, Format: in.Format, SHA256: in.SHA256,
				Lines: in.Lines, Accepted: in.Accepted, Rejected: in.Rejected, Reasons: in.Reasons, Duplicates: in.Duplicates,
				Across: in.Across, Allowlisted: in.Allowlisted, Patterns: in.Patterns, Entries: in.Entries})
		}
		t := out.Totals
		s.Totals = &summaryTotal{Lines: t.Lines, Accepted: t.Accepted, Rejected: t.Rejected, Duplicates: t.Duplicates,
			Allowlisted: t.Allowlisted, LabelConflicts: t.LabelConflicts, Entries: t.Entries, Shards: len(out.Manifest.Shards)}
		s.Patterns = len(out.Patterns)
		s.Outputs = append(s.Outputs, summaryOutput{"build", o.out})
		if out.Delta != nil {
			s.Outputs = append(s.Outputs, summaryOutput{"delta", o.delta})
		}
		if out.Live != nil {
			s.Outputs = append(s.Outputs, summaryOutput{"live-lookup", o.live.out})
		}
		for _, r := range job.Reports {
			if r.Path != "" {
				s.Outputs = append(s.Outputs, summaryOutput{r.Role, r.Path})
			}
		}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if werr := enc.Encode(s); err == nil {
		return werr
	}
	return err
}
