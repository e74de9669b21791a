package verifier

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// Benchmark times, in dir, one complete load of n blocking entries
// replayed (the daemon's statements, the reference model and the checks
// after the step) and its baseline: the same statements issued straight
// through the driver, with no model and no checks. It is `calldir bench`'s
// replay stage; the ratio raw/replay is what the verifier costs.
func Benchmark(ctx context.Context, dir string, n int) (replay, raw time.Duration, err error) {
	d1, d2 := filepath.Join(dir, "replay"), filepath.Join(dir, "raw")
	for _, d := range []string{d1, d2} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return 0, 0, err
		}
	}
	start := time.Now()
	if err := rawSQLLoad(ctx, d2, n); err != nil {
		return 0, 0, err
	}
	raw = time.Since(start)
	start = time.Now()
	if err := replayLoad(ctx, d1, n); err != nil {
		return 0, 0, err
	}
	return time.Since(start), raw, nil
}

// loadPlan is the plan of one complete load of n blocking entries, the
// unit that replay is benchmarked on.
func loadPlan(n int) *Plan {
	p := newPlan("a")
	p.Steps = []Step{load("a", false, span(base, int64(n)))}
	return p
}

// replayLoad replays loadPlan(n) in dir: the daemon's statements plus the
// reference model and the checks after the step.
func replayLoad(ctx context.Context, dir string, n int) error {
	rep, err := replayInProcess(ctx, loadPlan(n), filepath.Join(dir, "CallDirectory.db"), Options{}, nil)
	if err != nil {
		return err
	}
	if rep.Outcome.Class != ClassOK {
		return fmt.Errorf("replay of %d entries: %s", n, rep.Outcome)
	}
	return nil
}

// rawSQLLoad is replayLoad's baseline: the same statements of the same
// complete load issued directly through the driver on the same kind of
// fresh database, with no model, no statement counting and no checks.
func rawSQLLoad(ctx context.Context, dir string, n int) error {
	set := DefaultSettings()
	path := filepath.Join(dir, "CallDirectory.db")
	if err := createDB(ctx, path, set, []ExtDef{{Name: "a", Bundle: "com.example.a"}}); err != nil {
		return err
	}
	db, conn, err := openDB(ctx, path, set, false)
	if err != nil {
		return err
	}
	defer db.Close()
	defer conn.Close()
	stmts := map[string]*sql.Stmt{} // prepared once per SQL text, as the daemon does
	exec := func(q string, args ...any) error {
		st, ok := stmts[q]
		if !ok {
			if st, err = conn.PrepareContext(ctx, q); err != nil {
				return err
			}
			stmts[q] = st
		}
		_, err := st.ExecContext(ctx, args...)
		return err
	}
	if err := exec(sqlSetState, StateLoading, 1); err != nil {
		return err
	}
	if err := exec(sqlDeleteBlocking, 1); err != nil {
		return err
	}
	if err := exec(sqlDeleteIdent, 1); err != nil {
		return err
	}
	for lo := 0; lo < n; lo += set.FlushSize {
		if err := exec(sqlBegin); err != nil {
			return err
		}
		for s := lo; s < min(lo+set.FlushSize, n); s += set.StatementRow {
			k := min(set.StatementRow, n-s)
			nums := make([]any, k)
			pairs := make([]any, 2*k)
			for j := 0; j < k; j++ {
				v := base + int64(s+j)
				nums[j], pairs[2*j], pairs[2*j+1] = v, int64(1), v
			}
			if err := exec(sqlInsertNumbers(k), nums...); err != nil {
				return err
			}
			if err := exec(sqlInsertBlocking(k), pairs...); err != nil {
				return err
			}
		}
		if err := exec(sqlCommit); err != nil {
			return err
		}
	}
	return exec(sqlSetState, StateLoaded, 1)
}
