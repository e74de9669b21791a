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

// Explore runs patterns × settings × faults until the budget is spent,
// shrinking every case that does not end ok to a minimal plan file.
func Explore(ctx context.Context, o ExploreOptions) (*ExploreReport, error) {
	if o.Scale <= 0 {
		o.Scale = 1
	}
	deadline := time.Now().Add(o.Budget)
	rep := &ExploreReport{Seed: o.Seed, Scale: o.Scale}
	rng := rand.New(rand.NewPCG(o.Seed, 0x63616c6c646972))
	type cell struct {
		pat Pattern
		v   SettingsVariant
		f   string
	}
	// First one case per fault × settings pair (patterns taken in turn), so
	// that a short budget still sees every fault against every variant;
	// then the rest of the matrix.
	var first, rest []cell
	turn := 0
	for _, f := range Faults {
		for _, v := range Variants {
			var row []cell
			for _, pat := range Patterns {
				if keep(o.Patterns, pat.Name) && keep(o.Variants, v.Name) && keep(o.Faults, f) {
					row = append(row, cell{pat, v, f})
				}
			}
			if len(row) == 0 {
				continue
			}
			pick := turn % len(row)
			turn++
			first = append(first, row[pick])
			rest = append(rest, append(row[:pick:pick], row[pick+1:]...)...)
		}
	}
	cells := append(first, rest...)
	for _, c := range cells {
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		if o.Budget > 0 && time.Now().After(deadline) {
			rep.Skipped++
			continue
		}
		p := c.pat.Make(o.Scale)
		p.Seed = rng.Uint64() % 1_000_000
		for _, kv := range c.v.Pairs {
			k, v, _ := strings.Cut(kv, "=")
			if err := p.Settings.Set(k, v); err != nil {
				return nil, err
			}
		}
		if !applyFault(p, c.f, p.Seed) {
			continue
		}
		res := CaseResult{N: len(rep.Cases) + 1, Pattern: c.pat.Name, Settings: c.v.Name, Fault: c.f}
		start := time.Now()
		r, err := runCase(ctx, p, rng)
		if err != nil {
			if errors.Is(err, context.Canceled) {
				return rep, err
			}
			res.Outcome = Outcome{Class: "error", Detail: err.Error()}
		} else {
			res.Outcome = r.Outcome
			res.Rows, res.Bytes = finalSize(r)
			if r.Kill != nil {
				res.KillAt = r.Kill.At
			}
		}
		res.Millis = float64(time.Since(start).Microseconds()) / 1000
		if o.Shrink && err == nil && res.Outcome.Class != ClassOK {
			so := o
			if o.Budget > 0 { // shrinking counts against the budget too
				so.ShrinkBudget = max(3*time.Second, min(o.ShrinkBudget, time.Until(deadline)))
			}
			shrinkCase(ctx, p, &res, so)
		}
		rep.Cases = append(rep.Cases, res)
		if o.Progress != nil {
			o.Progress(res)
		}
	}
	return rep, nil
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
	dir, err := os.MkdirTemp("", "calldir-explore-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	return killCase(ctx, p, g, filepath.Join(dir, "CallDirectory.db"))
}

// shrinkCase minimizes the plan of a failing case and writes it.
func shrinkCase(ctx context.Context, p *Plan, res *CaseResult, o ExploreOptions) {
	want := res.Outcome.Key()
	budget := o.ShrinkBudget
	if budget == 0 {
		budget = 30 * time.Second
	}
	min := Shrink(ctx, p, func(q *Plan) bool {
		r, err := Replay(ctx, q, Options{})
		return err == nil && r.Outcome.Key() == want
	}, budget)
	if o.OutDir == "" {
		return
	}
	if err := os.MkdirAll(o.OutDir, 0o755); err != nil {
		res.Note = err.Error()
		return
	}
	path := filepath.Join(o.OutDir, fmt.Sprintf("case-%03d-%s-%s-%s.plan", res.N, res.Pattern, res.Settings, res.Fault))
	text := fmt.Sprintf("# calldir explore case %d: pattern %s, settings %s, fault %s\n# outcome: %s\n# replay: calldir replay %s\n%s",
		res.N, res.Pattern, res.Settings, res.Fault, res.Outcome, filepath.Base(path), min.Format(o.OutDir))
	if err := writePlanFile(path, text); err != nil {
		res.Note = err.Error()
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

// writePlanFile writes a shrunk plan: through a temporary file renamed into
// place, and only over nothing or a regular file (a symlink, FIFO or
// directory of the same name is left alone).
func writePlanFile(path, text string) error {
	if fi, err := os.Lstat(path); err == nil && !fi.Mode().IsRegular() {
		return fmt.Errorf("write %s: not a regular file (%v); not replacing it", path, fi.Mode().Type())
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".calldir-tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	_, err = f.WriteString(text)
	if err == nil {
		err = f.Chmod(0o644)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
