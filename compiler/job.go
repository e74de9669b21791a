package compiler

import (
	"context"
	"fmt"
	"runtime/debug"

	"github.com/calldir/calldir/shard"
	"github.com/calldir/calldir/shard/livelookup"
	"github.com/calldir/calldir/shard/outfs"
)

// A Job is a whole compile, as `calldir compile` runs it:
//
//	declare and check every path ──▶ load --base ──▶ Compile
//	  ──▶ Compiled (the caller's reports) ──▶ threshold, guards
//	  ──▶ layout (stable against Base) ──▶ stage build, delta, export
//	  ──▶ lock, guards again, swap all (shard/outfs.Commit)
//
// Everything that can be refused before the work is refused before it.
type Job struct {
	Options
	Out   string // the build directory to write
	Base  string // a previous build whose shard boundaries to keep; "" for none
	Delta string // with Base: also write the delta from Base into this directory
	Chunk int    // entries per incremental request of the delta

	Threshold Threshold // more rejected lines than this fail the build
	Guard     Guard
	// Manifest holds what the caller records in the build's manifest
	// (ToolVersion, Created, Options); Run fills in the rest.
	Manifest shard.Manifest
	// Reports are the files the caller writes (roles such as "rejects"):
	// refused where they are, contain or lie inside any other path.
	Reports []NamedPath
	// Reads are other files the caller read for the job (its
	// configuration): no write may be, or lie inside, one.
	Reads []NamedPath
	// Scratch are directories the caller keeps working files in (the
	// cache of fetched sources): they may hold outputs, not lie in one.
	Scratch []NamedPath
	// Fetch, when set, is called once every path is checked and before
	// any input is read: it fetches the sources given by URL (Source.Name)
	// and fills in their Path, or leaves out an optional one it could not
	// fetch.
	Fetch func(ctx context.Context, opts *Options) error
	// Protect are protect lists (protect.go): a blocking build whose
	// output, allowlist subtracted, holds one of their numbers is refused
	// (*ProtectedError) before anything is written.
	Protect []Source
	// LiveLookup, when set, also exports the finished build for Live Caller
	// ID Lookup (its Builds are the build just written).
	LiveLookup *LiveLookup
	// Compiled, when set, is called once the inputs are read and before any
	// check can refuse the build: the caller commits its reports there,
	// since they say why.
	Compiled func(*Result) error
}

// Outcome is what a job wrote.
type Outcome struct {
	Totals   shard.Totals
	Inputs   []shard.InputStats
	Patterns []shard.PatternInfo
	Manifest *shard.Manifest
	Delta    *shard.DeltaManifest // nil without Job.Delta
	Live     *livelookup.Manifest // nil without Job.LiveLookup
}

// TooManyRejectsError is a compile with more rejected lines than the
// job's threshold: no build is written.
type TooManyRejectsError struct {
	Rejected, Lines int64
	Threshold       Threshold
}

func (e *TooManyRejectsError) Error() string {
	return fmt.Sprintf("%d of %d lines rejected, over the threshold %s; build not written", e.Rejected, e.Lines, e.Threshold)
}

// Run runs the job. The Go memory limit is set from Options.Memory while it
// runs (see HeapLimit) and restored after.
func Run(ctx context.Context, j Job) (*Outcome, error) {
	if err := shard.CheckMaxPerShard(j.MaxPerShard); err != nil {
		return nil, &UsageError{err.Error()}
	}
	if j.Delta != "" && j.Base == "" {
		return nil, &UsageError{"a delta needs the base build the devices have"}
	}
	outs, err := j.Check()
	if err != nil {
		return nil, err
	}
	var base *shard.Build
	if j.Base != "" {
		if base, err = shard.LoadBuild(j.Base); err != nil {
			return nil, fmt.Errorf("base: %w", err)
		}
	}
	if j.Fetch != nil {
		if err := j.Fetch(ctx, &j.Options); err != nil {
			return nil, err
		}
	}
	protect, err := j.readProtect(ctx)
	if err != nil {
		return nil, err
	}
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(HeapLimit(j.Memory)))
	res, err := Compile(ctx, j.Options)
	if err != nil {
		return nil, err
	}
	defer res.Close()
	if j.Compiled != nil {
		if err := j.Compiled(res); err != nil {
			return nil, err
		}
	}
	if err := protect.checkProtected(ctx, j.Options, res); err != nil {
		return nil, err
	}
	if err := j.check(res, outs.build.State, base); err != nil {
		return nil, err
	}
	return j.write(ctx, outs, res, base)
}

// jobOutputs are the outputs a job declared.
type jobOutputs struct {
	build, delta, live *outfs.Output
}

