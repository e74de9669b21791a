package compiler

import (
	"context"
	"fmt"

	"github.com/calldir/calldir/shard"
	"github.com/calldir/calldir/shard/outfs"
)

// A DiffJob is the delta between two builds on disk, as `calldir diff`
// writes it:
//
//	declare and check Out, Old and New ──▶ load both builds
//	  ──▶ chunk and guards (shrink, emptied extensions)
//	  ──▶ stage the requests, delta.json last ──▶ swap (shard/outfs.Commit)
//
// `calldir compile --base --delta` writes the same delta as part of its
// Job, from the build it has just staged.
type DiffJob struct {
	Out string // the delta directory to write
	Old string // the base: the build the devices have
	New string // the target: the build they should end up with
	DeltaOptions
}

// RunDiff runs the job and returns the delta's manifest. The paths are
// checked before the builds are read; nothing is written when the job is
// refused.
func RunDiff(ctx context.Context, j DiffJob) (*shard.DeltaManifest, error) {
	var p outfs.Plan
	p.Output("out", j.Out, shard.DeltaMark)
	p.ReadDir("OLD_BUILD", j.Old)
	p.ReadDir("NEW_BUILD", j.New)
	if err := p.Check(); err != nil {
		return nil, err
	}
	old, err := shard.LoadBuild(j.Old)
	if err != nil {
		return nil, err
	}
	nb, err := shard.LoadBuild(j.New)
	if err != nil {
		return nil, err
	}
	// WriteDelta declares Out again, cleaned (a trailing slash would make
	// the check above follow a symbolic link), and checks it once more.
	return WriteDelta(ctx, j.Out, old, nb, j.DeltaOptions)
}

// DeltaOptions tune WriteDelta.
type DeltaOptions struct {
	Chunk       int // most entries (removals + additions) per request
	ToolVersion string
	// Guard, when set, refuses (before anything is written) a delta whose
	// target shrinks the list past Guard.MaxShrink or empties extensions of
	// the base.
	Guard *Guard
}

// WriteDelta writes the delta from old to new into dir, atomically like a
// build: per changed extension, its requests as shard files of at most
// Chunk entries (removals first, then additions), and delta.json naming
// both builds by build_id. It returns the delta manifest.
func WriteDelta(ctx context.Context, dir string, old, new *shard.Build, o DeltaOptions) (*shard.DeltaManifest, error) {
	if err := o.check(old, new); err != nil {
		return nil, err
	}
	var dm *shard.DeltaManifest
	reads := []NamedPath{{"OLD_BUILD", old.Dir}, {"NEW_BUILD", new.Dir}}
	err := writeOutput(ctx, "delta", dir, shard.DeltaMark, reads, func(tmp string) (err error) {
		dm, err = writeDeltaFiles(ctx, tmp, old, new, o)
		return err
	})
	if err != nil {
		return nil, err
	}
	return dm, nil
}

// check refuses a chunk CallKit would refuse and, with a Guard, a delta
// whose target shrinks the list or empties extensions of the base.
func (o DeltaOptions) check(old, new *shard.Build) error {
	if o.Chunk < 1 || o.Chunk > shard.MaxEntriesPerRequest {
		return &UsageError{fmt.Sprintf("chunk of %d entries: want 1 to %d entries per request", o.Chunk, shard.MaxEntriesPerRequest)}
	}
	g := o.Guard
	if g == nil {
		return nil
	}
	if err := g.CheckShrink(ShrinkBase, old.Dir, old.Manifest.Totals.Entries, new.Manifest.Totals.Entries); err != nil {
		return err
	}
	counts := map[int]int64{}
	for ext, x := range new.Exts {
		counts[ext] = int64(len(x.Numbers))
	}
	return g.CheckEmptied(old, counts)
}
