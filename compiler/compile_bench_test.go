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

// bench1M writes the benchmarks' generated 1,000,000-line input (mixed
// formats, 20% repeats, 1% bad lines) into a temporary dir and returns
// the dir, the options that compile it (region US, every core) and its
// size in bytes.
func bench1M(b *testing.B) (dir string, opts Options, size int64) {
	b.Helper()
	dir = b.TempDir()
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
	return dir, Options{Sources: []Source{{Path: in}}, Kind: shard.KindBlock, Normalizer: norm, MaxPerShard: shard.DefaultMaxPerShard, TempDir: dir}, fi.Size()
}

// BenchmarkCompile1M compiles bench1M's input with every core, shards
// written.
func BenchmarkCompile1M(b *testing.B) {
	dir, opts, size := bench1M(b)
	b.SetBytes(size)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		res, err := Compile(context.Background(), opts)
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
