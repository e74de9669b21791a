package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"image/png"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/calldir/calldir/compiler/bench/gen"
	"github.com/calldir/calldir/validate/verifier"
	"github.com/calldir/calldir/validate/verifier/htmlreport"
)

var pngOut = flag.String("png", "", "TestReplayReportInChromium: also screenshot the report of the 50-day chain into `FILE` (docs/replay-report.png)")

// chain is a delta chain written through the CLI: day 0's build and, for
// each later day, a build compiled with --base and the delta `calldir diff`
// writes between the two.
type chain struct {
	base, last string
	deltas     []string
}

// replayArgs are replay's arguments for the chain, maintenance weekly.
func (c chain) replayArgs() []string {
	return append([]string{"--maintenance-every", "7", "--target", c.last, c.base}, c.deltas...)
}

// writeChain writes days+1 daily lists of size lines from compiler/bench/gen (a
// sliding window over one generated list: each day 1% of the lines leave
// and 1% arrive, about 20% of them repeats and 1% bad lines, as in the
// generator), then compiles and diffs them in dir.
func writeChain(t *testing.T, dir string, days, size int) chain {
	t.Helper()
	step := size / 100
	var buf bytes.Buffer
	if err := gen.Lines(&buf, size+days*step, 50, gen.US); err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(buf.String(), "\n")
	per := strconv.Itoa(size * 7 / 20) // three extensions
	var c chain
	for d := 0; d <= days; d++ {
		list := mustWrite(t, filepath.Join(dir, fmt.Sprintf("day%02d.txt", d)), strings.Join(lines[d*step:d*step+size], ""))
		build := filepath.Join(dir, fmt.Sprintf("build%02d", d))
		if d == 0 {
			mustCLI(t, 0, "compile", "-q", "--max-per-shard", per, "-o", build, list)
			c.base, c.last = build, build
			continue
		}
		mustCLI(t, 0, "compile", "-q", "--base", c.last, "--max-per-shard", per, "-o", build, list)
		delta := filepath.Join(dir, fmt.Sprintf("delta%02d", d))
		mustCLI(t, 0, "diff", "-q", c.last, build, "--out", delta)
		c.deltas, c.last = append(c.deltas, delta), build
	}
	return c
}

// plotted is what a page shows of one plot: the axis geometry and, per
// series, the values it carries and its points.
type plotted struct {
	top, y0, y1, x0, x1 float64
	steps               int
	values, points      map[string][]string
	findings            []int // data-step of the finding markers
}

var (
	plotRE     = regexp.MustCompile(`(?s)<svg class="plot" id="plot-(\w+)".*?</svg>`)
	axisRE     = regexp.MustCompile(`<g class="axis" data-top="([^"]+)" data-y0="([^"]+)" data-y1="([^"]+)" data-x0="([^"]+)" data-x1="([^"]+)" data-steps="(\d+)"`)
	polylineRE = regexp.MustCompile(`<polyline class="series s\d" data-series="(\w+)" data-values="([^"]*)" points="([^"]*)"`)
	markerRE   = regexp.MustCompile(`<line class="finding" data-step="(\d+)"`)
	cellRE     = regexp.MustCompile(`<rect class="cell (ok|bad)" data-step="(\d+)"`)
)

// readPlots reads the plots of a page, as calldir wrote it or as a
// browser serialized its DOM.
func readPlots(t *testing.T, page string) map[string]plotted {
	t.Helper()
	out := map[string]plotted{}
	for _, m := range plotRE.FindAllStringSubmatch(page, -1) {
		a := axisRE.FindStringSubmatch(m[0])
		if a == nil {
			t.Fatalf("plot %s: no axis", m[1])
		}
		f := make([]float64, 5)
		for i := range f {
			f[i], _ = strconv.ParseFloat(a[i+1], 64)
		}
		p := plotted{top: f[0], y0: f[1], y1: f[2], x0: f[3], x1: f[4], values: map[string][]string{}, points: map[string][]string{}}
		p.steps, _ = strconv.Atoi(a[6])
		for _, s := range polylineRE.FindAllStringSubmatch(m[0], -1) {
			p.values[s[1]], p.points[s[1]] = strings.Fields(s[2]), strings.Fields(s[3])
		}
		for _, s := range markerRE.FindAllStringSubmatch(m[0], -1) {
			n, _ := strconv.Atoi(s[1])
			p.findings = append(p.findings, n)
		}
		out[m[1]] = p
	}
	return out
}

