package verifier

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/calldir/calldir/shard/outfs"
)

// ExploreOptions tune a matrix run.
type ExploreOptions struct {
	Seed     uint64
	Budget   time.Duration // stop starting new cases after this; 0: no limit (calldir explore refuses it)
	Scale    float64       // pattern size factor (1 = full size)
	OutDir   string        // shrunk plans are written here
	Patterns []string      // only these patterns (all when empty)
	Variants []string      // only these settings variants
	Faults   []string      // only these faults
	Shrink   bool
	// ShrinkBudget bounds the shrinking of one case.
	ShrinkBudget time.Duration
	Progress     func(CaseResult)
}

// CaseResult is one cell of the matrix.
type CaseResult struct {
	N        int     `json:"n"`
	Pattern  string  `json:"pattern"`
	Settings string  `json:"settings"`
	Fault    string  `json:"fault"`
	Outcome  Outcome `json:"outcome"`
	Rows     int64   `json:"rows"`       // entries at the end
	Bytes    int64   `json:"file_bytes"` // database file at the end
	Millis   float64 `json:"ms"`
	KillAt   int64   `json:"kill_at,omitempty"`
	Shrunk   string  `json:"shrunk_plan,omitempty"` // file of the minimal plan
	Steps    int     `json:"shrunk_steps,omitempty"`
	Repro    bool    `json:"reproduced,omitempty"` // replaying the shrunk plan gives the same outcome
	Note     string  `json:"note,omitempty"`
	// PlanError says why the shrunk plan could not be written to --out.
	PlanError string `json:"plan_error,omitempty"`
}

// ExploreReport is the matrix.
type ExploreReport struct {
	Seed    uint64       `json:"seed"`
	Scale   float64      `json:"scale"`
	Cases   []CaseResult `json:"cases"`
	Skipped int          `json:"skipped_for_budget"`
}

func keep(list []string, name string) bool {
	if len(list) == 0 {
		return true
	}
	for _, l := range list {
		if l == name {
			return true
		}
	}
	return false
}

// ClassCannotFail is the outcome of a fault and settings pair that cannot
// fail by construction: it is reported once, with the reason, and not run.
const ClassCannotFail = "cannot-fail"

// cell is one case of the matrix.
type cell struct {
	pat Pattern
	v   SettingsVariant
	f   string
}

// firstVariant is, per fault, the settings under which it can find the
// most: the variant explore pairs it with first.
var firstVariant = map[string]string{"kill": "journal-off", "kill+delete-journal": "small-cache", "kill+delete-wal": "wal"}

// matrix orders the cases so that a short budget sees every fault early:
// first one case per fault (with its first variant), then one per fault ×
// settings pair (patterns taken in turn), then the rest. Pairs that cannot
// fail by construction come back as rows of their own.
func (o ExploreOptions) matrix() (cells []cell, firstRound int, vacuous []CaseResult) {
	var first, second, rest []cell
	turn := 0
	for _, f := range Faults {
		var picks []cell // one per variant
		for _, v := range Variants {
			if !keep(o.Variants, v.Name) || !keep(o.Faults, f) {
				continue
			}
			var row []cell
			for _, pat := range Patterns {
				if keep(o.Patterns, pat.Name) && applyFault(withVariant(pat.Make(o.Scale), v), f, 0) {
					row = append(row, cell{pat, v, f})
				}
			}
			if len(row) == 0 {
				continue
			}
			if why := CannotFail(v, f); why != "" {
				vacuous = append(vacuous, CaseResult{Pattern: "*", Settings: v.Name, Fault: f, Outcome: Outcome{Class: ClassCannotFail, Detail: why}})
				continue
			}
			pick := turn % len(row)
			turn++
			picks = append(picks, row[pick])
			rest = append(rest, append(row[:pick:pick], row[pick+1:]...)...)
		}
		if len(picks) == 0 {
			continue
		}
		want, best := firstVariant[f], 0
		if want == "" {
			want = "default"
		}
		for i, c := range picks {
			if c.v.Name == want {
				best = i
			}
		}
		first = append(first, picks[best])
		second = append(second, append(picks[:best:best], picks[best+1:]...)...)
	}
	return append(append(first, second...), rest...), len(first), vacuous
}

