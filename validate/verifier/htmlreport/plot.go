package htmlreport

import (
	"fmt"
	"html/template"
	"math"
	"strconv"
	"strings"

	"github.com/calldir/calldir/validate/verifier"
)

// The geometry of every plot, in SVG user units (the page scales the SVG
// to its width): the plot area runs from plotLeft to plotRight and from
// plotTop (the axis maximum) down to plotBottom (zero).
const (
	plotWidth  = 960
	plotHeight = 190
	plotLeft   = 84
	plotRight  = plotWidth - 14
	plotTop    = 30
	plotBottom = plotHeight - 26
	// Up to this many steps each value also gets a dot: a polyline of one
	// or two points is hard to see.
	dotSteps = 120
)

// unit is how a plot's axis labels its values.
type unit int

const (
	count unit = iota
	byteCount
	millis
)

// series is one line of a plot.
type series struct {
	Key   string // the JSON name of the metric: data-series
	Label string
	Value func(verifier.StepReport) float64
}

type plotSpec struct {
	ID, Title string
	Unit      unit
	Series    []series
}

// plotSpecs are the plots, top to bottom.
var plotSpecs = []plotSpec{
	{ID: "rows", Title: "Rows", Unit: count, Series: []series{
		{"rows", "entries", func(s verifier.StepReport) float64 { return float64(s.Metrics.Rows) }},
		{"phone_numbers", "PhoneNumber rows", func(s verifier.StepReport) float64 { return float64(s.Metrics.PhoneNumbers) }},
	}},
	{ID: "file", Title: "File size", Unit: byteCount, Series: []series{
		{"file_bytes", "database file", func(s verifier.StepReport) float64 { return float64(s.Metrics.FileBytes) }},
	}},
	{ID: "free", Title: "Free pages", Unit: count, Series: []series{
		{"freelist_count", "free pages", func(s verifier.StepReport) float64 { return float64(s.Metrics.FreelistCount) }},
	}},
	{ID: "journal", Title: "Journal and WAL", Unit: byteCount, Series: []series{
		{"journal_bytes", "journal", func(s verifier.StepReport) float64 { return float64(s.Metrics.JournalBytes) }},
		{"wal_bytes", "WAL", func(s verifier.StepReport) float64 { return float64(s.Metrics.WALBytes) }},
	}},
	{ID: "time", Title: "Time per step", Unit: millis, Series: []series{
		{"ms", "milliseconds", func(s verifier.StepReport) float64 { return s.Millis }},
	}},
}

// xAt is the x of row i (0-based) of n: the middle of its slot.
func xAt(i, n int) float64 {
	return plotLeft + (float64(i)+0.5)*(plotRight-plotLeft)/float64(n)
}

// yAt is the y of value v on an axis from 0 to top.
func yAt(v, top float64) float64 {
	return plotBottom - v/top*(plotBottom-plotTop)
}

// num writes a coordinate to 0.01 of a unit, enough for the test to read
// a value back to 1/100 of a pixel.
func num(f float64) string { return strconv.FormatFloat(f, 'f', 2, 64) }

// axis picks the top of a value axis and its tick step: 1, 2 or 5 times a
// power of ten of the unit (bytes: of B, KiB, MiB or GiB), with about four
// ticks.
func axis(maxV float64, u unit) (top, step, scale float64) {
	scale = 1
	if u == byteCount {
		for scale < 1<<30 && maxV >= scale*1024 {
			scale *= 1024
		}
	}
	m := maxV / scale
	if m <= 0 {
		m = 1
	}
	raw := m / 4
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step = mag
	for _, f := range []float64{1, 2, 5, 10} {
		if f*mag >= raw {
			step = f * mag
			break
		}
	}
	if u != millis && step < 1 && scale == 1 {
		step = 1 // counts and bytes are whole
	}
	top = math.Ceil(m/step) * step
	return top * scale, step * scale, scale
}

// tickLabel writes an axis value in the plot's unit.
func tickLabel(v, scale float64, u unit) string {
	s := strconv.FormatFloat(v/scale, 'f', -1, 64)
	switch u {
	case byteCount:
		return s + " " + map[float64]string{1: "B", 1 << 10: "KiB", 1 << 20: "MiB", 1 << 30: "GiB"}[scale]
	case millis:
		return s + " ms"
	}
	return group(int64(v))
}

