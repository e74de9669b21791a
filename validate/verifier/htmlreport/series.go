package htmlreport

import (
	"bytes"
	"fmt"
	"html/template"
	"io"
	"strings"
)

// SeriesPage is a page of plots over a common x axis (a fleet
// simulation's days, its phones) rather than a replay's steps: for
// reports of commands other than replay (calldir fleet --report). It
// carries the same Marker, so that IsReport recognises it.
type SeriesPage struct {
	Title, Tool string
	Summary     [][2]string // key, value
	Findings    []string    // each finding's line; none: the page says so
	Charts      []Chart
}

// Chart is one plot: lines of one value per x position.
type Chart struct {
	Title  string
	XLabel string // what an x position is ("day", "phone")
	Bytes  bool   // the values are byte counts
	Lines  []Line
}

// Line is one series of a Chart.
type Line struct {
	Label  string
	Values []float64
}

// WriteSeries renders p as one self-contained HTML page (inline CSS and
// SVG, no script) into w.
func WriteSeries(w io.Writer, p SeriesPage) error {
	v := struct {
		Marker      template.HTML
		Title, Tool string
		Summary     [][2]string
		Findings    []string
		Charts      []template.HTML
	}{Marker: template.HTML(Marker), Title: p.Title, Tool: p.Tool, Summary: p.Summary, Findings: p.Findings}
	for _, c := range p.Charts {
		v.Charts = append(v.Charts, chart(c))
	}
	var buf bytes.Buffer
	if err := seriesPage.Execute(&buf, v); err != nil {
		return fmt.Errorf("html report: %w", err)
	}
	_, err := w.Write(buf.Bytes())
	return err
}

var seriesPage = template.Must(template.New("series").Parse(`<!DOCTYPE html>
{{.Marker}}
<html lang="en"><head><meta charset="utf-8"><title>{{.Title}}</title>
<style>body{font:14px system-ui,sans-serif;max-width:1000px;margin:2em auto;color:#222}
table{border-collapse:collapse}td{padding:2px 12px 2px 0}svg{width:100%;height:auto}
.bad{color:#b00}.ok{color:#070}polyline{fill:none;stroke-width:1.6}
.s0{stroke:#1f77b4}.s1{stroke:#d62728}.s2{stroke:#2ca02c}.s3{stroke:#9467bd}
text{font-size:11px;fill:#555}line.grid{stroke:#ddd}</style></head><body>
<h1>{{.Title}}</h1>
<table>{{range .Summary}}<tr><td>{{index . 0}}</td><td>{{index . 1}}</td></tr>{{end}}</table>
<h2>Violations</h2>
{{if .Findings}}<ul class="bad">{{range .Findings}}<li>{{.}}</li>{{end}}</ul>{{else}}<p class="ok">none</p>{{end}}
{{range .Charts}}{{.}}{{end}}
<p><small>{{.Tool}}</small></p>
</body></html>
`))

// chart draws one Chart as an SVG with the replay plots' geometry and
// axis rules; each polyline carries its values in data-values.
func chart(c Chart) template.HTML {
	u := count
	if c.Bytes {
		u = byteCount
	}
	n, maxV := 0, 0.0
	for _, l := range c.Lines {
		n = max(n, len(l.Values))
		for _, v := range l.Values {
			maxV = max(maxV, v)
		}
	}
	top, step, scale := axis(maxV, u)
	var b strings.Builder
	fmt.Fprintf(&b, "<h2>%s</h2>\n<svg viewBox=\"0 0 %d %d\" role=\"img\">\n", template.HTMLEscapeString(c.Title), plotWidth, plotHeight)
	for v := 0.0; v <= top+step/2; v += step {
		y := yAt(v, top)
		fmt.Fprintf(&b, "<line class=\"grid\" x1=\"%d\" x2=\"%d\" y1=\"%s\" y2=\"%s\"/><text x=\"%d\" y=\"%s\" text-anchor=\"end\">%s</text>\n",
			plotLeft, plotRight, num(y), num(y), plotLeft-6, num(y+4), template.HTMLEscapeString(tickLabel(v, scale, u)))
	}
	for i := 0; i < n; i++ {
		if n <= 20 || i%((n+19)/20) == 0 {
			fmt.Fprintf(&b, "<text x=\"%s\" y=\"%d\" text-anchor=\"middle\">%d</text>\n", num(xAt(i, n)), plotHeight-8, i)
		}
	}
	for k, l := range c.Lines {
		var pts, vals []string
		for i, v := range l.Values {
			pts = append(pts, num(xAt(i, n))+","+num(yAt(v, top)))
			vals = append(vals, fmt.Sprint(v))
		}
		fmt.Fprintf(&b, "<polyline class=\"s%d\" data-series=\"%s\" data-values=\"%s\" points=\"%s\"/>\n", k%4, template.HTMLEscapeString(l.Label), strings.Join(vals, " "), strings.Join(pts, " "))
		fmt.Fprintf(&b, "<text x=\"%d\" y=\"%d\" class=\"s%d\">%s</text>\n", plotLeft+10+k*220, plotTop-12, k%4, template.HTMLEscapeString("— "+l.Label))
	}
	fmt.Fprintf(&b, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%s</text>\n</svg>\n", plotRight, plotHeight-8, template.HTMLEscapeString(c.XLabel))
	return template.HTML(b.String())
}