// metricSeries are the series of each plot and the report's numbers they
// must show.
var metricSeries = map[string]map[string]func(verifier.StepReport) float64{
	"rows": {
		"rows":          func(s verifier.StepReport) float64 { return float64(s.Metrics.Rows) },
		"phone_numbers": func(s verifier.StepReport) float64 { return float64(s.Metrics.PhoneNumbers) },
	},
	"file":    {"file_bytes": func(s verifier.StepReport) float64 { return float64(s.Metrics.FileBytes) }},
	"free":    {"freelist_count": func(s verifier.StepReport) float64 { return float64(s.Metrics.FreelistCount) }},
	"journal": {"journal_bytes": func(s verifier.StepReport) float64 { return float64(s.Metrics.JournalBytes) }, "wal_bytes": func(s verifier.StepReport) float64 { return float64(s.Metrics.WALBytes) }},
	"time":    {"ms": func(s verifier.StepReport) float64 { return s.Millis }},
}

// checkPlots requires the page's plots to show rep: every series one value
// per step, equal to the report's, at a point whose x is the step's slot
// and whose y, read back through the axis, is the value; a finding marker
// at every step that did not end ok and at no other.
func checkPlots(t *testing.T, page string, rep *verifier.Report) {
	t.Helper()
	plots := readPlots(t, page)
	if len(plots) != len(metricSeries) {
		t.Fatalf("%d plots, want %d", len(plots), len(metricSeries))
	}
	n := len(rep.Steps)
	var bad []int
	for i, s := range rep.Steps {
		if s.Outcome.Class != verifier.ClassOK && s.Outcome.Class != "" { // a kill's reopen row has none
			bad = append(bad, i+1)
		}
	}
	for id, series := range metricSeries {
		p, ok := plots[id]
		if !ok || p.steps != n {
			t.Fatalf("plot %s: present %v, %d steps, want %d", id, ok, p.steps, n)
		}
		if fmt.Sprint(p.findings) != fmt.Sprint(bad) && !(len(p.findings) == 0 && len(bad) == 0) {
			t.Errorf("plot %s: finding markers at %v, want %v", id, p.findings, bad)
		}
		for key, value := range series {
			vals, pts := p.values[key], p.points[key]
			if len(vals) != n || len(pts) != n {
				t.Fatalf("plot %s series %s: %d values and %d points, want %d", id, key, len(vals), len(pts), n)
			}
			for i, s := range rep.Steps {
				want := value(s)
				got, err := strconv.ParseFloat(vals[i], 64)
				if err != nil || got != want {
					t.Fatalf("plot %s series %s step %d: data-values has %s, the report %v", id, key, i+1, vals[i], want)
				}
				x, y, _ := strings.Cut(pts[i], ",")
				px, _ := strconv.ParseFloat(x, 64)
				py, _ := strconv.ParseFloat(y, 64)
				back := (p.y0 - py) / (p.y0 - p.y1) * p.top
				if wantX := p.x0 + (float64(i)+0.5)*(p.x1-p.x0)/float64(n); math.Abs(px-wantX) > 0.01 || math.Abs(back-want) > p.top/(p.y0-p.y1)*0.01 {
					t.Fatalf("plot %s series %s step %d: point %s reads back as x %.2f (want %.2f), value %.3f (want %v)", id, key, i+1, pts[i], px, wantX, back, want)
				}
			}
		}
	}
	cells := cellRE.FindAllStringSubmatch(page, -1)
	if len(cells) != n {
		t.Fatalf("timeline: %d cells, want %d", len(cells), n)
	}
	for i, c := range cells {
		if want := map[bool]string{true: "ok", false: "bad"}[!slices.Contains(bad, i+1)]; c[1] != want || c[2] != strconv.Itoa(i+1) {
			t.Errorf("timeline cell %d: %s step %s, want %s step %d", i, c[1], c[2], want, i+1)
		}
	}
}

