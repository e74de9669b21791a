package verifier

import (
	"context"
	"testing"
)

const benchEntries = 500_000

// BenchmarkReplay500k replays one complete load of 500,000 entries: the
// daemon's statements plus the model and the checks after the step.
func BenchmarkReplay500k(b *testing.B) {
	for i := 0; i < b.N; i++ {
		if err := replayLoad(context.Background(), b.TempDir(), benchEntries); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(benchEntries)*float64(b.N)/b.Elapsed().Seconds(), "entries/s")
}

// BenchmarkRawSQL500k is the baseline: the same statements issued directly
// through the driver, with no model, no statement counting and no checks.
func BenchmarkRawSQL500k(b *testing.B) {
	for i := 0; i < b.N; i++ {
		if err := rawSQLLoad(context.Background(), b.TempDir(), benchEntries); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(benchEntries)*float64(b.N)/b.Elapsed().Seconds(), "entries/s")
}
