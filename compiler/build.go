package compiler

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
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

// ReadManifestFile reads and decodes dir/manifest.json, through an os.Root
// of dir (see readManifestIn).
func ReadManifestFile(dir string) (*shard.Manifest, error) {
	root, err := OpenBuildRoot(dir)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	return readManifestIn(root)
}

// OpenBuildRoot opens a build directory as an os.Root: every reader of a
// build opens its files through it, so that neither a manifest naming
// "../x" nor a file replaced by a symlink leading out of the directory can
// make calldir read (and print, or copy into a delta) a file elsewhere.
func OpenBuildRoot(dir string) (*os.Root, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("%s: not a build directory: %w", dir, unwrapPathError(err))
	}
	return root, nil
}

// readManifestIn reads and decodes the manifest of the build directory
// root, and checks its build_id against its shards.
func readManifestIn(root *os.Root) (*shard.Manifest, error) {
	dir := root.Name()
	f, err := shard.OpenFileIn(root, shard.ManifestName)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s: not a build directory: %w", dir, unwrapPathError(errors.Unwrap(err)))
	}
	if err != nil {
		return nil, err
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
// verified by the shard reader and against the manifest's SHA-256. Every
// file is opened through an os.Root of dir (see OpenBuildRoot).
func LoadBuild(dir string) (*Build, error) {
	root, err := OpenBuildRoot(dir)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	m, err := readManifestIn(root)
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
		if err := readShardEntries(root, s, e); err != nil {
			return nil, err
		}
		b.Exts[s.Extension] = e
	}
	return b, nil
}

func readShardEntries(root *os.Root, s shard.ShardInfo, e *ExtEntries) error {
	path := filepath.Join(root.Name(), s.File)
	f, err := shard.OpenIn(root, s.File)
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
