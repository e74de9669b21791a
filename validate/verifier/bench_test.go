package verifier

import (
	"context"
	"path/filepath"
	"testing"
)

const benchEntries = 500_000

func benchPlan() *Plan {
	p := newPlan("a")
	p.Steps = []Step{load("a", false, span(base, benchEntries))}
	return p
}

// BenchmarkReplay500k replays one complete load of 500,000 entries: the
// daemon's statements plus the model and the checks after the step.
func BenchmarkReplay500k(b *testing.B) {
	ctx := context.Background()
	for i := 0; i < b.N; i++ {
		p := benchPlan()
		rep, err := replayInProcess(ctx, p, filepath.Join(b.TempDir(), "CallDirectory.db"), Options{}, nil)
		if err != nil || rep.Outcome.Class != ClassOK {
			b.Fatal(err, rep.Outcome)
		}
	}
	b.ReportMetric(float64(benchEntries)*float64(b.N)/b.Elapsed().Seconds(), "entries/s")
}

// BenchmarkRawSQL500k is the baseline: the same statements issued directly
// through the driver, on the same kind of fresh database, with no model, no
// statement counting and no checks.
func BenchmarkRawSQL500k(b *testing.B) {
	ctx := context.Background()
	set := DefaultSettings()
	for i := 0; i < b.N; i++ {
		path := filepath.Join(b.TempDir(), "CallDirectory.db")
		if err := createDB(ctx, path, set, []ExtDef{{"a", "com.example.a"}}); err != nil {
			b.Fatal(err)
		}
		db, conn, err := openDB(ctx, path, set, false)
		if err != nil {
			b.Fatal(err)
		}
		exec := func(q string, args ...any) {
			if _, err := conn.ExecContext(ctx, q, args...); err != nil {
				b.Fatal(err)
			}
		}
		exec(sqlSetState, StateLoading, 1)
		exec(sqlDeleteBlocking, 1)
		exec(sqlDeleteIdent, 1)
		nums := make([]any, set.StatementRow)
		pairs := make([]any, 2*set.StatementRow)
		for lo := int64(0); lo < benchEntries; lo += int64(set.FlushSize) {
			exec(sqlBegin)
			for s := lo; s < lo+int64(set.FlushSize); s += int64(set.StatementRow) {
				for k := 0; k < set.StatementRow; k++ {
					n := base + s + int64(k)
					nums[k], pairs[2*k], pairs[2*k+1] = n, int64(1), n
				}
				exec(sqlInsertNumbers(set.StatementRow), nums...)
				exec(sqlInsertBlocking(set.StatementRow), pairs...)
			}
			exec(sqlCommit)
		}
		exec(sqlSetState, StateLoaded, 1)
		conn.Close()
		db.Close()
	}
	b.ReportMetric(float64(benchEntries)*float64(b.N)/b.Elapsed().Seconds(), "entries/s")
}
