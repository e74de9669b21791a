package compiler

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/calldir/calldir/shard"
	"github.com/calldir/calldir/shard/livelookup"
)

// LiveLookup is an export of builds for Live Caller ID Lookup
// (shard/livelookup): the directory Out, written atomically and replacing
// only an export calldir made, like a build.
type LiveLookup struct {
	Out      string
	Builds   []string // build directories: at most one blocking and one identification build
	IconsDir string   // identity icons, "" for none
	Options  livelookup.Options
}

// ExportLiveLookup writes the export. Builds and the icons directory inside
// Out are refused before anything is read.
func ExportLiveLookup(ctx context.Context, x LiveLookup) (*livelookup.Manifest, error) {
	var paths []NamedPath
	for _, b := range x.Builds {
		paths = append(paths, NamedPath{"BUILD", b})
	}
	paths = append(paths, NamedPath{"icons", x.IconsDir})
	if err := CheckOutside(x.Out, paths, "BUILD", "icons"); err != nil {
		return nil, err
	}
	if _, err := InspectOutput(x.Out, livelookup.ManifestName); err != nil {
		return nil, err
	}
	var in livelookup.Inputs
	for _, dir := range x.Builds {
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
	var m *livelookup.Manifest
	err := writeDirAtomic(ctx, x.Out, livelookup.ManifestName, func(tmp string) error {
		var err error
		m, err = livelookup.Export(ctx, tmp, in, o)
		return err
	})
	return m, err
}
