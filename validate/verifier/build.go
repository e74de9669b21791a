package verifier

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"

	"github.com/calldir/calldir/shard"
)

// PlanFromBuild makes the plan that loads a build directory the way an app
// would: one extension per manifest extension, one complete load each, with
// that extension's shards in manifest order.
func PlanFromBuild(dir string) (*Plan, error) {
	p, _, err := planFromBuild(dir)
	if err != nil {
		return nil, err
	}
	p.Steps = append(p.Steps, Step{Kind: StepCheck})
	return p, nil
}

func planFromBuild(dir string) (*Plan, *shard.Manifest, error) {
	m, err := shard.ReadManifestFile(dir)
	if err != nil {
		return nil, nil, err
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, nil, err
	}
	p := &Plan{Settings: DefaultSettings(), Dir: abs}
	byExt := map[int][]shard.ShardInfo{}
	for _, s := range m.Shards {
		if !filepath.IsLocal(s.File) {
			return nil, nil, fmt.Errorf("%s: manifest names shard %q outside the build directory", dir, s.File)
		}
		byExt[s.Extension] = append(byExt[s.Extension], s)
	}
	exts := make([]int, 0, len(byExt))
	for e := range byExt {
		exts = append(exts, e)
	}
	sort.Ints(exts)
	for _, e := range exts {
		name := extName(e)
		p.Extensions = append(p.Extensions, ExtDef{Name: name, Bundle: "com.calldir.build." + name})
		st := Step{Kind: StepLoad, Ext: name, FailAfter: -1}
		for _, s := range byExt[e] {
			kind := OpBlock
			if s.Kind == shard.KindIdentify.String() {
				kind = OpIdentify
			}
			st.Ops = append(st.Ops, Op{Kind: kind, Source: Source{Shard: filepath.Join(abs, s.File), Root: abs}})
		}
		p.Steps = append(p.Steps, st)
	}
	return p, m, nil
}

func extName(e int) string { return fmt.Sprintf("ext%d", e) }

// DeltaError is a delta that does not apply: to the wrong base, or with
// a file that is missing or not the one its manifest names.
type DeltaError struct {
	Dir string
	Msg string
}

func (e *DeltaError) Error() string { return e.Dir + ": " + e.Msg }

// PlanFromDeltas makes the plan of a device that loads the base build
// completely and then applies each delta in order, as incremental loads
// (or complete loads of the extensions a delta ships whole). Every delta
// must name as its base the build the device has at that point; one that
// does not is refused here, before anything runs. With a target build, the
// plan ends by requiring every extension's rows to equal the target's.
// maintenanceEvery > 0 runs maintenance after every that many deltas.
func PlanFromDeltas(baseDir string, deltaDirs []string, targetDir string, maintenanceEvery int) (*Plan, error) {
	p, m, err := planFromBuild(baseDir)
	if err != nil {
		return nil, err
	}
	declared := map[string]bool{}
	for _, e := range p.Extensions {
		declared[e.Name] = true
	}
	declare := func(ext int) string {
		name := extName(ext)
		if !declared[name] {
			declared[name] = true
			p.Extensions = append(p.Extensions, ExtDef{Name: name, Bundle: "com.calldir.build." + name})
		}
		return name
	}
	applied, from := m.BuildID, baseDir
	for i, dir := range deltaDirs {
		dm, root, err := readDelta(dir)
		if err != nil {
			return nil, err
		}
		if dm.Base != applied {
			root.Close()
			return nil, &DeltaError{Dir: dir, Msg: fmt.Sprintf("applies to build %.12s…, but the device has build %.12s… (%s): refused before any row changes; do a complete load of the target build instead", dm.Base, applied, from)}
		}
		steps, err := deltaSteps(dm, root, i, declare)
		root.Close()
		if err != nil {
			return nil, &DeltaError{Dir: dir, Msg: err.Error()}
		}
		p.Steps = append(p.Steps, steps...)
		applied, from = dm.Target, fmt.Sprintf("after delta %s", dir)
		if maintenanceEvery > 0 && (i+1)%maintenanceEvery == 0 {
			p.Steps = append(p.Steps, Step{Kind: StepMaintenance, Tag: fmt.Sprintf("maintenance after delta %d", i+1)})
		}
	}
	if targetDir != "" {
		tm, err := shard.ReadManifestFile(targetDir)
		if err != nil {
			return nil, err
		}
		if tm.BuildID != applied {
			return nil, &DeltaError{Dir: targetDir, Msg: fmt.Sprintf("is build %.12s…, but the deltas lead to build %.12s…", tm.BuildID, applied)}
		}
		abs, err := filepath.Abs(targetDir)
		if err != nil {
			return nil, err
		}
		for _, s := range tm.Shards {
			declare(s.Extension)
		}
		p.Steps = append(p.Steps, Step{Kind: StepExpect, Path: abs})
	}
	p.Steps = append(p.Steps, Step{Kind: StepCheck})
	return p, nil
}

