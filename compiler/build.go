package compiler

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/calldir/calldir/shard"
)

// Build is a build directory read into memory, every shard verified.
type Build struct {
	Dir      string
	Manifest *shard.Manifest
	Exts     map[int]*ExtEntries // by extension number
}

// ExtEntries are one extension's entries, in ascending order.
type ExtEntries struct {
	Kind    shard.Kind
	Info    shard.ShardInfo
	Numbers []int64
	Labels  []string // identify: the label of each number
}

// ReadManifestFile reads and decodes dir/manifest.json.
func ReadManifestFile(dir string) (*shard.Manifest, error) {
	f, err := os.Open(filepath.Join(dir, shard.ManifestName))
	if err != nil {
		return nil, fmt.Errorf("%s: not a build directory: %w", dir, unwrapPathError(err))
	}
	defer f.Close()
	m, err := shard.ReadManifest(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	if got := shard.BuildID(m.Shards); m.BuildID != got {
		return nil, fmt.Errorf("%s: manifest build_id %.12s… does not match its shards (%.12s…): edited or damaged; run calldir validate", dir, m.BuildID, got)
	}
	return m, nil
}

// LoadBuild reads a build directory: its manifest and every shard, each
// verified by the shard reader and against the manifest's SHA-256.
func LoadBuild(dir string) (*Build, error) {
	m, err := ReadManifestFile(dir)
	if err != nil {
		return nil, err
	}
	b := &Build{Dir: dir, Manifest: m, Exts: map[int]*ExtEntries{}}
	for _, s := range m.Shards {
		if !filepath.IsLocal(s.File) {
			return nil, fmt.Errorf("%s: manifest names shard %q outside the build directory", dir, s.File)
		}
		if _, dup := b.Exts[s.Extension]; dup {
			return nil, fmt.Errorf("%s: extension %d has more than one shard", dir, s.Extension)
		}
		kind, err := shard.ParseKind(s.Kind)
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %w", dir, s.File, err)
		}
		e := &ExtEntries{Kind: kind, Info: s}
		if err := readShardEntries(filepath.Join(dir, s.File), s, e); err != nil {
			return nil, err
		}
		b.Exts[s.Extension] = e
	}
	return b, nil
}

func readShardEntries(path string, s shard.ShardInfo, e *ExtEntries) error {
	f, err := shard.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if int64(f.Header().Count) != s.Count {
		return fmt.Errorf("%s: %d entries, the manifest says %d", path, f.Header().Count, s.Count)
	}
	e.Numbers = make([]int64, 0, s.Count)
	labels := f.Labels()
	for {
		rec, err := f.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		e.Numbers = append(e.Numbers, rec.Number)
		if e.Kind == shard.KindIdentify {
			e.Labels = append(e.Labels, labels[rec.Label])
		}
	}
}