// plot draws one plot as an SVG element. Each polyline has one point per
// row, and carries the plotted values in data-values; the axis group
// carries the geometry (data-top is the value at plotTop, data-y0 and
// data-y1 the y of zero and of data-top), so that a reader (the test)
// can turn the points back into values.
func plot(spec plotSpec, steps []verifier.StepReport, findings []finding) template.HTML {
	var b strings.Builder
	n := len(steps)
	maxV := 0.0
	for _, s := range steps {
		for _, se := range spec.Series {
			maxV = max(maxV, se.Value(s))
		}
	}
	top, step, scale := axis(maxV, spec.Unit)
	fmt.Fprintf(&b, `<svg class="plot" id="plot-%s" data-plot="%s" viewBox="0 0 %d %d" role="img" aria-label="%s">`,
		spec.ID, spec.ID, plotWidth, plotHeight, template.HTMLEscapeString(spec.Title))
	fmt.Fprintf(&b, `<text class="title" x="%d" y="16">%s</text>`, plotLeft, template.HTMLEscapeString(spec.Title))
	legendX := float64(plotRight)
	for k := len(spec.Series) - 1; k >= 0; k-- {
		se := spec.Series[k]
		fmt.Fprintf(&b, `<text class="legend s%d" x="%s" y="16" text-anchor="end">■ %s</text>`, k, num(legendX), template.HTMLEscapeString(se.Label))
		legendX -= labelCharWidth*float64(len(se.Label)+2) + 18
	}
	fmt.Fprintf(&b, `<g class="axis" data-top="%s" data-y0="%s" data-y1="%s" data-x0="%d" data-x1="%d" data-steps="%d">`,
		strconv.FormatFloat(top, 'f', -1, 64), num(plotBottom), num(plotTop), plotLeft, plotRight, n)
	for v := 0.0; v <= top*(1+1e-9); v += step {
		y := num(yAt(v, top))
		fmt.Fprintf(&b, `<line class="grid" x1="%d" x2="%d" y1="%s" y2="%s"/><text class="tick" x="%d" y="%s" text-anchor="end" dy="4">%s</text>`,
			plotLeft, plotRight, y, y, plotLeft-6, y, tickLabel(v, scale, spec.Unit))
	}
	xTicks(&b, n)
	b.WriteString(`</g>`)
	if maxV == 0 {
		note := "0 after every step"
		if n == 0 {
			note = "no step finished"
		}
		fmt.Fprintf(&b, `<text class="flat" x="%d" y="%d" text-anchor="middle">%s</text>`, (plotLeft+plotRight)/2, (plotTop+plotBottom)/2, note)
	}
	markFindings(&b, findings, n)
	for k, se := range spec.Series {
		drawSeries(&b, k, se, steps, top)
	}
	fmt.Fprintf(&b, `<line class="cursor" x1="0" x2="0" y1="%d" y2="%d" visibility="hidden"/>`, plotTop, plotBottom)
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// drawSeries writes series k as a polyline, with dots when there are few
// rows.
func drawSeries(b *strings.Builder, k int, se series, steps []verifier.StepReport, top float64) {
	n := len(steps)
	pts := make([]string, n)
	vals := make([]string, n)
	for i, s := range steps {
		v := se.Value(s)
		pts[i] = num(xAt(i, n)) + "," + num(yAt(v, top))
		vals[i] = strconv.FormatFloat(v, 'f', -1, 64)
	}
	fmt.Fprintf(b, `<polyline class="series s%d" data-series="%s" data-values="%s" points="%s"/>`,
		k, se.Key, strings.Join(vals, " "), strings.Join(pts, " "))
	if n > dotSteps {
		return
	}
	fmt.Fprintf(b, `<g class="dots s%d">`, k)
	for _, p := range pts {
		x, y, _ := strings.Cut(p, ",")
		fmt.Fprintf(b, `<circle cx="%s" cy="%s" r="2.5"/>`, x, y)
	}
	b.WriteString(`</g>`)
}

// xTicks labels the step axis with row numbers (1-based) at a round
// interval, about ten labels at most.
func xTicks(b *strings.Builder, n int) {
	if n == 0 {
		return
	}
	every := 1
	for _, e := range []int{1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10000} {
		every = e
		if n/e <= 10 {
			break
		}
	}
	for i := 0; i < n; i++ {
		if (i+1)%every != 0 && i != 0 {
			continue
		}
		x := num(xAt(i, n))
		fmt.Fprintf(b, `<line class="xtick" x1="%s" x2="%s" y1="%d" y2="%d"/><text class="tick" x="%s" y="%d" text-anchor="middle">%d</text>`,
			x, x, plotBottom, plotBottom+4, x, plotBottom+16, i+1)
	}
}

// markFindings draws a vertical line at each finding's step (the right
// edge for the final checks), with its outcome and detail as a tooltip.
func markFindings(b *strings.Builder, findings []finding, n int) {
	if len(findings) == 0 {
		return
	}
	b.WriteString(`<g class="findings">`)
	for _, f := range findings {
		x := num(plotRight)
		if f.Step > 0 {
			x = num(xAt(f.Step-1, n))
		}
		fmt.Fprintf(b, `<line class="finding" data-step="%d" data-outcome="%s" x1="%s" x2="%s" y1="%d" y2="%d"><title>%s</title></line>`,
			f.Step, template.HTMLEscapeString(f.Class), x, x, plotTop-6, plotBottom, template.HTMLEscapeString(f.title()))
	}
	b.WriteString(`</g>`)
}

func (f finding) title() string {
	t := f.Where + ": " + f.Outcome
	if f.Detail != "" {
		t += ": " + f.Detail
	}
	return t
}
