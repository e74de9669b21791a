package htmlreport

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/calldir/calldir/validate/verifier"
)

// sample is a replay of four rows: an armed helper, a failed load, a kill
// replay's reopen row (Index 0 again), and a final check that found the
// file malformed, an outcome no row carries.
func sample() Input {
	ok := verifier.Outcome{Class: verifier.ClassOK}
	m := func(rows int64) verifier.Metrics {
		return verifier.Metrics{Rows: rows, PhoneNumbers: rows + 3, PageCount: 10, FreelistCount: 2, FileBytes: 40960, JournalBytes: 512}
	}
	return Input{
		Title: "my.plan",
		Tool:  "calldir test",
		Report: &verifier.Report{
			Settings: "journal_mode=off",
			Steps: []verifier.StepReport{
				{Index: 0, Step: "busy", Outcome: verifier.Outcome{Class: verifier.ClassOK, Detail: "armed for the next step"}},
				{Index: 1, Step: "load a complete", Outcome: verifier.Outcome{Class: verifier.ClassCallKit, Code: 3, Detail: "1 is below 2"}, Statements: 7, Metrics: m(0), Millis: 1.5},
				{Index: 2, Step: "load a incremental", Outcome: ok, Statements: 9, Metrics: m(5000), Millis: 2.25},
				{Index: 0, Step: "reopen after the kill", Metrics: m(5000)},
			},
			Outcome:    verifier.Outcome{Class: verifier.ClassIntegrity, Code: 11, Detail: "after the kill: database disk image is malformed"},
			Integrity:  "database disk image is malformed",
			Statements: 16,
			Kill:       &verifier.KillReport{At: 12, Statements: 16, Killed: true, State: "malformed"},
		},
		Tags:    []string{"", "delta 1", "delta 2"},
		Planned: 3,
	}
}

func TestViewFindingsAndTags(t *testing.T) {
	v := newView(sample())
	var got []string
	for _, f := range v.Findings {
		got = append(got, fmt.Sprintf("%d %s %s", f.Step, f.Class, f.Where))
	}
	want := []string{"2 callkit-error step 2 (delta 1)", "0 integrity end of the replay (final checks)"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("findings %q, want %q", got, want)
	}
	var tags []string
	for _, s := range v.Steps {
		tags = append(tags, s.Tag)
	}
	if want := []string{"", "delta 1", "delta 2", ""}; fmt.Sprint(tags) != fmt.Sprint(want) {
		t.Errorf("tags %q, want %q (the reopen row is no plan step)", tags, want)
	}
	sum := map[string]string{}
	for _, p := range v.Summary {
		sum[p.Key] = p.Value
	}
	for k, want := range map[string]string{
		"findings": "2", "steps": "4", "SQL statements": "16", "time, all steps": "3.8 ms", "rows at the end": "5,000",
		"largest file": "40.0 KiB", "most free pages": "2", "largest journal": "512 B",
		"kill": "before statement 12 of 16; reopened database: malformed", "foreign_key_check": "not run (kill replay)",
	} {
		if sum[k] != want {
			t.Errorf("summary %s: %q, want %q", k, sum[k], want)
		}
	}
}

// The final checks' outcome is not listed twice when a step carries it.
func TestFinalFindingNotRepeated(t *testing.T) {
	in := sample()
	in.Report.Kill = nil
	in.Report.Outcome = in.Report.Steps[1].Outcome
	if v := newView(in); len(v.Findings) != 1 || v.Findings[0].Step != 2 {
		t.Errorf("findings %+v, want step 2's only", v.Findings)
	}
}

func TestWriteIsSelfContained(t *testing.T) {
	var b bytes.Buffer
	if err := Write(&b, sample()); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	if !IsReport(b.Bytes()) {
		t.Errorf("page does not begin with the marker: %.120q", page)
	}
	// Nothing is fetched: no URL but the page's own anchors.
	for _, bad := range []string{"http:", "https:", "//", "src=", "@import", "url("} {
		if i := strings.Index(stripComments(page), bad); i >= 0 && !(bad == "//" && jsComment(page, i)) {
			t.Errorf("page refers to something outside it: %q at %d: %.80q", bad, i, page[i:])
		}
	}
	for _, id := range []string{"plot-rows", "plot-file", "plot-free", "plot-journal", "plot-time", "timeline", "findings", "summary", "settings", "data"} {
		if !strings.Contains(page, `id="`+id+`"`) {
			t.Errorf("no element %s", id)
		}
	}
	if n := strings.Count(page, `class="finding"`); n != 2*len(plotSpecs) {
		t.Errorf("%d finding markers, want 2 per plot", n)
	}
}

