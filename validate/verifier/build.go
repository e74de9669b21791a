package verifier

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/calldir/calldir/shard"
)

// PlanFromBuild makes the plan that loads a build directory the way an app
// would: one extension per manifest extension, one complete load each, with
// that extension's shards in manifest order.
func PlanFromBuild(dir string) (*Plan, error) {
	f, err := os.Open(filepath.Join(dir, shard.ManifestName))
	if err != nil {
		return nil, fmt.Errorf("%s: not a build directory: %w", dir, err)
	}
	m, err := shard.ReadManifest(f)
	f.Close()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	p := &Plan{Settings: DefaultSettings(), Dir: abs}
	byExt := map[int][]shard.ShardInfo{}
	for _, s := range m.Shards {
		if !filepath.IsLocal(s.File) {
			return nil, fmt.Errorf("%s: manifest names shard %q outside the build directory", dir, s.File)
		}
		byExt[s.Extension] = append(byExt[s.Extension], s)
	}
	exts := make([]int, 0, len(byExt))
	for e := range byExt {
		exts = append(exts, e)
	}
	sort.Ints(exts)
	for _, e := range exts {
		name := fmt.Sprintf("ext%d", e)
		p.Extensions = append(p.Extensions, ExtDef{Name: name, Bundle: "com.calldir.build." + name})
		st := Step{Kind: StepLoad, Ext: name, FailAfter: -1}
		for _, s := range byExt[e] {
			kind := OpBlock
			if s.Kind == shard.KindIdentify.String() {
				kind = OpIdentify
			}
			st.Ops = append(st.Ops, Op{Kind: kind, Source: Source{Shard: filepath.Join(abs, s.File)}})
		}
		p.Steps = append(p.Steps, st)
	}
	p.Steps = append(p.Steps, Step{Kind: StepCheck})
	return p, nil
}