// CannotFail says why fault f under settings v cannot fail by
// construction, or "" when it can. A kill keeps the operating system's
// page cache, so synchronous=off changes nothing but under the power-loss
// fault (the crash VFS drops what was not synced);
// and a kill lands between statements, so with a rollback journal the
// database file is written only inside COMMIT unless the page cache
// spills dirty pages mid-transaction (a small cache_size): a deleted hot
// journal then held nothing the file needed. Both rest on SQLite's design
// (howtocorrupt §1.3, §3.2) and are [inferred] here.
func CannotFail(v SettingsVariant, f string) string {
	s := withVariant(&Plan{Settings: DefaultSettings()}, v).Settings
	if s.Synchronous == "off" && f != "power-loss" {
		return "synchronous=off only matters on power loss, which this fault is not: the case is the default one [inferred]"
	}
	rollback := s.JournalMode == "delete" || s.JournalMode == "truncate" || s.JournalMode == "persist"
	if f == "kill+delete-journal" && rollback && !smallCache(s) {
		return "a kill between statements leaves the file untouched until COMMIT unless the cache spills (cache_size=" + fmt.Sprint(s.CacheSize) + " holds a flush): the deleted journal held nothing the file needed [inferred]"
	}
	return ""
}

// smallCache is a page cache that a 10,000-entry flush overflows (about
// 1 MiB of dirty pages): fewer than 256 pages, or under 1,024 KiB.
func smallCache(s Settings) bool {
	if s.CacheSize < 0 {
		return -s.CacheSize < 1024
	}
	return s.CacheSize < 256
}

// Explore runs patterns × settings × faults until the budget is spent,
// shrinking every case that does not end ok to a minimal plan file.
func Explore(ctx context.Context, o ExploreOptions) (*ExploreReport, error) {
	if o.Scale <= 0 {
		o.Scale = 1
	}
	deadline := time.Now().Add(o.Budget)
	rep := &ExploreReport{Seed: o.Seed, Scale: o.Scale}
	rng := rand.New(rand.NewPCG(o.Seed, 0x63616c6c646972))
	cells, firstRound, vacuous := o.matrix()
	ran := len(vacuous) // cases are numbered in the order they run
	emit := func(c CaseResult) {
		if c.N == 0 {
			c.N = len(rep.Cases) + 1
		}
		rep.Cases = append(rep.Cases, c)
		if o.Progress != nil {
			o.Progress(c)
		}
	}
	for _, c := range vacuous {
		emit(c)
	}
	// The first round (one case per fault) runs before any of its cases
	// is shrunk, so that shrinking cannot spend the budget before every
	// fault has run once.
	var held []CaseResult
	var heldPlans []*Plan
	for i, c := range cells {
		if i == firstRound {
			for j := range held {
				o.shrinkFound(ctx, heldPlans[j], &held[j], deadline)
				emit(held[j])
			}
			held = nil
		}
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		if o.Budget > 0 && time.Now().After(deadline) {
			rep.Skipped++
			continue
		}
		res, p, err := runCell(ctx, c, o.Scale, rng)
		if err != nil {
			return rep, err
		}
		ran++
		res.N = ran
		if i < firstRound {
			held, heldPlans = append(held, res), append(heldPlans, p)
			continue
		}
		o.shrinkFound(ctx, p, &res, deadline)
		emit(res)
	}
	for j := range held { // fewer cells than one round
		o.shrinkFound(ctx, heldPlans[j], &held[j], deadline)
		emit(held[j])
	}
	return rep, nil
}

// shrinkFound shrinks a case that did not end ok, within the budget.
func (o ExploreOptions) shrinkFound(ctx context.Context, p *Plan, res *CaseResult, deadline time.Time) {
	if !o.Shrink || p == nil || res.Outcome.Class == ClassOK || res.Outcome.Class == ClassError || ctx.Err() != nil {
		return
	}
	so := o
	if o.Budget > 0 { // shrinking counts against the budget too
		so.ShrinkBudget = max(3*time.Second, min(o.ShrinkBudget, time.Until(deadline)))
	}
	shrinkCase(ctx, p, res, so)
}

// withVariant applies a settings variant to a plan (the variants' pairs
// are fixed and valid) and returns the plan.
func withVariant(p *Plan, v SettingsVariant) *Plan {
	for _, kv := range v.Pairs {
		k, val, _ := strings.Cut(kv, "=")
		if err := p.Settings.Set(k, val); err != nil {
			panic(fmt.Sprintf("settings variant %s: %v", v.Name, err))
		}
	}
	return p
}

