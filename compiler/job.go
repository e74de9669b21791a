package compiler

import (
	"context"
	"fmt"
	"runtime/debug"

	"github.com/calldir/calldir/shard"
	"github.com/calldir/calldir/shard/livelookup"
)

// A Job is a whole compile, as `calldir compile` runs it:
//
//	check the outputs and paths ──▶ load --base ──▶ Compile
//	  ──▶ Compiled (the caller's reports) ──▶ threshold, guards
//	  ──▶ layout (stable against Base) ──▶ WriteBuild ──▶ WriteDelta
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
	// Reports are the files the caller writes (roles such as "--rejects"):
	// refused inside Out, and where they would replace an input.
	Reports []NamedPath
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
	outState, err := InspectOutput(j.Out, shard.ManifestName)
	if err != nil {
		return nil, err
	}
	if j.Delta != "" {
		if _, err := InspectOutput(j.Delta, shard.DeltaManifestName); err != nil {
			return nil, err
		}
	}
	if err := j.checkLiveLookup(); err != nil {
		return nil, err
	}
	paths := j.paths()
	if err := CheckOutside(j.Out, paths, "delta", "live-lookup"); err != nil {
		return nil, err
	}
	if err := CheckReportsNotInputs(paths, reportRoles(j.Reports)...); err != nil {
		return nil, err
	}
	var base *shard.Build
	if j.Base != "" {
		if base, err = shard.LoadBuild(j.Base); err != nil {
			return nil, fmt.Errorf("base: %w", err)
		}
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
	if err := j.check(res, outState, base); err != nil {
		return nil, err
	}
	m, err := j.write(ctx, res, base)
	if err != nil {
		return nil, err
	}
	out := &Outcome{Totals: res.Totals, Inputs: res.Inputs, Patterns: res.Patterns, Manifest: m}
	if j.Delta != "" {
		g := j.Guard
		if out.Delta, err = WriteDeltaFrom(ctx, j.Delta, base, j.Out, DeltaOptions{Chunk: j.Chunk, ToolVersion: j.Manifest.ToolVersion, Guard: &g}); err != nil {
			return out, err
		}
	}
	if j.LiveLookup != nil {
		x := *j.LiveLookup
		x.Builds = []string{j.Out}
		out.Live, err = ExportLiveLookup(ctx, x)
	}
	return out, err
}

// checkLiveLookup refuses a Live Caller ID Lookup export that could not be
// written, before the compile.
func (j *Job) checkLiveLookup() error {
	if j.LiveLookup == nil {
		return nil
	}
	_, err := InspectOutput(j.LiveLookup.Out, livelookup.ManifestName)
	return err
}

// paths lists every path the job reads or writes besides Out.
func (j *Job) paths() []NamedPath {
	paths := append([]NamedPath{{"delta", j.Delta}, {"temp-dir", j.TempDir}}, j.Reports...)
	if j.LiveLookup != nil {
		paths = append(paths, NamedPath{"live-lookup", j.LiveLookup.Out}, NamedPath{"icons", j.LiveLookup.IconsDir})
	}
	for _, s := range j.Sources {
		paths = append(paths, NamedPath{"input", s.Path})
	}
	for _, s := range j.Allow {
		paths = append(paths, NamedPath{"allowlist", s.Path})
	}
	return paths
}

func reportRoles(reports []NamedPath) []string {
	var roles []string
	for _, r := range reports {
		roles = append(roles, r.Role)
	}
	return roles
}

// check applies the threshold and the guards to a compiled result.
func (j *Job) check(res *Result, out *OutputState, base *shard.Build) error {
	t := res.Totals
	if j.Threshold.Exceeded(t.Rejected, t.Lines) {
		return &TooManyRejectsError{Rejected: t.Rejected, Lines: t.Lines, Threshold: j.Threshold}
	}
	if err := j.Guard.CheckEmpty(t.Entries, res.Inputs, len(res.Patterns)); err != nil {
		return err
	}
	if err := j.Guard.CheckShrink(ShrinkOut, j.Out, out.Entries(), t.Entries); err != nil {
		return err
	}
	if base != nil {
		return j.Guard.CheckShrink(ShrinkBase, j.Base, base.Manifest.Totals.Entries, t.Entries)
	}
	return nil
}

// write lays the result out (keeping Base's boundaries) and writes the
// build with its manifest.
func (j *Job) write(ctx context.Context, res *Result, base *shard.Build) (*shard.Manifest, error) {
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
	if err := WriteBuild(ctx, j.Out, res, &m, layout); err != nil {
		return nil, err
	}
	return &m, nil
}

// WriteDeltaFrom loads the build in newDir and writes the delta from base
// to it into dir (see WriteDelta).
func WriteDeltaFrom(ctx context.Context, dir string, base *shard.Build, newDir string, o DeltaOptions) (*shard.DeltaManifest, error) {
	nb, err := shard.LoadBuild(newDir)
	if err != nil {
		return nil, err
	}
	return WriteDelta(ctx, dir, base, nb, o)
}
