package fleet

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/calldir/calldir/shard/outfs"
	"github.com/calldir/calldir/validate/verifier/plan"
)

// ReproName is the plan file of a reproducer directory.
const ReproName = "replay.plan"

// writeRepro writes a reproducer of phone ph's violation: a directory
// under Options.Repro with a plan (the verifier's format) that replays
// every step the phone's database saw, on one device, with copies of the
// files it loaded, ending with an expect-build of what the invariant
// expected (the day's target, or the build the app stored). calldir
// replay DIR/replay.plan then reports the rows that differ. A power loss
// is marked in the plan by a check step: the plan format holds one fault
// per plan, so the sequence after it replays without the loss.
func (s *sim) writeRepro(ph *phone, day int, inv string) (string, error) {
	dir := filepath.Join(s.opts.Repro, fmt.Sprintf("phone-%05d-day-%03d", ph.id, day))
	files := filepath.Join(dir, "files")
	if err := os.MkdirAll(files, 0o755); err != nil {
		return "", err
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	p := &plan.Plan{Seed: s.opts.Seed, Settings: s.opts.Settings, Extensions: s.extDefs, Dir: abs}
	p.Settings.VFS = ""
	copied := map[string]string{}
	for _, st := range ph.steps {
		st.Ops = append([]plan.Op(nil), st.Ops...)
		for i, op := range st.Ops {
			if op.Source.Shard == "" {
				continue
			}
			local, ok := copied[op.Source.Shard]
			if !ok {
				data, err := os.ReadFile(op.Source.Shard)
				if err != nil {
					return "", err
				}
				local = filepath.Join(abs, "files", sum(data)[:16]+".shard")
				if err := outfs.WriteFile(local, data); err != nil {
					return "", err
				}
				copied[op.Source.Shard] = local
			}
			st.Ops[i].Source = plan.Source{Shard: local, Root: abs}
		}
		p.Steps = append(p.Steps, st)
	}
	expect := ""
	switch inv {
	case InvHoldsStored:
		for _, ext := range s.hist.Exts {
			if id, ok := ph.app.Stored[ext]; ok {
				expect = id
				break
			}
		}
	case InvRepair, InvConvergence, InvDeltaOnly:
		pi := min(s.first+day, len(s.hist.Pointers)-1)
		expect = s.hist.Pointers[pi].Pointer.Target
	}
	if _, ok := s.hist.Builds[expect]; ok {
		bdir := filepath.Join(abs, "expect-"+expect[:12])
		if err := copyBuild(filepath.Join(s.hist.Dir, "builds", expect), bdir); err != nil {
			return "", err
		}
		p.Steps = append(p.Steps, plan.Step{Kind: plan.StepExpect, Path: bdir})
	}
	p.Steps = append(p.Steps, plan.Step{Kind: plan.StepCheck})
	path := filepath.Join(dir, ReproName)
	text := fmt.Sprintf("# calldir fleet: phone %d, day %d, invariant %s; replay with: calldir replay %s\n", ph.id, day, inv, path) + p.Format(abs)
	if err := outfs.WriteFile(path, []byte(text)); err != nil {
		return "", err
	}
	return path, nil
}

// copyBuild copies a build's manifest and shards.
func copyBuild(src, dst string) error {
	m, err := readManifest(src)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return err
	}
	names := []string{"manifest.json"}
	for _, sh := range m.Shards {
		names = append(names, sh.File)
	}
	for _, n := range names {
		if !filepath.IsLocal(n) {
			return fmt.Errorf("%s: shard %q outside the build", src, n)
		}
		data, err := os.ReadFile(filepath.Join(src, n))
		if err != nil {
			return err
		}
		if err := outfs.WriteFile(filepath.Join(dst, n), data); err != nil {
			return err
		}
	}
	return nil
}