// replayWithReport runs replay --format json --report page and returns the
// report the CLI printed and the page it wrote.
func replayWithReport(t *testing.T, want int, page string, args ...string) (*verifier.Report, string) {
	t.Helper()
	out, _ := mustCLI(t, want, append([]string{"replay", "--format", "json", "--report", page}, args...)...)
	var rep verifier.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("replay's JSON: %v", err)
	}
	return &rep, mustRead(t, page)
}

// TestReplayReportPlots: the page replay --report writes plots exactly
// the numbers of the replay, for a delta chain and for a plan whose step
// fails.
func TestReplayReportPlots(t *testing.T) {
	dir := t.TempDir()
	c := writeChain(t, dir, 4, 1000)
	rep, page := replayWithReport(t, 0, filepath.Join(dir, "chain.html"), c.replayArgs()...)
	if len(rep.Steps) < 6 {
		t.Fatalf("%d steps, want a load per extension per delta", len(rep.Steps))
	}
	checkPlots(t, page, rep)
	if !strings.Contains(page, `data-tag="delta 4"`) || !strings.Contains(page, "None: every step ended ok") {
		t.Error("chain page: no band for delta 4, or findings shown")
	}
	plan := filepath.Join("..", "..", "fixtures", "plans", "incremental-after-load-fails.plan")
	rep, page = replayWithReport(t, 1, filepath.Join(dir, "fails.html"), plan)
	checkPlots(t, page, rep)
	if !strings.Contains(page, `<tr class="bad" id="finding-2" data-step="2">`) || !strings.Contains(page, "loaded extension left with zero rows") {
		t.Errorf("the finding of step 2 is not listed:\n%s", page)
	}
}

// chromium finds Chromium, or skips the test.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("Chromium is not installed (Debian: apt-get install chromium): the report's rendering in a browser is not checked")
	return ""
}

// runChromium opens page in headless Chromium with flags and returns what
// it printed. The profile is a fresh directory, and the browser's own
// network traffic (updates, first-run) is off.
func runChromium(t *testing.T, bin, page string, flags ...string) string {
	t.Helper()
	abs, err := filepath.Abs(page)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	args := []string{"--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--user-data-dir=" + t.TempDir()}
	cmd := exec.CommandContext(ctx, bin, append(append(args, flags...), "file://"+abs)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium %s: %v\n%s", strings.Join(flags, " "), err, errb.String())
	}
	return out.String()
}

// checkScreenshot requires a PNG of the given size in which the plots'
// lines (the first series' blue) and the timeline's ok cells (green) were
// painted.
func checkScreenshot(t *testing.T, path string, w, h int) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if b := img.Bounds(); b.Dx() != w || b.Dy() != h {
		t.Fatalf("screenshot: %v, want %dx%d", b, w, h)
	}
	near := func(r, g, b uint32, want [3]uint32) bool {
		d := func(a, b uint32) uint32 { return max(a, b) - min(a, b) }
		return d(r>>8, want[0])+d(g>>8, want[1])+d(b>>8, want[2]) < 40
	}
	blue, green := 0, 0
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			r, g, b, _ := img.At(x, y).RGBA()
			if near(r, g, b, [3]uint32{0x1f, 0x6f, 0xeb}) {
				blue++
			}
			if near(r, g, b, [3]uint32{0x4f, 0xbf, 0x6a}) {
				green++
			}
		}
	}
	if blue < 500 || green < 2000 {
		t.Errorf("screenshot: %d blue (series) and %d green (timeline) pixels: the plots were not painted", blue, green)
	}
}

// The screenshot's size: the whole page at a laptop's width.
const shotWidth, shotHeight = 1100, 1900

