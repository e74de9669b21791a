package fleet

import (
	"context"
	"testing"
)

// Benchmark sizes: docs/PERFORMANCE.md's row (every fault on).
const (
	benchPhones  = 200
	benchDays    = 10
	benchEntries = 5000
)

// BenchmarkFleetAllFaults simulates benchPhones phones for benchDays
// days of a channel of benchDays+2 builds of benchEntries numbers, with
// every fault class at 5%.
func BenchmarkFleetAllFaults(b *testing.B) {
	ch := mustChannel(b, benchDays+2, benchEntries, 500)
	o := testOptions(ch, benchPhones, benchDays, 1)
	if err := o.Rates.Parse("all=0.05"); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		rep, err := Run(context.Background(), o)
		if err != nil {
			b.Fatal(err)
		}
		if !rep.OK() {
			b.Fatalf("%d violations, first %+v", len(rep.Violations), rep.Violations[0])
		}
		b.ReportMetric(float64(rep.Devices*(rep.Days+rep.Settle)), "refreshes")
	}
}
