// Package htmlreport renders a replay (a *verifier.Report) as one
// self-contained HTML file: `calldir replay --report FILE`.
//
//	Report ──► view (summary, findings, series) ──► page.html template
//	                                │
//	                                └─► SVG plots, drawn here in Go
//
// The page needs no network and no script: the plots are inline SVG whose
// elements carry the plotted numbers (data-* attributes), the CSS is inline
// and the fonts are the system's. A small inline script only adds a cursor
// that reads out every metric of the step under the mouse, from the data
// embedded as JSON in <script type="application/json" id="data">.
//
// The package imports the verifier for its types only; it never opens a
// database.
package htmlreport

import (
	"bytes"
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"strings"

	"github.com/calldir/calldir/validate/verifier"
)

// Marker is the comment on the second line of every report: the proof
// that a file at a --report path is one calldir wrote, and so may be
// replaced by the next one (see IsReport).
const Marker = "<!-- calldir replay report: written by calldir; a later report may replace this file -->"

// IsReport says whether head, the first bytes of a file (at least 512, or
// the whole file), begin like a report this package writes.
func IsReport(head []byte) bool {
	const doctype = "<!DOCTYPE html>\n"
	return bytes.HasPrefix(head, []byte(doctype+Marker+"\n"))
}

// Input is what a report shows.
type Input struct {
	Title  string // what was replayed: the command's arguments
	Tool   string // the program and its version, for the footer
	Report *verifier.Report
	// Settings are every setting as key=value (verifier.Settings.Pairs);
	// when empty, the report's own short form (the non-defaults) is shown.
	Settings []string
	// Tags are, by plan step index, where each step came from ("delta 3",
	// "maintenance after delta 7"; verifier.Step.Tag). Optional.
	Tags []string
	// Planned is the number of steps of the plan; with Interrupted, the
	// report says how many of them ran.
	Planned     int
	Interrupted bool // the replay was stopped: no final checks ran
}

//go:embed page.html
var pageText string

var page = template.Must(template.New("page").Funcs(template.FuncMap{
	"group": group,
	"bytes": bytesText,
	"ms":    func(v float64) string { return fmt.Sprintf("%.1f", v) },
	"inc":   func(i int) int { return i + 1 },
}).Parse(pageText))

// Write renders in as HTML into w.
func Write(w io.Writer, in Input) error {
	if in.Report == nil {
		return fmt.Errorf("html report: no replay report")
	}
	v := newView(in)
	var buf bytes.Buffer
	if err := page.Execute(&buf, v); err != nil {
		return fmt.Errorf("html report: %w", err)
	}
	_, err := w.Write(buf.Bytes())
	return err
}

// view is what the template reads.
type view struct {
	Marker      template.HTML
	Title, Tool string
	Settings    []string
	Summary     []pair
	Findings    []finding
	Timeline    template.HTML
	Plots       []template.HTML
	Steps       []stepRow
	Data        pageData
	Interrupted bool
	Outcome     string
	OK          bool
	// The plot geometry, for the script's cursor.
	Left, Right, Width int
}

type pair struct{ Key, Value string }

// finding is a step (or the end of the replay: Step 0) whose outcome is
// not ok.
type finding struct {
	Step    int // 1-based row number; 0 for the final checks
	Where   string
	Outcome string
	Class   string
	Detail  string
}

type stepRow struct {
	N   int
	Tag string
	verifier.StepReport
	Finding bool
}

// pageData is the JSON the script reads: one entry per row.
type pageData struct {
	Steps []dataStep `json:"steps"`
}

type dataStep struct {
	N       int              `json:"n"`
	Step    string           `json:"step"`
	Tag     string           `json:"tag,omitempty"`
	Outcome string           `json:"outcome"`
	Detail  string           `json:"detail,omitempty"`
	Stmts   int64            `json:"statements"`
	Metrics verifier.Metrics `json:"metrics"`
	Millis  float64          `json:"ms"`
}

func newView(in Input) *view {
	rep := in.Report
	tags := stepTags(rep.Steps, in.Tags)
	v := &view{
		Marker:      template.HTML(Marker),
		Title:       in.Title,
		Tool:        in.Tool,
		Settings:    in.Settings,
		Interrupted: in.Interrupted,
		Outcome:     rep.Outcome.String(),
		OK:          !rep.Outcome.Finding() && !in.Interrupted, // a rollback the settings allow is not a finding
		Left:        plotLeft,
		Right:       plotRight,
		Width:       plotWidth,
	}
	if len(v.Settings) == 0 {
		v.Settings = strings.Fields(rep.Settings)
	}
	for i, s := range rep.Steps {
		bad := isFinding(s.Outcome)
		v.Steps = append(v.Steps, stepRow{N: i + 1, Tag: tags[i], StepReport: s, Finding: bad})
		v.Data.Steps = append(v.Data.Steps, dataStep{N: i + 1, Step: s.Step, Tag: tags[i], Outcome: s.Outcome.String(),
			Detail: s.Outcome.Detail, Stmts: s.Statements, Metrics: s.Metrics, Millis: s.Millis})
		if bad {
			v.Findings = append(v.Findings, finding{Step: i + 1, Where: where(i+1, tags[i]), Outcome: s.Outcome.String(), Class: s.Outcome.Class, Detail: s.Outcome.Detail})
		}
	}
	if f, ok := finalFinding(rep, v.Findings); ok {
		v.Findings = append(v.Findings, f)
	}
	v.Summary = summary(in, len(v.Findings))
	v.Timeline = timeline(v.Steps, v.Findings)
	for _, spec := range plotSpecs {
		v.Plots = append(v.Plots, plot(spec, rep.Steps, v.Findings))
	}
	return v
}