// TestReplayReportInChromium: headless Chromium opens the report of a
// delta chain, runs its script and lays it out; the plots in its DOM show
// the replay's numbers, and a screenshot has the plots painted. The
// 50-day chain with -tags long or -png FILE (which also keeps the
// screenshot: go test ./cmd/calldir -run TestReplayReportInChromium -args
// -png ../../docs/replay-report.png), 6 days otherwise.
func TestReplayReportInChromium(t *testing.T) {
	bin := chromium(t)
	days, size := 6, 1000
	if long || *pngOut != "" {
		days, size = 50, 20_000
	}
	pngPath, err := filepath.Abs(*pngOut) // before the Chdir: relative to cmd/calldir
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	t.Chdir(dir) // relative paths: the page's title names build00, not the temporary directory
	c := writeChain(t, ".", days, size)
	rep, _ := replayWithReport(t, 0, "chain.html", c.replayArgs()...)
	// One browser run both serializes the DOM, after the script, and
	// paints the screenshot: each start costs seconds.
	shot := filepath.Join(dir, "report.png")
	dom := runChromium(t, bin, "chain.html", "--dump-dom", "--screenshot="+shot, fmt.Sprintf("--window-size=%d,%d", shotWidth, shotHeight))
	if !strings.Contains(dom, `<html lang="en" data-script="ready">`) {
		t.Fatalf("the page's script did not run to its end:\n%.2000s", dom)
	}
	last := rep.Steps[len(rep.Steps)-1]
	readout := regexp.MustCompile(`<div id="readout" aria-live="polite" data-step="(\d+)">([^<]*)</div>`).FindStringSubmatch(dom)
	if readout == nil || readout[1] != strconv.Itoa(len(rep.Steps)) || !strings.Contains(readout[2], "rows "+group(last.Metrics.Rows)) {
		t.Errorf("readout: %q, want the last step's", readout)
	}
	checkPlots(t, dom, rep)
	checkScreenshot(t, shot, shotWidth, shotHeight)
	if *pngOut != "" {
		if err := os.WriteFile(pngPath, []byte(mustRead(t, shot)), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s: %d steps, %d deltas", pngPath, len(rep.Steps), days)
	}
}

// TestReplayReportPathGuard: --report writes a new path, or replaces an
// empty file or a report calldir wrote, atomically; it refuses a user's
// file (a symlink's target included) and a directory, writes through a
// device, and leaves every other file byte-identical, with no temporary
// file behind. An interrupted replay still writes the steps it finished.
func TestReplayReportPathGuard(t *testing.T) {
	plan, err := filepath.Abs(filepath.Join("..", "..", "fixtures", "plans", "out-of-order.plan"))
	if err != nil {
		t.Fatal(err)
	}
	isReport := func(t *testing.T, path string) {
		t.Helper()
		if page := mustRead(t, path); !htmlreport.IsReport([]byte(page)) || !strings.Contains(page, "CallKit error 3") {
			t.Errorf("%s: not the replay's report: %.200q", path, page)
		}
	}
	refused := func(t *testing.T, dir, report, why string) {
		t.Helper()
		before := snapshotTree(t, dir)
		code, _, stderr := runCLI(t, "", "replay", "--report", report, plan)
		if code != 2 || !strings.Contains(stderr, why) {
			t.Errorf("exit %d, want 2 with %q: %s", code, why, stderr)
		}
		assertSameTree(t, dir, before)
	}
	t.Run("new path, then its own report replaced", func(t *testing.T) {
		dir := t.TempDir()
		mustWrite(t, filepath.Join(dir, "keep.txt"), "a user's file\n")
		before := snapshotTree(t, dir)
		report := filepath.Join(dir, "r.html")
		for range 2 {
			mustCLI(t, 1, "replay", "--report", report, plan)
			isReport(t, report)
			assertSameTree(t, dir, before, "r.html")
		}
		mustWrite(t, filepath.Join(dir, "empty.html"), "")
		mustCLI(t, 1, "replay", "--report", filepath.Join(dir, "empty.html"), plan)
		isReport(t, filepath.Join(dir, "empty.html"))
	})
	t.Run("a user's file refused", func(t *testing.T) {
		dir := t.TempDir()
		refused(t, dir, mustWrite(t, filepath.Join(dir, "notes.txt"), "my notes\n"), "refusing to replace a file calldir did not write")
		refused(t, dir, mustWrite(t, filepath.Join(dir, "page.html"), "<!DOCTYPE html>\n<html><body>mine</body></html>\n"), "did not write")
		refused(t, dir, dir, "is a directory")
		before := snapshotTree(t, dir)
		for _, name := range []string{"CallDirectory.db", "CallDirectory.db-journal"} {
			code, _, stderr := runCLI(t, "", "replay", "--keep", filepath.Join(dir, "db"), "--report", filepath.Join(dir, "db", name), plan)
			if code != 2 || !strings.Contains(stderr, "a file of the database --keep writes") {
				t.Errorf("--report %s in --keep's directory: exit %d: %s", name, code, stderr)
			}
		}
		assertSameTree(t, dir, before)
	})
	t.Run("symlink followed", func(t *testing.T) {
		dir, elsewhere := t.TempDir(), t.TempDir()
		mine := mustWrite(t, filepath.Join(elsewhere, "mine.html"), "<p>mine</p>\n")
		symlink(t, mine, filepath.Join(dir, "to-mine.html"))
		refused(t, dir, filepath.Join(dir, "to-mine.html"), "did not write")
		if got := mustRead(t, mine); got != "<p>mine</p>\n" {
			t.Errorf("link target changed: %q", got)
		}
		ours := filepath.Join(elsewhere, "ours.html")
		mustCLI(t, 1, "replay", "--report", ours, plan)
		symlink(t, ours, filepath.Join(dir, "to-ours.html"))
		before := snapshotTree(t, dir)
		mustCLI(t, 1, "replay", "--report", filepath.Join(dir, "to-ours.html"), plan)
		assertSameTree(t, dir, before)
		isReport(t, ours)
		if ents, _ := os.ReadDir(elsewhere); len(ents) != 2 {
			t.Errorf("beside the target: %d entries, want 2 (a temporary file left?)", len(ents))
		}
	})
	t.Run("device written through", func(t *testing.T) {
		// As root, a null device made in the test's directory (so the
		// tree check sees it stay a device); otherwise the system's.
		dir, dev := t.TempDir(), "/dev/null"
		if os.Geteuid() == 0 {
			dev = filepath.Join(dir, "null")
			if err := syscall.Mknod(dev, syscall.S_IFCHR|0o666, 1<<8|3); err != nil {
				t.Fatal(err)
			}
		}
		before := snapshotTree(t, dir)
		mustCLI(t, 1, "replay", "--report", dev, plan)
		assertSameTree(t, dir, before)
	})
	t.Run("failed or interrupted run", func(t *testing.T) {
		dir := t.TempDir()
		t.Chdir(dir)
		mustCLI(t, 1, "replay", "--report", "r.html", plan)
		before := snapshotTree(t, dir)
		mustCLI(t, 2, "replay", "--report", "r.html", "--set", "journal_mode=sideways", plan)
		assertSameTree(t, dir, before)
		mustWrite(t, "a.txt", genMixedDeterministic(3000))
		mustCLI(t, 0, "compile", "-q", "--max-per-shard", "1000", "--out", "build", "a.txt")
		if code, _, stderr := runCLIInterrupted(t, "replay", "--report", "r.html", "build"); code != 130 {
			t.Fatalf("exit %d, want 130: %s", code, stderr)
		}
		page := mustRead(t, "r.html")
		if !regexp.MustCompile(`<dd>1 of \d \(interrupted\)</dd>`).MatchString(page) || len(cellRE.FindAllString(page, -1)) != 1 {
			t.Errorf("interrupted replay's page: want its one finished step:\n%s", regexp.MustCompile(`<dd>.*</dd>`).FindAllString(page, -1))
		}
	})
}