// Check declares every path the job reads and writes and refuses, before
// any work, a write that is, contains or is inside another of them, and
// an output path holding something calldir may not replace.
func (j *Job) Check() (*jobOutputs, error) {
	var p outfs.Plan
	outs := &jobOutputs{build: p.Output("out", j.Out, shard.BuildMark)}
	if j.Base != "" {
		p.ReadDir("base", j.Base).MayBe(outs.build)
	}
	if j.Delta != "" {
		outs.delta = p.Output("delta", j.Delta, shard.DeltaMark)
	}
	if j.LiveLookup != nil {
		outs.live = j.LiveLookup.declare(&p)
	}
	p.Scratch("temp-dir", j.TempDir)
	for _, d := range j.Scratch {
		p.Scratch(d.Role, d.Path)
	}
	for _, r := range j.Reports {
		p.WriteFile(r.Role, r.Path)
	}
	for _, r := range j.Reads {
		p.Read(r.Role, r.Path)
	}
	for _, s := range j.Sources {
		p.Read("input", s.Path)
	}
	for _, s := range j.Allow {
		p.Read("allowlist", s.Path)
	}
	for _, s := range j.Protect {
		p.Read("protect", s.Path)
	}
	if err := p.Check(); err != nil {
		return nil, err
	}
	return outs, nil
}

// check applies the threshold and the guards to a compiled result, before
// anything is written (the shrink guard runs again before the swap).
func (j *Job) check(res *Result, out *outfs.State, base *shard.Build) error {
	t := res.Totals
	if j.Threshold.Exceeded(t.Rejected, t.Lines) {
		return &TooManyRejectsError{Rejected: t.Rejected, Lines: t.Lines, Threshold: j.Threshold}
	}
	if err := j.Guard.CheckEmpty(t.Entries, res.Inputs, len(res.Patterns)); err != nil {
		return err
	}
	if err := j.Guard.checkCounts("build", j.Out, out, res.counts()); err != nil {
		return err
	}
	if base != nil {
		return j.Guard.CheckShrink(ShrinkBase, j.Base, base.Manifest.Totals.Entries, t.Entries)
	}
	return nil
}

// counts is the result's entries by kind, as a build's manifest counts
// them.
func (r *Result) counts() map[string]int64 {
	if r.Totals.Entries == 0 {
		return map[string]int64{}
	}
	return map[string]int64{r.Kind.String(): r.Totals.Entries}
}

// write lays the result out (keeping Base's boundaries), stages the build
// with its manifest, the delta and the export, and swaps them in only when
// all are ready.
func (j *Job) write(ctx context.Context, outs *jobOutputs, res *Result, base *shard.Build) (*Outcome, error) {
	m := j.Manifest
	m.Format, m.FormatVersion = shard.ManifestFormat, shard.ManifestVersion
	m.Inputs, m.Patterns = res.Inputs, res.Patterns
	layout := Layout(res.Len(), j.MaxPerShard)
	if base != nil {
		var err error
		if layout, err = StableLayout(res.Entries(), base.Manifest, j.Kind, j.MaxPerShard); err != nil {
			return nil, err
		}
		m.Base = base.Manifest.BuildID
		if j.Delta != "" { // refuse the delta before the build is written
			counts := map[int]int64{}
			for _, pl := range layout {
				counts[pl.Extension] += int64(pl.Span.End - pl.Span.Start)
			}
			if err := j.Guard.CheckEmptied(base, counts); err != nil {
				return nil, err
			}
		}
	}
	if err := checkLayout(res, layout); err != nil {
		return nil, err
	}
	next := res.counts()
	outs.build.Guard = func(prev *outfs.State) error { return j.Guard.checkCounts("build", j.Out, prev, next) }
	bst, err := outs.build.Stage()
	if err != nil {
		return nil, err
	}
	defer bst.Abort()
	if err := writeBuildFiles(ctx, bst.Dir, res, &m, layout); err != nil {
		return nil, err
	}
	out := &Outcome{Totals: res.Totals, Inputs: res.Inputs, Patterns: res.Patterns, Manifest: &m}
	stages := []*outfs.Stage{bst}
	if j.Delta != "" {
		st, err := j.stageDelta(ctx, outs.delta, base, bst.Dir, out)
		if err != nil {
			return nil, err
		}
		defer st.Abort()
		stages = append(stages, st)
	}
	if j.LiveLookup != nil {
		x := *j.LiveLookup
		x.Guard = &j.Guard
		st, err := outs.live.Stage()
		if err != nil {
			return nil, err
		}
		defer st.Abort()
		if out.Live, err = x.exportInto(ctx, st.Dir, []string{bst.Dir}); err != nil {
			return nil, err
		}
		outs.live.Guard = x.guard(out.Live)
		stages = append(stages, st)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := outfs.Commit(stages...); err != nil {
		return nil, err
	}
	return out, nil
}

// stageDelta writes the delta from base to the staged build in buildDir.
func (j *Job) stageDelta(ctx context.Context, o *outfs.Output, base *shard.Build, buildDir string, out *Outcome) (*outfs.Stage, error) {
	nb, err := shard.LoadBuild(buildDir)
	if err != nil {
		return nil, err
	}
	g := j.Guard
	do := DeltaOptions{Chunk: j.Chunk, ToolVersion: j.Manifest.ToolVersion, Guard: &g}
	if err := do.check(base, nb); err != nil {
		return nil, err
	}
	st, err := o.Stage()
	if err != nil {
		return nil, err
	}
	if out.Delta, err = writeDeltaFiles(ctx, st.Dir, base, nb, do); err != nil {
		st.Abort()
		return nil, err
	}
	return st, nil
}
