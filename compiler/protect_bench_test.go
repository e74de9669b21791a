package compiler

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/calldir/calldir/shard"
)

// BenchmarkCompile1MProtect1000 is BenchmarkCompile1M with a 1,000-line
// protect list read and checked: numbers spread evenly over the entries,
// each next to one and none in the build, so that the walk goes through
// every entry and stops near every protected number (its worst case).
// Compare it with BenchmarkCompile1M for the check's cost.
func BenchmarkCompile1MProtect1000(b *testing.B) {
	dir, opts, size := bench1M(b)
	protect := benchProtectList(b, dir, opts, 1000)
	ctx := context.Background()
	b.SetBytes(size)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ps, err := readProtect(ctx, opts, protect)
		if err != nil {
			b.Fatal(err)
		}
		res, err := Compile(ctx, opts)
		if err != nil {
			b.Fatal(err)
		}
		if err := ps.checkProtected(ctx, opts, res); err != nil {
			b.Fatal(err)
		}
		m := &shard.Manifest{}
		out := filepath.Join(dir, "build")
		if err := WriteBuild(ctx, out, res, m, Layout(res.Len(), shard.DefaultMaxPerShard)); err != nil {
			b.Fatal(err)
		}
		res.Close()
		b.StopTimer()
		if err := os.RemoveAll(out); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
}

// benchProtectList writes a protect list of k numbers not in opts' build,
// one after every len/k-th entry, and returns it as a source.
func benchProtectList(b *testing.B, dir string, opts Options, k int) []Source {
	res, err := Compile(context.Background(), opts)
	if err != nil {
		b.Fatal(err)
	}
	defer res.Close()
	var nums []int64
	if err := res.Entries().Each(func(_ int, n int64) error {
		nums = append(nums, n)
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	p := filepath.Join(dir, "protect.txt")
	f, err := os.Create(p)
	if err != nil {
		b.Fatal(err)
	}
	step := len(nums) / k
	for i := 0; i < k; i++ {
		j := i * step
		n := nums[j] + 1
		for j+1 < len(nums) && nums[j+1] == n { // next to an entry, not one
			j++
			n++
		}
		fmt.Fprintf(f, "+%d\n", n)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	return []Source{{Path: p}}
}

// BenchmarkProtectCheck1M is the check alone, on BenchmarkCompile1M's
// entries (packed, as a compile holds them) with its 1,000-line protect
// list: the walk over every entry.
func BenchmarkProtectCheck1M(b *testing.B) {
	dir, opts, _ := bench1M(b)
	ctx := context.Background()
	ps, err := readProtect(ctx, opts, benchProtectList(b, dir, opts, 1000))
	if err != nil {
		b.Fatal(err)
	}
	res, err := Compile(ctx, opts)
	if err != nil {
		b.Fatal(err)
	}
	defer res.Close()
	b.SetBytes(int64(res.Len()) * 8)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := ps.checkProtected(ctx, opts, res); err != nil {
			b.Fatal(err)
		}
	}
}
