package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"
)

// The national key form against the E.164 one, in the same run: each
// iteration exports one build with --key-forms e164, then with
// --key-forms national (as many rows: every number has a national form),
// and the benchmark reports the time of each per row and their ratio, so
// that a machine whose speed drifts moves both alike. docs/PERFORMANCE.md
// has the figures:
//
//	go test -run '^$' -bench ExportNationalVsE164 -benchtime 5x -count 3 ./cmd/calldir
//
// Three builds: one country (1,000,000 GB mobiles: no national key can
// be shared, nothing more to check); five countries (1,000,000 numbers,
// 200,000 each: their national keys go to a KeySet as the rows are
// written, but no two countries write keys of one length and first two
// digits, so none is sorted); and two countries whose keys share a class
// (1,000,000 Dutch "0620…" and 1,000,000 French "0612…" mobiles, all
// ten digits from "06": the Dutch ones, first in numeric order and past
// the keys held in memory, are read again, and every key is sorted).
func BenchmarkExportNationalVsE164(b *testing.B) {
	for _, bc := range []struct {
		name     string
		rows     float64
		patterns []string
	}{
		{"one-country", 1e6, []string{"+44 7700 ######"}},
		{"five-countries", 1e6, []string{"+1 212 55# ####", "+1 646 55# ####", "+33 6 12 3# ## ##", "+33 6 13 3# ## ##",
			"+39 312 34# ####", "+39 312 44# ####", "+44 7700 9#####", "+44 7700 8#####", "+49 1512 34#####", "+49 1512 44#####"}},
		{"shared-class", 2e6, []string{"+31 6 20######", "+33 6 12 ## ## ##"}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.Chdir(b.TempDir())
			args := []string{"compile", "-q", "-o", "blk"}
			for _, p := range bc.patterns {
				args = append(args, "--pattern", p)
			}
			benchCLI(b, args...)
			var e164, national time.Duration
			for b.Loop() {
				start := time.Now()
				benchCLI(b, "export", "live-lookup", "-q", "--key-forms", "e164", "-o", "live-e164", "blk")
				mid := time.Now()
				benchCLI(b, "export", "live-lookup", "-q", "--key-forms", "national", "-o", "live-national", "blk")
				e164 += mid.Sub(start)
				national += time.Since(mid)
			}
			rows := float64(b.N) * bc.rows
			b.ReportMetric(float64(e164.Nanoseconds())/rows, "ns/e164-row")
			b.ReportMetric(float64(national.Nanoseconds())/rows, "ns/national-row")
			b.ReportMetric(national.Seconds()/e164.Seconds(), "national/e164")
		})
	}
}

// benchCLI runs the CLI in-process and stops the benchmark unless it
// exits 0.
func benchCLI(b *testing.B, args ...string) {
	b.Helper()
	var out, errb bytes.Buffer
	if code := run(context.Background(), append([]string{"calldir"}, args...), strings.NewReader(""), &out, &errb); code != 0 {
		b.Fatalf("calldir %s: exit %d\n%s", strings.Join(args, " "), code, errb.String())
	}
}