// runCell builds and runs one case; it returns the plan for shrinking.
func runCell(ctx context.Context, c cell, scale float64, rng *rand.Rand) (CaseResult, *Plan, error) {
	p := withVariant(c.pat.Make(scale), c.v)
	p.Seed = rng.Uint64() % 1_000_000
	applyFault(p, c.f, p.Seed)
	res := CaseResult{Pattern: c.pat.Name, Settings: c.v.Name, Fault: c.f}
	start := time.Now()
	r, err := runCase(ctx, p, rng)
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return res, nil, err
		}
		res.Outcome = Outcome{Class: ClassError, Detail: err.Error()}
	} else {
		res.Outcome = r.Outcome
		res.Rows, res.Bytes = finalSize(r)
		if r.Kill != nil {
			res.KillAt = r.Kill.At
		}
		if c.f == "disk-full" || c.f == "disk-full-at" {
			res.Note = joinDetail(res.Note, diskFullReached(r))
		}
	}
	res.Millis = float64(time.Since(start).Microseconds()) / 1000
	return res, p, nil
}

// diskFullReached says whether a disk-full case's limit was reached: a
// step that failed with SQLITE_FULL (13), or the crash VFS refusing writes.
func diskFullReached(r *Report) string {
	for _, st := range r.Steps {
		if st.Outcome.Code == 13 && (st.Outcome.Class == ClassSQLite || st.Outcome.Class == ClassStuck || st.Outcome.Class == ClassZeroRows) {
			return fmt.Sprintf("disk-full limit reached at step %d", st.Index+1)
		}
	}
	detail := r.Outcome.Detail
	if r.Fault != nil {
		detail = r.Fault.Detail
	}
	if strings.Contains(detail, "writes refused with SQLITE_FULL") && !strings.Contains(detail, ": 0 writes refused") {
		return "disk-full limit reached"
	}
	return "disk-full limit not reached: the case ran as without the fault"
}

func finalSize(r *Report) (int64, int64) {
	if len(r.Steps) == 0 {
		return 0, 0
	}
	m := r.Steps[len(r.Steps)-1].Metrics
	return m.Rows, m.FileBytes
}

// runCase replays a case; a kill fault picks its statement from the golden
// run's count with rng.
func runCase(ctx context.Context, p *Plan, rng *rand.Rand) (*Report, error) {
	if p.Kill == nil || p.Kill.At >= 0 {
		return Replay(ctx, p, Options{})
	}
	g, err := goldenRun(ctx, p)
	if err != nil {
		return nil, err
	}
	p.Kill.At = rng.Int64N(max(g.total, 1))
	dir, remove, err := outfs.ScratchDir("calldir-explore-")
	if err != nil {
		return nil, err
	}
	defer remove()
	return killCase(ctx, p, g, filepath.Join(dir, "CallDirectory.db"))
}

// shrinkCase minimizes the plan of a failing case and writes it.
func shrinkCase(ctx context.Context, p *Plan, res *CaseResult, o ExploreOptions) {
	want := res.Outcome.Key()
	budget := o.ShrinkBudget
	if budget == 0 {
		budget = 30 * time.Second
	}
	min := ShrinkPower(ctx, p, func(q *Plan) bool {
		r, err := Replay(ctx, q, Options{})
		return err == nil && r.Outcome.Key() == want
	}, budget)
	if o.OutDir == "" {
		return
	}
	if err := os.MkdirAll(o.OutDir, 0o755); err != nil {
		res.Note, res.PlanError = err.Error(), err.Error()
		return
	}
	path := filepath.Join(o.OutDir, fmt.Sprintf("case-%03d-%s-%s-%s.plan", res.N, res.Pattern, res.Settings, res.Fault))
	text := fmt.Sprintf("# calldir explore case %d: pattern %s, settings %s, fault %s\n# outcome: %s\n# replay: calldir replay %s\n%s",
		res.N, res.Pattern, res.Settings, res.Fault, res.Outcome, filepath.Base(path), min.Format(o.OutDir))
	if err := writePlanFile(path, text); err != nil {
		res.Note, res.PlanError = err.Error(), err.Error()
		return
	}
	res.Shrunk, res.Steps = path, len(min.Steps)
	// The file, parsed back, must reproduce the finding.
	q, err := ParsePlan(strings.NewReader(text), path, o.OutDir)
	if err == nil {
		r, err := Replay(ctx, q, Options{})
		res.Repro = err == nil && r.Outcome.Key() == want
	}
}

// writePlanFile writes a shrunk plan by shard/outfs's rules for a file:
// through a temporary file renamed into place over nothing or a regular
// file; a symlink followed; a FIFO written through; a directory refused.
func writePlanFile(path, text string) error {
	return outfs.WriteFile(path, []byte(text))
}
