package verifier

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
)

// LoadPlan is the plan of one complete load of n blocking entries, the
// unit that replay is benchmarked on.
func LoadPlan(n int) *Plan {
	p := newPlan("a")
	p.Steps = []Step{load("a", false, span(base, int64(n)))}
	return p
}

// ReplayLoad replays LoadPlan(n) in dir: the daemon's statements plus the
// reference model and the checks after the step.
func ReplayLoad(ctx context.Context, dir string, n int) error {
	rep, err := replayInProcess(ctx, LoadPlan(n), filepath.Join(dir, "CallDirectory.db"), Options{}, nil)
	if err != nil {
		return err
	}
	if rep.Outcome.Class != ClassOK {
		return fmt.Errorf("replay of %d entries: %s", n, rep.Outcome)
	}
	return nil
}

// RawSQLLoad is ReplayLoad's baseline: the same statements of the same
// complete load issued directly through the driver on the same kind of
// fresh database, with no model, no statement counting and no checks.
func RawSQLLoad(ctx context.Context, dir string, n int) error {
	set := DefaultSettings()
	path := filepath.Join(dir, "CallDirectory.db")
	if err := createDB(ctx, path, set, []ExtDef{{"a", "com.example.a"}}); err != nil {
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
