package fleet

import (
	"context"
	"crypto/ed25519"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/calldir/calldir/compiler"
	"github.com/calldir/calldir/shard"
	"github.com/calldir/calldir/shard/channel"
	"github.com/calldir/calldir/validate/fleet/refresh"
	"github.com/calldir/calldir/validate/verifier"
)

// testChannel is a published channel with its whole history kept: a
// mirror that, like a CDN's immutable cache, never drops a file.
type testChannel struct {
	dir string
	pub ed25519.PublicKey
}

// mustChannel publishes builds daily builds of about entries blocking
// numbers each (2% churn a day, shards of at most entries/2+1: two
// extensions), with deltas in requests of at most chunk entries, and
// returns the channel, published with KeepHistory (every build and delta
// it ever offered stays).
func mustChannel(t testing.TB, builds, entries, chunk int) testChannel {
	t.Helper()
	return mustChannelEvery(t, builds, entries, chunk, 24*time.Hour)
}

// mustChannelEvery is mustChannel with the builds published every apart
// (0: all in the same second, as one publish of several builds does).
func mustChannelEvery(t testing.TB, builds, entries, chunk int, every time.Duration) testChannel {
	t.Helper()
	ctx := context.Background()
	tmp := t.TempDir()
	pub, priv, err := channel.GenerateKey(rand.NewChaCha8([32]byte{1}))
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(7, 7))
	set := map[int64]bool{}
	for len(set) < entries {
		set[14155000000+rng.Int64N(1_000_000)] = true
	}
	ch := filepath.Join(tmp, "channel")
	t0 := time.Date(2026, 3, 1, 6, 0, 0, 0, time.UTC)
	for i := 0; i < builds; i++ {
		if i > 0 {
			n := 0
			for k := range set {
				if n >= entries/50 {
					break
				}
				delete(set, k)
				n++
			}
			for len(set) < entries {
				set[14155000000+rng.Int64N(1_000_000)] = true
			}
		}
		nums := make([]int64, 0, len(set))
		for k := range set {
			nums = append(nums, k)
		}
		slices.Sort(nums)
		bdir := filepath.Join(tmp, "build", string(rune('a'+i)))
		res := &compiler.Result{Kind: shard.KindBlock, Numbers: nums}
		res.Totals.Entries = int64(len(nums))
		m := &shard.Manifest{Format: shard.ManifestFormat, FormatVersion: shard.ManifestVersion, ToolVersion: "test"}
		if err := compiler.WriteBuild(ctx, bdir, res, m, compiler.Layout(len(nums), entries/2+1)); err != nil {
			t.Fatal(err)
		}
		if _, err := channel.Publish(ctx, bdir, channel.PublishOptions{Dir: ch, Key: priv, Retain: 3, Expires: 30 * 24 * time.Hour,
			Now: t0.Add(time.Duration(i) * every), Chunk: chunk, ToolVersion: "test", MaxShrink: 1, KeepHistory: true}); err != nil {
			t.Fatal(err)
		}
	}
	return testChannel{dir: ch, pub: pub}
}

func testOptions(ch testChannel, devices, days int, seed uint64) Options {
	return Options{Channel: ch.dir, Keys: []ed25519.PublicKey{ch.pub}, Devices: devices, Days: days, Seed: seed,
		Rates: Rates{}, Settings: verifier.DefaultSettings(), Timeout: 100 * time.Millisecond}
}

func mustRun(t *testing.T, o Options) *Report {
	t.Helper()
	rep, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

var _ = refresh.Steps

// copyChannel copies the channel src to dst, to damage the copy.
func copyChannel(t testing.TB, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}