// isFinding says whether a row's outcome is a finding. A kill replay's
// reopen row has no outcome (the verdict is the report's).
func isFinding(o verifier.Outcome) bool {
	return o.Class != "" && o.Finding()
}

// stepTags gives each row its plan step's tag. A row whose Index does not
// follow the previous row's is no plan step (a kill replay's reopen row,
// Index 0) and gets none.
func stepTags(steps []verifier.StepReport, tags []string) []string {
	out := make([]string, len(steps))
	prev := -1
	for i, s := range steps {
		if s.Index > prev && s.Index < len(tags) {
			out[i] = tags[s.Index]
			prev = s.Index
		}
	}
	return out
}

func where(n int, tag string) string {
	if tag == "" {
		return fmt.Sprintf("step %d", n)
	}
	return fmt.Sprintf("step %d (%s)", n, tag)
}

// finalFinding is the replay's outcome when no step row carries it: a
// failed integrity_check or foreign_key_check at the end, or a kill
// replay's verdict on the reopened database.
func finalFinding(rep *verifier.Report, found []finding) (finding, bool) {
	if !rep.Outcome.Finding() {
		return finding{}, false
	}
	for _, f := range found {
		if f.Class == rep.Outcome.Class && f.Detail == rep.Outcome.Detail {
			return finding{}, false
		}
	}
	return finding{Where: "end of the replay (final checks)", Outcome: rep.Outcome.String(), Class: rep.Outcome.Class, Detail: rep.Outcome.Detail}, true
}

// summary is the table at the top of the page.
func summary(in Input, findings int) []pair {
	rep := in.Report
	var total float64
	var peak verifier.Metrics
	for _, s := range rep.Steps {
		total += s.Millis
		peak.FileBytes = max(peak.FileBytes, s.Metrics.FileBytes)
		peak.FreelistCount = max(peak.FreelistCount, s.Metrics.FreelistCount)
		peak.JournalBytes = max(peak.JournalBytes, s.Metrics.JournalBytes)
		peak.WALBytes = max(peak.WALBytes, s.Metrics.WALBytes)
	}
	steps := group(int64(len(rep.Steps)))
	if in.Interrupted {
		steps = fmt.Sprintf("%s of %s (interrupted)", steps, group(int64(in.Planned)))
	}
	outcome := rep.Outcome.String()
	if in.Interrupted {
		outcome = "interrupted: the steps that finished are below"
	}
	out := []pair{
		{"outcome", outcome},
		{"findings", fmt.Sprint(findings)},
		{"steps", steps},
		{"SQL statements", group(rep.Statements)},
		{"time, all steps", duration(total)},
	}
	if n := len(rep.Steps); n > 0 {
		out = append(out, pair{"rows at the end", group(rep.Steps[n-1].Metrics.Rows)})
	}
	out = append(out,
		pair{"largest file", bytesText(peak.FileBytes)},
		pair{"most free pages", group(peak.FreelistCount)},
		pair{"largest journal", bytesText(peak.JournalBytes)},
		pair{"largest WAL", bytesText(peak.WALBytes)},
	)
	return append(out, finalChecks(in)...)
}

// finalChecks are the summary's lines on the checks after the last step.
func finalChecks(in Input) []pair {
	rep := in.Report
	switch {
	case in.Interrupted:
		return []pair{{"final checks", "not run (interrupted)"}}
	case rep.Kill != nil:
		k := rep.Kill
		kill := fmt.Sprintf("before statement %d of %d; reopened database: %s", k.At, k.Statements, k.State)
		if k.Then != "" {
			kill = fmt.Sprintf("before statement %d of %d, then %s; reopened database: %s", k.At, k.Statements, k.Then, k.State)
		}
		if !k.Killed {
			kill += " (never reached)"
		}
		return []pair{{"kill", kill}, {"integrity_check", rep.Integrity}, {"foreign_key_check", "not run (kill replay)"}}
	}
	fk := "ok"
	if rep.ForeignKeyViolations > 0 {
		fk = fmt.Sprintf("%d violations", rep.ForeignKeyViolations)
	}
	return []pair{{"integrity_check", rep.Integrity}, {"foreign_key_check", fk}}
}

// duration writes a time in milliseconds: "850.2 ms", "11.6 s".
func duration(ms float64) string {
	if ms >= 1000 {
		return fmt.Sprintf("%.1f s", ms/1000)
	}
	return fmt.Sprintf("%.1f ms", ms)
}

// group writes n with thousands separators: 1,234,567.
func group(n int64) string {
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// bytesText writes a byte count in binary units: 512 B, 12.0 KiB, 3.4 MiB
// (the page's script writes them the same way).
func bytesText(n int64) string {
	v, u := float64(n), 0
	for v >= 1024 && u < 3 {
		v, u = v/1024, u+1
	}
	if u == 0 {
		return fmt.Sprintf("%d B", n)
	}
	return fmt.Sprintf("%.1f %s", v, [...]string{"", "KiB", "MiB", "GiB"}[u])
}