// deltaSteps are the loads of the i-th delta, whose files are checked
// through root, the delta directory.
func deltaSteps(dm *shard.DeltaManifest, root *os.Root, i int, declare func(int) string) ([]Step, error) {
	abs := root.Name()
	var steps []Step
	for _, x := range dm.Extensions {
		name := declare(x.Extension)
		for _, req := range x.Requests {
			st := Step{Kind: StepLoad, Ext: name, Incremental: x.Mode != shard.ModeComplete, FailAfter: -1, Tag: fmt.Sprintf("delta %d", i+1)}
			if req.RemoveAll {
				st.Ops = append(st.Ops, Op{Kind: OpRemoveAll})
			}
			for _, f := range req.Files {
				op, err := deltaOp(f.Op)
				if err != nil {
					return nil, err
				}
				if err := checkDeltaFile(root, f); err != nil {
					return nil, err
				}
				if op == OpBlock && x.Kind == shard.KindIdentify.String() {
					op = OpIdentify
				}
				st.Ops = append(st.Ops, Op{Kind: op, Source: Source{Shard: filepath.Join(abs, f.File), Root: abs}})
			}
			steps = append(steps, st)
		}
	}
	return steps, nil
}

// readDelta reads a delta directory's manifest through an os.Root of the
// directory, which it returns open (named by the absolute path) for the
// delta's files to be checked through.
func readDelta(dir string) (*shard.DeltaManifest, *os.Root, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, nil, err
	}
	root, err := os.OpenRoot(abs)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: not a delta directory: %w", dir, err)
	}
	f, err := shard.OpenFileIn(root, shard.DeltaManifestName)
	if err != nil {
		root.Close()
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil, fmt.Errorf("%s: not a delta directory: %w", dir, err)
		}
		return nil, nil, err
	}
	dm, err := shard.ReadDeltaManifest(f)
	f.Close()
	if err != nil {
		root.Close()
		return nil, nil, fmt.Errorf("%s: %w", dir, err)
	}
	return dm, root, nil
}

func deltaOp(op string) (OpKind, error) {
	switch op {
	case shard.OpRemoveBlock:
		return OpRemoveBlock, nil
	case shard.OpRemoveIdentify:
		return OpRemoveIdentify, nil
	case shard.OpAddBlock, shard.OpComplete:
		return OpBlock, nil
	case shard.OpAddIdentify:
		return OpIdentify, nil
	}
	return "", fmt.Errorf("unknown op %q", op)
}

// checkDeltaFile requires a delta file to be inside the delta directory
// root (a symlink leading out is refused too) and to be the file its
// manifest names.
func checkDeltaFile(root *os.Root, f shard.DeltaFile) error {
	if !filepath.IsLocal(f.File) {
		return fmt.Errorf("file %q is outside the delta directory", f.File)
	}
	sum, err := shard.HashFile(root, f.File)
	if err != nil {
		return err
	}
	if sum != f.SHA256 {
		return fmt.Errorf("%s: SHA-256 %.12s…, the delta manifest says %.12s…: damaged or replaced", f.File, sum, f.SHA256)
	}
	return nil
}
