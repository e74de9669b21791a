package htmlreport

import (
	"fmt"
	"html/template"
	"strings"
)

// The timeline's geometry, in the plots' x coordinates so that a step
// lines up with its points below.
const (
	timelineHeight = 86
	stripTop       = 26 // the strip of one cell per step
	stripBottom    = 44
	bandTop        = 50 // where the steps came from (delta 1, delta 2, …)
	bandBottom     = 64
	// The width of a band label's character, estimated (11px system
	// sans-serif), so that labels are skipped rather than overlap.
	labelCharWidth = 6.5
)

// timeline draws the replay as a strip of one cell per step, green when
// ok and red for a finding, with the findings flagged by their step
// number above the strip, and below it the bands of consecutive steps
// that share a tag (a delta, a maintenance).
func timeline(steps []stepRow, findings []finding) template.HTML {
	var b strings.Builder
	n := len(steps)
	fmt.Fprintf(&b, `<svg class="timeline" id="timeline" viewBox="0 0 %d %d" role="img" aria-label="timeline">`, plotWidth, timelineHeight)
	fmt.Fprintf(&b, `<text class="title" x="%d" y="14">Timeline</text>`, plotLeft)
	fmt.Fprintf(&b, `<text class="tick" x="%d" y="%d" text-anchor="end">steps</text>`, plotLeft-6, stripBottom-4)
	w := 0.0
	if n > 0 {
		w = float64(plotRight-plotLeft) / float64(n)
	}
	for i, s := range steps {
		class := "ok"
		if s.Finding {
			class = "bad"
		}
		tip := fmt.Sprintf("step %d: %s: %s", s.N, s.Step, s.Outcome)
		if s.Outcome.Detail != "" {
			tip += ": " + s.Outcome.Detail
		}
		fmt.Fprintf(&b, `<rect class="cell %s" data-step="%d" data-outcome="%s" x="%s" y="%d" width="%s" height="%d"><title>%s</title></rect>`,
			class, s.N, template.HTMLEscapeString(s.Outcome.Class), num(xAt(i, n)-w/2), stripTop, num(w), stripBottom-stripTop, template.HTMLEscapeString(tip))
	}
	for _, f := range findings {
		x := num(plotRight)
		label := "end"
		if f.Step > 0 {
			x, label = num(xAt(f.Step-1, n)), fmt.Sprint(f.Step)
		}
		fmt.Fprintf(&b, `<a href="#finding-%d"><g class="flag" data-step="%d"><line x1="%s" x2="%s" y1="%d" y2="%d"/><text x="%s" y="%d" text-anchor="middle">%s</text><title>%s</title></g></a>`,
			f.Step, f.Step, x, x, stripTop-8, stripBottom, x, stripTop-10, label, template.HTMLEscapeString(f.title()))
	}
	bands(&b, steps, w)
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// bands shades runs of steps with the same tag, alternately, and labels
// those whose label does not overlap the previous one.
func bands(b *strings.Builder, steps []stepRow, w float64) {
	type run struct {
		tag         string
		first, last int
	}
	var runs []run
	for i, s := range steps {
		if s.Tag == "" {
			continue
		}
		if k := len(runs) - 1; k >= 0 && runs[k].tag == s.Tag && runs[k].last == i-1 {
			runs[k].last = i
			continue
		}
		runs = append(runs, run{s.Tag, i, i})
	}
	if len(runs) == 0 {
		return
	}
	fmt.Fprintf(b, `<text class="tick" x="%d" y="%d" text-anchor="end">from</text>`, plotLeft-6, bandBottom-3)
	n := len(steps)
	free := 0.0 // where the next label may start
	for k, r := range runs {
		x0 := xAt(r.first, n) - w/2
		x1 := xAt(r.last, n) + w/2
		fmt.Fprintf(b, `<rect class="band b%d" data-tag="%s" x="%s" y="%d" width="%s" height="%d"><title>%s: steps %d–%d</title></rect>`,
			k%2, template.HTMLEscapeString(r.tag), num(x0), bandTop, num(x1-x0), bandBottom-bandTop, template.HTMLEscapeString(r.tag), r.first+1, r.last+1)
		if end := x0 + labelCharWidth*float64(len(r.tag)); x0 >= free && end <= plotWidth {
			free = end + 2*labelCharWidth
			fmt.Fprintf(b, `<text class="band-label" x="%s" y="%d">%s</text>`, num(x0), bandBottom+14, template.HTMLEscapeString(r.tag))
		}
	}
}
