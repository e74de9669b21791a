package verifier

import (
	"context"
	"database/sql"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/calldir/calldir/compiler"
	"github.com/calldir/calldir/e164"
	"github.com/calldir/calldir/shard"
)

func planFile(t *testing.T, name string) *Plan {
	t.Helper()
	path := filepath.Join("..", "..", "fixtures", "plans", name)
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p, err := ParsePlan(f, path, filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// dbNumbers reads an extension's blocking numbers with a real SQL query.
func dbNumbers(t *testing.T, path, bundle string) ([]int64, int) {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT p.number FROM PhoneNumberBlockingEntry e JOIN PhoneNumber p ON p.id = e.phone_number_id JOIN Extension x ON x.id = e.extension_id WHERE x.bundle_id = ? ORDER BY p.number`, bundle)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var n int64
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		out = append(out, n)
	}
	var state int
	if err := db.QueryRow(`SELECT state FROM Extension WHERE bundle_id = ?`, bundle).Scan(&state); err != nil {
		t.Fatal(err)
	}
	return out, state
}

// A compile of the bundled sample replayed as one complete
// load is ok, and the database rows equal the build's numbers.
func TestReplaySampleBuild(t *testing.T) {
	sample := filepath.Join("..", "..", "fixtures", "sample")
	norm, err := e164.New("US", e164.PolicyPossible)
	if err != nil {
		t.Fatal(err)
	}
	res, err := compiler.Compile(context.Background(), compiler.Options{
		Kind: shard.KindBlock, Normalizer: norm, MaxPerShard: shard.DefaultMaxPerShard,
		Sources: []compiler.Source{{Path: filepath.Join(sample, "spam-us.txt")}, {Path: filepath.Join(sample, "vendor-feed.csv")}},
		Allow:   []compiler.Source{{Path: filepath.Join(sample, "allow.txt")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	build := filepath.Join(t.TempDir(), "build")
	m := &shard.Manifest{Format: shard.ManifestFormat, FormatVersion: shard.ManifestVersion, ToolVersion: "test", Inputs: res.Inputs}
	if err := compiler.WriteBuild(context.Background(), build, res, m, compiler.Layout(res.Len(), shard.DefaultMaxPerShard)); err != nil {
		t.Fatal(err)
	}
	p, err := PlanFromBuild(build)
	if err != nil {
		t.Fatal(err)
	}
	dbdir := t.TempDir()
	rep, err := Replay(context.Background(), p, Options{Dir: dbdir})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Outcome.Class != ClassOK || rep.Integrity != "ok" {
		t.Fatalf("outcome %s (%s), integrity %s", rep.Outcome, rep.Outcome.Detail, rep.Integrity)
	}
	var want []int64
	for _, s := range m.Shards {
		f, err := shard.Open(filepath.Join(build, s.File))
		if err != nil {
			t.Fatal(err)
		}
		for {
			rec, err := f.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			want = append(want, rec.Number)
		}
		f.Close()
	}
	got, state := dbNumbers(t, filepath.Join(dbdir, "CallDirectory.db"), p.Extensions[0].Bundle)
	if !slices.Equal(got, want) || len(want) < 2000 {
		t.Fatalf("database holds %d numbers, the build %d", len(got), len(want))
	}
	if state != StateLoaded {
		t.Errorf("state %d, want 4", state)
	}
}

// CallKit's checks give errors 3, 4 and 5, and the failure path leaves the
// state CALLKIT.md §1.7 step 8 says, with the rows gone.
func TestReplayCallKitErrors(t *testing.T) {
	for _, tc := range []struct {
		plan  string
		code  int
		class string
		state int
		long  bool
	}{
		{"out-of-order.plan", ErrOutOfOrder, ClassCallKit, StateDisabled, false},
		{"duplicate.plan", ErrDuplicate, ClassZeroRows, StateLoaded, false},
		{"incremental-after-load-fails.plan", ErrOutOfOrder, ClassZeroRows, StateLoaded, false},
		{"cap.plan", ErrMaxEntries, ClassCallKit, StateDisabled, true},
	} {
		t.Run(tc.plan, func(t *testing.T) {
			if tc.long && !long {
				t.Skip("writes 1,990,000 rows (CallKit's cap cannot be scaled down); runs with -tags long")
			}
			p := planFile(t, tc.plan)
			dbdir := t.TempDir()
			rep, err := Replay(context.Background(), p, Options{Dir: dbdir})
			if err != nil {
				t.Fatal(err)
			}
			last := rep.Steps[len(rep.Steps)-1].Outcome
			if last.Class != tc.class || last.Code != tc.code {
				t.Fatalf("last step: %s (class %s, code %d), want class %s code %d: %s", last, last.Class, last.Code, tc.class, tc.code, last.Detail)
			}
			if tc.class == ClassZeroRows && last.String() != "loaded extension left with zero rows" {
				t.Errorf("reported as %q", last)
			}
			got, state := dbNumbers(t, filepath.Join(dbdir, "CallDirectory.db"), p.Extensions[0].Bundle)
			if len(got) != 0 || state != tc.state {
				t.Errorf("after the failure: %d rows, state %d; want 0 rows, state %d", len(got), state, tc.state)
			}
			if rep.Integrity != "ok" {
				t.Errorf("integrity: %s", rep.Integrity)
			}
		})
	}
}

func TestReplayChurnPlanOK(t *testing.T) {
	rep := mustReplay(t, planFile(t, "churn.plan"))
	if rep.Outcome.Class != ClassOK || rep.Integrity != "ok" || rep.ForeignKeyViolations != 0 {
		t.Fatalf("outcome %s (%s) integrity %s fk %d", rep.Outcome, rep.Outcome.Detail, rep.Integrity, rep.ForeignKeyViolations)
	}
	if got := rep.Steps[len(rep.Steps)-1].Metrics.Rows; got != 1000 {
		t.Errorf("final rows %d, want 1000", got)
	}
}

func TestReplayKillJournalOffPlan(t *testing.T) {
	rep := mustReplay(t, planFile(t, "kill-journal-off.plan"))
	if rep.Kill == nil || !rep.Kill.Killed || (rep.Outcome.Class != ClassIntegrity && rep.Outcome.Class != ClassRowsLost) {
		t.Fatalf("kill replay: %+v %s", rep.Kill, rep.Outcome)
	}
}
