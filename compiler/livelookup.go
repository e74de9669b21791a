package compiler

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/calldir/calldir/shard"
	"github.com/calldir/calldir/shard/livelookup"
	"github.com/calldir/calldir/shard/outfs"
)

// LiveLookup is an export of builds for Live Caller ID Lookup
// (shard/livelookup): the directory Out, written atomically and replacing
// only an export calldir made, like a build.
type LiveLookup struct {
	Out      string
	Builds   []string // build directories: at most one blocking and one identification build
	IconsDir string   // identity icons, "" for none
	Options  livelookup.Options
	// Guard, when set, refuses an export of 0 numbers, or one holding too
	// many fewer numbers of a kind than the export it replaces; checked
	// again just before the swap.
	Guard *Guard
	// Role names Out in messages: "live-lookup" (the default, compile's
	// flag) or "out" (export's).
	Role string
}

// EmptyExportError is an export that would hold no numbers.
type EmptyExportError struct{ Out string }

func (e *EmptyExportError) Error() string {
	return fmt.Sprintf("the export %s would hold 0 numbers: devices looking numbers up would find none", e.Out)
}

// ExportLiveLookup writes the export. Builds and the icons directory inside
// Out are refused before anything is read.
func ExportLiveLookup(ctx context.Context, x LiveLookup) (*livelookup.Manifest, error) {
	var p outfs.Plan
	out := x.declare(&p)
	if err := p.Check(); err != nil {
		return nil, err
	}
	st, err := out.Stage()
	if err != nil {
		return nil, err
	}
	defer st.Abort()
	m, err := x.exportInto(ctx, st.Dir, x.Builds)
	if err != nil {
		return nil, err
	}
	out.Guard = x.guard(m)
	return m, outfs.Commit(st)
}

// declare adds the export's paths to a plan: its builds and icons are
// read, Out is written.
func (x *LiveLookup) declare(p *outfs.Plan) *outfs.Output {
	role := x.Role
	if role == "" {
		role = "live-lookup"
	}
	out := p.Output(role, x.Out, livelookup.Mark)
	for _, b := range x.Builds {
		p.ReadDir("BUILD", b)
	}
	p.ReadDir("icons", x.IconsDir)
	return out
}

// exportInto writes the export of builds into dir (a stage of x.Out) and
// sets the guard its stage is committed under.
func (x *LiveLookup) exportInto(ctx context.Context, dir string, builds []string) (*livelookup.Manifest, error) {
	var in livelookup.Inputs
	for _, dir := range builds {
		b, err := livelookup.OpenBuild(dir)
		if err != nil {
			return nil, err
		}
		slot := &in.Block
		if b.Kind == shard.KindIdentify {
			slot = &in.Identity
		}
		if *slot != nil {
			return nil, &UsageError{fmt.Sprintf("%s and %s are both %s builds: an export takes one of each kind (compile them into one build)", (*slot).Dir, dir, b.Kind)}
		}
		*slot = b
	}
	o := x.Options
	if x.IconsDir != "" && in.Identity != nil {
		icons, err := livelookup.OpenIcons(x.IconsDir)
		if err != nil {
			return nil, err
		}
		defer icons.Close()
		o.Icons = icons
	}
	o.PIRDir = filepath.Base(filepath.Clean(x.Out)) + "-pir"
	m, err := livelookup.Export(ctx, dir, in, o)
	if err != nil {
		return nil, err
	}
	return m, x.checkNew(m)
}

// checkNew refuses an empty export before it is committed.
func (x *LiveLookup) checkNew(m *livelookup.Manifest) error {
	if x.Guard == nil || x.Guard.AllowEmpty {
		return nil
	}
	for _, n := range m.Counts() {
		if n > 0 {
			return nil
		}
	}
	return &EmptyExportError{Out: x.Out}
}

// guard is the check an export's stage is committed under: the export it
// replaces may not shrink past the guard.
func (x *LiveLookup) guard(m *livelookup.Manifest) func(*outfs.State) error {
	if x.Guard == nil {
		return nil
	}
	return func(prev *outfs.State) error {
		return x.Guard.checkCounts("export", x.Out, prev, m.Counts())
	}
}