// stripComments drops the marker comment, which names no resource.
func stripComments(s string) string { return strings.Replace(s, Marker, "", 1) }

// jsComment reports whether the "//" at i starts a comment line of the
// script (there are none today; kept for the check's honesty).
func jsComment(s string, i int) bool {
	line := s[strings.LastIndex(s[:i], "\n")+1 : i]
	return strings.TrimSpace(line) == ""
}

func TestIsReport(t *testing.T) {
	for _, c := range []struct {
		head string
		want bool
	}{
		{"<!DOCTYPE html>\n" + Marker + "\n<html>", true},
		{"", false},
		{"<!DOCTYPE html>\n<html>", false},
		{"<!doctype html>\n" + Marker + "\n", false},
		{Marker + "\n", false},
	} {
		if got := IsReport([]byte(c.head)); got != c.want {
			t.Errorf("IsReport(%.40q) = %v, want %v", c.head, got, c.want)
		}
	}
}

func TestAxis(t *testing.T) {
	for _, c := range []struct {
		max       float64
		u         unit
		top, step float64
	}{
		{0, count, 1, 1},
		{1, count, 1, 1},
		{3, count, 3, 1},
		{16_372, count, 20_000, 5_000},
		{995_328, byteCount, 1000 * 1024, 500 * 1024},
		{512, byteCount, 600, 200},
		{3 << 20, byteCount, 3 << 20, 1 << 20},
		{520, millis, 600, 200},
		{0.4, millis, 0.4, 0.1},
	} {
		top, step, _ := axis(c.max, c.u)
		if top != c.top || step != c.step {
			t.Errorf("axis(%v, %d) = %v, %v; want %v, %v", c.max, c.u, top, step, c.top, c.step)
		}
		if top < c.max {
			t.Errorf("axis(%v): top %v below the maximum", c.max, top)
		}
	}
}

var dataRE = regexp.MustCompile(`(?s)<script type="application/json" id="data">(.*?)</script>`)

// FuzzWrite: whatever the texts of a replay (a plan's step, a SQLite
// error's detail, a path), the page keeps its two script elements, its
// marker, and data that decodes back to the texts.
func FuzzWrite(f *testing.F) {
	f.Add("load a complete", "</script><script>alert(1)</script>", "delta 1", "<b>my.plan</b>")
	f.Add("x", "<!-- -->\u2028\u2029", "]]>", "\"'&")
	f.Fuzz(func(t *testing.T, step, detail, tag, title string) {
		in := sample()
		in.Title = title
		in.Tags[1] = tag
		in.Report.Steps[1].Step = step
		in.Report.Steps[1].Outcome.Detail = detail
		var b bytes.Buffer
		if err := Write(&b, in); err != nil {
			t.Fatal(err)
		}
		page := b.String()
		if !IsReport(b.Bytes()) || strings.Count(page, "<script") != 2 || strings.Count(page, "</script>") != 2 {
			t.Fatalf("page structure broken by %q %q %q %q", step, detail, tag, title)
		}
		m := dataRE.FindStringSubmatch(page)
		var data pageData
		if m == nil || json.Unmarshal([]byte(m[1]), &data) != nil || len(data.Steps) != 4 {
			t.Fatalf("data element: %v", m)
		}
		got := data.Steps[1]
		if utf8.ValidString(step) && utf8.ValidString(detail) && utf8.ValidString(tag) && (got.Step != step || got.Detail != detail || got.Tag != tag) {
			t.Errorf("data: %q %q %q, want %q %q %q", got.Step, got.Detail, got.Tag, step, detail, tag)
		}
	})
}
