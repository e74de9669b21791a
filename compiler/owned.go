package compiler

import (
	"context"
	"path/filepath"

	"github.com/calldir/calldir/shard/outfs"
)

// Every path a compile reads or writes goes through shard/outfs: the run
// declares them (Job.plan), outfs refuses overlaps and outputs calldir did
// not make before any work, each output is written into a stage and the
// stages are swapped in together (outfs.Commit), after the guards ran
// again under the output directories' locks.

// ForeignOutputError is an output path that holds something calldir did
// not make, or not of the kind written there: it is never replaced.
type ForeignOutputError = outfs.ForeignError

// writeOutput writes one output on its own: declared, checked, staged,
// filled by fill and committed. reads are the paths the output is made
// from: it may not be, contain or lie inside one.
func writeOutput(ctx context.Context, role, dir string, m *outfs.Mark, reads []NamedPath, fill func(tmp string) error) error {
	var p outfs.Plan
	o := p.Output(role, filepath.Clean(dir), m)
	for _, r := range reads {
		p.ReadDir(r.Role, r.Path)
	}
	if err := p.Check(); err != nil {
		return err
	}
	st, err := o.Stage()
	if err != nil {
		return err
	}
	defer st.Abort()
	if err := fill(st.Dir); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return outfs.Commit(st)
}
