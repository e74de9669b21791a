package livelookup

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/calldir/calldir/shard"
)

// Build is a calldir build opened for export: its manifest read and its
// build_id checked, its shards in numeric order. Its entries are streamed
// by Each, one shard at a time, never held.
type Build struct {
	Dir      string
	Manifest *shard.Manifest
	Kind     shard.Kind
	shards   []shard.ShardInfo // by first number
}

// OpenBuild reads the manifest of the build in dir.
func OpenBuild(dir string) (*Build, error) {
	m, err := shard.ReadManifestFile(dir)
	if err != nil {
		return nil, err
	}
	kind, err := shard.ParseKind(m.Options.Kind)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	b := &Build{Dir: dir, Manifest: m, Kind: kind, shards: slices.Clone(m.Shards)}
	for _, s := range b.shards {
		if s.Kind != kind.String() {
			return nil, fmt.Errorf("%s: %s is a %s shard in a %s build", dir, s.File, s.Kind, kind)
		}
	}
	// With --base, extensions keep their numbers, so manifest order need
	// not be numeric order; shards of a kind never overlap (Each checks).
	slices.SortFunc(b.shards, func(x, y shard.ShardInfo) int { return cmp.Compare(x.First, y.First) })
	return b, nil
}

// Entries is the number of entries the manifest gives.
func (b *Build) Entries() int64 { return b.Manifest.Totals.Entries }

// Each calls fn with every entry of the build in ascending numeric order
// (label is "" in a blocking build). Each shard is read through an os.Root
// of the build, verified as it streams (order, range, checksum) and
// against the manifest's count and SHA-256 once read; numbers must ascend
// across shards too. An error from fn stops the walk and is returned.
func (b *Build) Each(ctx context.Context, fn func(n int64, label string) error) error {
	root, err := shard.OpenBuildRoot(b.Dir)
	if err != nil {
		return err
	}
	defer root.Close()
	prev := int64(0)
	for _, s := range b.shards {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := b.eachIn(root, s, &prev, fn); err != nil {
			return err
		}
	}
	return nil
}

// eachIn streams one shard; prev is the last number of the shards before.
func (b *Build) eachIn(root *os.Root, s shard.ShardInfo, prev *int64, fn func(int64, string) error) error {
	path := filepath.Join(root.Name(), s.File)
	return shard.EachInShard(root, s, func(n int64, label string) error {
		if n <= *prev {
			return fmt.Errorf("%s: %d is not above %d, the last number of the shard before: shards overlap; run calldir validate", path, n, *prev)
		}
		*prev = n
		return fn(n, label)
	})
}
