package compiler

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/calldir/calldir/compiler/bench/gen"

	"github.com/calldir/calldir/e164"
	"github.com/calldir/calldir/shard"
)

// BenchmarkCompile1M compiles a generated 1,000,000-line input (mixed
// formats, 20% repeats, 1% bad lines) with every core, shards written.
func BenchmarkCompile1M(b *testing.B) {
	dir := b.TempDir()
	in := filepath.Join(dir, "in.txt")
	f, err := os.Create(in)
	if err != nil {
		b.Fatal(err)
	}
	if err := gen.Lines(f, 1_000_000, 1, gen.Mixed); err != nil {
		b.Fatal(err)
	}
	f.Close()
	fi, _ := os.Stat(in)
	norm, _ := e164.New("US", e164.PolicyPossible)
	b.SetBytes(fi.Size())
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		res, err := Compile(context.Background(), Options{Sources: []Source{{Path: in}}, Kind: shard.KindBlock, Normalizer: norm, MaxPerShard: shard.DefaultMaxPerShard, TempDir: dir})
		if err != nil {
			b.Fatal(err)
		}
		m := &shard.Manifest{}
		out := filepath.Join(dir, "build")
		if err := WriteBuild(context.Background(), out, res, m, Layout(res.Len(), shard.DefaultMaxPerShard)); err != nil {
			b.Fatal(err)
		}
		res.Close()
		// The manifest here is not a whole calldir manifest, so the next
		// WriteBuild would refuse to replace the build: remove it.
		b.StopTimer()
		if err := os.RemoveAll(out); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
}
