package sortx

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"math/bits"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Budgets of the Buckets tests, in bytes; 5/8 of a budget holds numbers.
const (
	bkTiny   = 64 << 10  // 5 blocks: a spill every few blocks, every bucket past 1 Ki numbers sorted by a Runs
	bkMedium = 2 << 20   // 160 blocks
	bkLarge  = 256 << 20 // 20 Ki blocks: more than one per bucket, never spills below 1 Mi numbers
)

// bkSrcBits is the source id width of the compiler's keys (entries.go
// sourceKey: n<<srcBits | src).
const bkSrcBits = 13

// bkSourceKeys draws n CallKit-like keys as the compiler makes them: an 11
// to 15 digit number shifted left by 13 bits plus a small source id, with
// about dup of them repeats of earlier keys.
func bkSourceKeys(r *rand.Rand, n int, dup float64) []int64 {
	v := make([]int64, n)
	for i := range v {
		if i > 0 && r.Float64() < dup {
			v[i] = v[r.IntN(i)]
			continue
		}
		lo := int64(math.Pow10(10 + r.IntN(5))) // 11..15 digits
		num := lo + r.Int64N(9*lo)
		v[i] = num<<bkSrcBits | r.Int64N(16)
	}
	return v
}

// bkBoundaries are keys on and around the bucket boundaries: powers of
// two and their neighbours, the small keys that are their own bucket, and
// the extremes.
func bkBoundaries() []int64 {
	v := []int64{1, 2, 3, 510, 511, 512, 513, 767, 768, 1023, 1024, 1025, math.MaxInt64 - 1, math.MaxInt64}
	for s := 1; s < 63; s++ {
		p := int64(1) << s
		v = append(v, p-1, p, p+1)
		// the last and first key of every 1/256th under this power
		if s > mantBits {
			step := p >> mantBits
			for m := int64(1); m < 1<<mantBits; m += 37 {
				v = append(v, p+m*step-1, p+m*step)
			}
		}
	}
	return v
}

// bucketGens are positive-key distributions for Buckets.
var bucketGens = []gen{
	{"uniform-int64", func(r *rand.Rand, n int) []int64 {
		v := make([]int64, n)
		for i := range v {
			v[i] = 1 + r.Int64N(math.MaxInt64)
		}
		return v
	}},
	{"uniform-magnitude", func(r *rand.Rand, n int) []int64 {
		// every bit length equally likely: small keys and every bucket row
		v := make([]int64, n)
		for i := range v {
			v[i] = max(1, int64(r.Uint64()>>1)>>r.IntN(63))
		}
		return v
	}},
	{"clustered", func(r *rand.Rand, n int) []int64 {
		// a 64 Ki wide range: one or two buckets hold everything
		v := make([]int64, n)
		for i := range v {
			v[i] = 33_600_000_000<<bkSrcBits + r.Int64N(1<<16)
		}
		return v
	}},
	{"clustered-plus-spread", func(r *rand.Rand, n int) []int64 {
		// one huge bucket among many small ones: both sort paths in one
		// iteration
		v := bkSourceKeys(r, n, 0.1)
		for i := range v {
			if r.IntN(2) == 0 {
				v[i] = 44_207_946_0000<<bkSrcBits + r.Int64N(1<<20)
			}
		}
		return v
	}},
	{"callkit-source-keys", func(r *rand.Rand, n int) []int64 { return bkSourceKeys(r, n, 0.2) }},
	{"many-dups", func(r *rand.Rand, n int) []int64 {
		v := make([]int64, n)
		for i := range v {
			v[i] = 33_612_345_678<<bkSrcBits + r.Int64N(50)
		}
		return v
	}},
	{"boundaries", func(r *rand.Rand, n int) []int64 {
		b := bkBoundaries()
		v := make([]int64, n)
		for i := range v {
			v[i] = b[r.IntN(len(b))]
		}
		return v
	}},
	{"small-keys", func(r *rand.Rand, n int) []int64 {
		v := make([]int64, n)
		for i := range v {
			v[i] = 1 + r.Int64N(5000)
		}
		return v
	}},
}

func TestBucketsSort(t *testing.T) {
	// A budget of a few blocks spills every few numbers when the keys are
	// spread over thousands of buckets, and each spill costs a pass over
	// every bucket and a write per bucket: the small budgets get the big
	// sizes only where the keys fall in a few buckets, or where they fall
	// like the compiler's.
	sizes := []int{0, 1, 17, 5_000, 20_000, 200_000}
	budgets := []int64{bkTiny, bkMedium, bkLarge}
	if !long {
		sizes = []int{0, 1, 17, 5_000, 20_000}
	}
	few := map[string]bool{"clustered": true, "many-dups": true}
	for _, g := range bucketGens {
		for _, n := range sizes {
			for _, budget := range budgets {
				switch {
				case few[g.name]:
				case budget == bkTiny && n > 5_000:
					continue
				case budget == bkMedium && n == 200_000 && g.name != "callkit-source-keys" && g.name != "clustered-plus-spread":
					continue
				}
				t.Run(fmt.Sprintf("%s/%d/%dKiB", g.name, n, budget>>10), func(t *testing.T) {
					t.Parallel()
					in := g.f(rand.New(rand.NewPCG(uint64(n), uint64(budget))), n)
					bkCheckSort(t, in, budget, n%2 == 0)
				})
			}
		}
	}
}

// TestBucketsSortSeeds runs small random inputs of every distribution
// under many seeds: the odd sizes and mixes the table above misses.
func TestBucketsSortSeeds(t *testing.T) {
	seeds := 30
	if !long {
		seeds = 10
	}
	for seed := range seeds {
		r := rand.New(rand.NewPCG(uint64(seed), 99))
		g := bucketGens[seed%len(bucketGens)]
		n := r.IntN(6_000)
		// mix in a second distribution
		in := append(g.f(r, n), bucketGens[r.IntN(len(bucketGens))].f(r, r.IntN(2000))...)
		r.Shuffle(len(in), func(i, j int) { in[i], in[j] = in[j], in[i] })
		budget := []int64{bkTiny, 3 * bkTiny, bkMedium}[seed%3]
		t.Run(fmt.Sprintf("%d/%s/%d", seed, g.name, len(in)), func(t *testing.T) {
			bkCheckSort(t, in, budget, seed%2 == 0)
		})
	}
}

// bkCheckSort sorts in through a Buckets and compares with the reference,
// the spills with what the budget allows, and the directory with empty
// after Close.
func bkCheckSort(t *testing.T, in []int64, budget int64, addSlice bool) {
	t.Helper()
	dir := t.TempDir()
	b := NewBuckets(dir, budget)
	defer b.Close()
	if addSlice {
		rng := rand.New(rand.NewPCG(uint64(len(in)), 5))
		for rest := in; len(rest) > 0; {
			k := min(len(rest), 1+rng.IntN(3000))
			mustNoErr(t, "AddSlice", b.AddSlice(rest[:k]))
			rest = rest[k:]
		}
	} else {
		for _, x := range in {
			mustNoErr(t, "Add", b.Add(x))
		}
	}
	if b.Len() != len(in) {
		t.Errorf("Len() = %d, want %d", b.Len(), len(in))
	}
	// Every bucket fills blocks of its own: the numbers spill exactly when
	// they need more blocks than the budget holds.
	var count [numBuckets]int
	blocks := 0
	bk := b.parts[0].bk
	for _, x := range in {
		if count[bucketOf(x)]%bk == 0 {
			blocks++
		}
		count[bucketOf(x)]++
	}
	if mustSpill := blocks > b.limit/bk; (b.Spilled() > 0) != mustSpill {
		t.Errorf("%d blocks needed, %d in the budget: Spilled() = %d", blocks, b.limit/bk, b.Spilled())
	}
	if budget == bkTiny && len(in) > b.limit && b.Spilled() == 0 {
		t.Errorf("%d numbers, %d in memory at most: Spilled() = 0", len(in), b.limit)
	}
	if budget == bkLarge && len(in) < 1<<20 && b.Spilled() != 0 {
		t.Errorf("Spilled() = %d, want 0", b.Spilled())
	}
	big := 0
	for k := range numBuckets {
		if b.bucketSize(k) > b.bigBucket() {
			big++
		}
	}
	want := reference(in)

	it, err := b.Iterator()
	mustNoErr(t, "Iterator", err)
	got := drain(t, it)
	assertEqual(t, fmt.Sprintf("Buckets (spilled %d, %d big buckets)", b.Spilled(), big), got, want)
	if x, ok := it.Next(); ok {
		t.Errorf("Next after the end: %d, true", x)
	}
	mustNoErr(t, "Close", b.Close())
	mustNoErr(t, "Close again", b.Close())
	assertEmptyDir(t, dir)
}

// TestBucketsOversized checks that the clustered inputs do take the Runs
// path: a property test that never sorts a big bucket would prove little.
func TestBucketsOversized(t *testing.T) {
	for _, name := range []string{"clustered", "clustered-plus-spread", "many-dups"} {
		t.Run(name, func(t *testing.T) {
			var g gen
			for _, g = range bucketGens {
				if g.name == name {
					break
				}
			}
			in := g.f(rand.New(rand.NewPCG(7, 7)), 30_000)
			b := NewBuckets(t.TempDir(), bkTiny)
			defer b.Close()
			mustNoErr(t, "AddSlice", b.AddSlice(in))
			big := 0
			for k := range numBuckets {
				if b.bucketSize(k) > b.bigBucket() {
					big++
				}
			}
			if big == 0 || b.Spilled() == 0 {
				t.Fatalf("%d big buckets, %d spills: want both", big, b.Spilled())
			}
			it, err := b.Iterator()
			mustNoErr(t, "Iterator", err)
			assertEqual(t, name, drain(t, it), reference(in))
		})
	}
}

// TestBucketNextChunk mixes Next and NextChunk over big, spilled and small
// buckets: together they give every number once, in order, and a chunk is
// never empty.
func TestBucketNextChunk(t *testing.T) {
	for _, g := range bucketGens {
		t.Run(g.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(8, 8))
			in := g.f(r, 30_000)
			b := NewBuckets(t.TempDir(), bkTiny)
			defer b.Close()
			mustNoErr(t, "AddSlice", b.AddSlice(in))
			it, err := b.Iterator()
			mustNoErr(t, "Iterator", err)
			var got []int64
			for {
				if r.IntN(3) == 0 {
					x, ok := it.Next()
					if !ok {
						break
					}
					got = append(got, x)
					continue
				}
				c, ok := it.NextChunk()
				if !ok {
					break
				}
				if len(c) == 0 {
					t.Fatal("empty chunk")
				}
				got = append(got, c...)
			}
			mustNoErr(t, "iterate", it.Err())
			assertEqual(t, g.name, got, reference(in))
			if _, ok := it.NextChunk(); ok {
				t.Error("NextChunk after the end: ok")
			}
		})
	}
}

func TestBucketOf(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 1))
	sample := bkBoundaries()
	for range 100_000 {
		sample = append(sample, max(1, int64(r.Uint64()>>1)>>r.IntN(63)))
	}
	for x := int64(1); x < 3000; x++ {
		sample = append(sample, x)
	}
	slices.Sort(sample)
	sample = slices.Compact(sample)
	prev := -1
	for i, x := range sample {
		k := bucketOf(x)
		if k < 0 || k >= numBuckets {
			t.Fatalf("bucketOf(%d) = %d, out of [0, %d)", x, k, numBuckets)
		}
		if k < prev {
			t.Fatalf("bucketOf(%d) = %d < bucketOf(%d) = %d", x, k, sample[i-1], prev)
		}
		if i > 0 {
			// Same bucket exactly when the keys share their bit length
			// and the 8 bits below the top one (or are the same small
			// key): each bucket spans at most 1/256 of its keys.
			y := sample[i-1]
			lx, ly := bits.Len64(uint64(x)), bits.Len64(uint64(y))
			same := lx == ly && (lx <= mantBits+1 && x == y || lx > mantBits+1 && x>>(lx-mantBits-1) == y>>(ly-mantBits-1))
			if (k == prev) != same {
				t.Fatalf("bucketOf(%d) = %d, bucketOf(%d) = %d: same bucket %v, want %v", y, prev, x, k, k == prev, same)
			}
		}
		prev = k
	}
	if k := bucketOf(math.MaxInt64); k != numBuckets-1 {
		t.Errorf("bucketOf(MaxInt64) = %d, want %d", k, numBuckets-1)
	}
	if k := bucketOf(1); k != 1 {
		t.Errorf("bucketOf(1) = %d, want 1", k)
	}
}

func TestBucketsRefuses(t *testing.T) {
	for _, bad := range [][]int64{{0}, {-1}, {math.MinInt64}, {5, 7, -3, 9}} {
		t.Run(fmt.Sprint(bad), func(t *testing.T) {
			dir := t.TempDir()
			b := NewBuckets(dir, bkTiny)
			defer b.Close()
			var err error
			if len(bad) == 1 {
				err = b.Add(bad[0])
			} else {
				err = b.AddSlice(bad)
			}
			if err == nil {
				t.Fatalf("adding %v: no error", bad)
			}
			if err2 := b.Add(1); err2 == nil {
				t.Error("Add after the error: no error")
			}
			if _, err2 := b.Iterator(); err2 == nil {
				t.Error("Iterator after the error: no error")
			}
			mustNoErr(t, "Close", b.Close())
			assertEmptyDir(t, dir)
		})
	}
}

func TestBucketsLifecycle(t *testing.T) {
	t.Run("add after Iterator", func(t *testing.T) {
		b := NewBuckets(t.TempDir(), bkTiny)
		defer b.Close()
		mustNoErr(t, "Add", b.Add(1))
		_, err := b.Iterator()
		mustNoErr(t, "Iterator", err)
		if err := b.Add(2); !errors.Is(err, errFinished) {
			t.Errorf("Add after Iterator: %v, want %v", err, errFinished)
		}
		if err := b.AddSlice([]int64{2, 3}); !errors.Is(err, errFinished) {
			t.Errorf("AddSlice after Iterator: %v, want %v", err, errFinished)
		}
	})
	t.Run("Iterator twice", func(t *testing.T) {
		b := NewBuckets(t.TempDir(), bkTiny)
		defer b.Close()
		mustNoErr(t, "AddSlice", b.AddSlice([]int64{3, 1, 2}))
		it, err := b.Iterator()
		mustNoErr(t, "Iterator", err)
		if _, err := b.Iterator(); err == nil {
			t.Error("Iterator called twice: no error")
		}
		// the first iterator is unharmed
		assertEqual(t, "first iterator", drain(t, it), []int64{1, 2, 3})
	})
	t.Run("empty", func(t *testing.T) {
		dir := t.TempDir()
		b := NewBuckets(dir, 0)
		it, err := b.Iterator()
		mustNoErr(t, "Iterator", err)
		if x, ok := it.Next(); ok {
			t.Errorf("Next of nothing: %d", x)
		}
		mustNoErr(t, "Err", it.Err())
		mustNoErr(t, "Close", b.Close())
		assertEmptyDir(t, dir)
	})
	t.Run("Close without Iterator", func(t *testing.T) {
		dir := t.TempDir()
		b := NewBuckets(dir, bkTiny)
		mustNoErr(t, "AddSlice", b.AddSlice(bkSourceKeys(rand.New(rand.NewPCG(1, 1)), 5_000, 0)))
		if b.Spilled() == 0 {
			t.Fatal("no spill")
		}
		if files := bkFiles(t, dir); len(files) != 1 {
			t.Fatalf("%d files in the directory after a spill, want 1: %v", len(files), files)
		}
		mustNoErr(t, "Close", b.Close())
		assertEmptyDir(t, dir)
		mustNoErr(t, "Close again", b.Close())
		assertEmptyDir(t, dir)
	})
	t.Run("use after Close", func(t *testing.T) {
		dir := t.TempDir()
		b := NewBuckets(dir, bkTiny)
		mustNoErr(t, "AddSlice", b.AddSlice(seq(1, 20_000)))
		mustNoErr(t, "Close", b.Close())
		if err := b.Add(1); !errors.Is(err, ErrClosed) {
			t.Errorf("Add after Close: %v, want %v", err, ErrClosed)
		}
		if _, err := b.Iterator(); !errors.Is(err, ErrClosed) {
			t.Errorf("Iterator after Close: %v, want %v", err, ErrClosed)
		}
		mustNoErr(t, "Close again", b.Close())
		assertEmptyDir(t, dir)
	})
	t.Run("default dir", func(t *testing.T) {
		b := NewBuckets("", bkTiny)
		mustNoErr(t, "AddSlice", b.AddSlice(seq(1, 20_000)))
		if b.Spilled() == 0 {
			t.Fatal("no spill")
		}
		if filepath.Dir(b.parts[0].path) != filepath.Clean(os.TempDir()) {
			t.Errorf("spill file %s, want it in %s", b.parts[0].path, os.TempDir())
		}
		path := b.parts[0].path
		mustNoErr(t, "Close", b.Close())
		if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("spill file %s left behind: %v", path, err)
		}
	})
	t.Run("missing dir", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "missing")
		b := NewBuckets(dir, bkTiny)
		err := b.AddSlice(seq(1, 20_000))
		if !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("AddSlice spilling to a missing directory: %v, want ErrNotExist", err)
		}
		if err2 := b.Add(1); err2 != err {
			t.Errorf("Add after the error: %v, want the same error", err2)
		}
		if _, err2 := b.Iterator(); err2 != err {
			t.Errorf("Iterator after the error: %v, want the same error", err2)
		}
		mustNoErr(t, "Close", b.Close())
	})
}

// TestBucketsCloseDuringIteration closes the Buckets at several points of
// an iteration over both sort paths: Close must return promptly, stop the
// sorting goroutine and remove every file (the spill and the big bucket's
// runs).
func TestBucketsCloseDuringIteration(t *testing.T) {
	in := bucketGens[3].f(rand.New(rand.NewPCG(4, 4)), 12_000) // clustered-plus-spread
	n := len(reference(in))
	for _, after := range []int{0, 1, 3, 1000, n / 2, n - 5} {
		t.Run(fmt.Sprint(after), func(t *testing.T) {
			before := runtime.NumGoroutine()
			dir := t.TempDir()
			b := NewBuckets(dir, bkTiny)
			mustNoErr(t, "AddSlice", b.AddSlice(in))
			it, err := b.Iterator()
			mustNoErr(t, "Iterator", err)
			want := reference(in)
			for i := range after {
				x, ok := it.Next()
				if !ok {
					t.Fatalf("ended after %d numbers: %v", i, it.Err())
				}
				if x != want[i] {
					t.Fatalf("at %d got %d, want %d", i, x, want[i])
				}
			}
			closed := make(chan error, 1)
			go func() { closed <- b.Close() }()
			select {
			case err := <-closed:
				mustNoErr(t, "Close", err)
			case <-time.After(20 * time.Second):
				t.Fatal("Close hangs")
			}
			assertEmptyDir(t, dir)
			mustNoErr(t, "Close again", b.Close())
			bkSettle(t, before)
		})
	}
}

// TestBucketsNextAfterClose expects an iteration stopped by Close to end
// with an error, as a Merge does (TestRunsLifecycle): a plain end would
// pass a truncated stream off as complete.
func TestBucketsNextAfterClose(t *testing.T) {
	dir := t.TempDir()
	b := NewBuckets(dir, bkTiny)
	in := bkSourceKeys(rand.New(rand.NewPCG(6, 6)), 8_000, 0)
	mustNoErr(t, "AddSlice", b.AddSlice(in))
	it, err := b.Iterator()
	mustNoErr(t, "Iterator", err)
	for range 10 {
		it.Next()
	}
	mustNoErr(t, "Close", b.Close())
	n := 10
	for _, ok := it.Next(); ok; _, ok = it.Next() {
		n++
	}
	if it.Err() == nil {
		t.Errorf("iteration stopped by Close after %d of %d numbers: Err() = nil, want an error", n, len(reference(in)))
	}
}

// TestBucketsParts adds from several goroutines at once, each to its own
// part, with overlapping keys: the output is the reference's, and Close
// removes every part's spill file.
func TestBucketsParts(t *testing.T) {
	b0 := NewBucketsParts(t.TempDir(), bkTiny, 0)
	if b0.Parts() != 1 {
		t.Errorf("NewBucketsParts(0 parts).Parts() = %d, want 1", b0.Parts())
	}
	mustNoErr(t, "Close", b0.Close())
	tests := []struct {
		parts  int
		budget int64
		n      int
	}{
		{1, bkTiny, 4_000},
		{2, bkTiny, 4_000},
		{4, bkTiny, 4_000},
		{3, bkMedium, 150_000},
		{4, bkLarge, 150_000},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d/%dKiB", tt.parts, tt.budget>>10), func(t *testing.T) {
			r := rand.New(rand.NewPCG(uint64(tt.parts), uint64(tt.n)))
			in := slices.Concat(bucketGens[3].f(r, tt.n/2), bkSourceKeys(r, tt.n/2, 0.3), bkBoundaries())
			r.Shuffle(len(in), func(i, j int) { in[i], in[j] = in[j], in[i] })
			dir := t.TempDir()
			b := NewBucketsParts(dir, tt.budget, tt.parts)
			defer b.Close()
			if b.Parts() != tt.parts {
				t.Fatalf("Parts() = %d, want %d", b.Parts(), tt.parts)
			}
			var wg sync.WaitGroup
			errs := make(chan error, tt.parts)
			for i := range tt.parts {
				wg.Add(1)
				go func() {
					defer wg.Done()
					p := b.Part(i)
					rng := rand.New(rand.NewPCG(uint64(i), 1))
					// every part a piece of each stretch: the same buckets, and
					// duplicates, in every part
					for at := 0; at < len(in); at += 4000 {
						piece := in[at:min(at+4000, len(in))]
						lo := len(piece) * i / tt.parts
						hi := len(piece) * (i + 1) / tt.parts
						for lo < hi {
							k := min(hi-lo, 1+rng.IntN(700))
							if err := p.AddSlice(piece[lo : lo+k]); err != nil {
								errs <- err
								return
							}
							lo += k
						}
						if len(piece) > 0 {
							// a key of the part before, again
							if err := p.AddSlice(piece[:1]); err != nil {
								errs <- err
								return
							}
						}
					}
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatal(err)
			}
			if tt.budget == bkTiny && b.Spilled() < tt.parts {
				t.Errorf("Spilled() = %d, want every part to spill", b.Spilled())
			}
			if tt.budget == bkLarge && b.Spilled() != 0 {
				t.Errorf("Spilled() = %d, want 0", b.Spilled())
			}
			if files := bkFiles(t, dir); len(files) > tt.parts {
				t.Errorf("%d files for %d parts: %v", len(files), tt.parts, files)
			}
			added := len(in) + (len(in)+3999)/4000*tt.parts // each part adds a key again per stretch
			if b.Len() != added {
				t.Errorf("Len() = %d, want %d", b.Len(), added)
			}
			it, err := b.Iterator()
			mustNoErr(t, "Iterator", err)
			assertEqual(t, "parts", drain(t, it), reference(in))
			for i := range tt.parts {
				if err := b.Part(i).AddSlice([]int64{1}); !errors.Is(err, errFinished) {
					t.Errorf("part %d: AddSlice after Iterator: %v, want %v", i, err, errFinished)
				}
			}
			mustNoErr(t, "Close", b.Close())
			assertEmptyDir(t, dir)
		})
	}
}

// TestBucketsPartErrors checks that a part's error reaches Iterator and
// leaves the other parts alone, and that a part's damaged spill file is
// found like part 0's.
func TestBucketsPartErrors(t *testing.T) {
	t.Run("refused key", func(t *testing.T) {
		dir := t.TempDir()
		b := NewBucketsParts(dir, bkTiny, 3)
		defer b.Close()
		mustNoErr(t, "part 0", b.Part(0).AddSlice(seq(1, 5000)))
		err := b.Part(2).AddSlice([]int64{7, 0})
		if err == nil {
			t.Fatal("part 2: no error for 0")
		}
		if err2 := b.Part(2).AddSlice([]int64{8}); err2 != err {
			t.Errorf("part 2 after its error: %v, want %v", err2, err)
		}
		mustNoErr(t, "part 1", b.Part(1).AddSlice([]int64{9}))
		if _, err2 := b.Iterator(); err2 != err {
			t.Errorf("Iterator: %v, want part 2's error %v", err2, err)
		}
		mustNoErr(t, "Close", b.Close())
		assertEmptyDir(t, dir)
	})
	t.Run("damaged part 1", func(t *testing.T) {
		dir := t.TempDir()
		b := NewBucketsParts(dir, bkTiny, 2)
		defer b.Close()
		in0 := bkSourceKeys(rand.New(rand.NewPCG(2, 1)), 3000, 0)
		in1 := bkSourceKeys(rand.New(rand.NewPCG(2, 2)), 3000, 0)
		mustNoErr(t, "part 0", b.Part(0).AddSlice(in0))
		mustNoErr(t, "part 1", b.Part(1).AddSlice(in1))
		p1 := b.Part(1)
		if p1.f == nil {
			t.Fatal("part 1 did not spill")
		}
		k := -1
		for j := range numBuckets {
			if len(p1.extents[j]) > 0 && j > bucketOf(in0[0]) {
				k = j
				break
			}
		}
		if k < 0 {
			t.Fatal("no bucket to damage")
		}
		bkFlip(t, p1.path, p1.extents[k][0].off+3)
		it, err := b.Iterator()
		mustNoErr(t, "Iterator", err)
		var got []int64
		for x, ok := it.Next(); ok; x, ok = it.Next() {
			got = append(got, x)
		}
		if !errors.Is(it.Err(), ErrCorrupt) {
			t.Fatalf("Err() = %v, want ErrCorrupt", it.Err())
		}
		var want []int64
		for _, x := range reference(slices.Concat(in0, in1)) {
			if bucketOf(x) < k {
				want = append(want, x)
			}
		}
		assertEqual(t, "before the damaged bucket", got, want)
		mustNoErr(t, "Close", b.Close())
		assertEmptyDir(t, dir)
	})
}

// TestBucketsPartAfterClose adds to a part after Close: it must fail like
// Buckets.AddSlice does (ErrClosed), neither panic on the freed blocks nor
// take the numbers quietly.
func TestBucketsPartAfterClose(t *testing.T) {
	for _, n := range []int{0, 10, 5000} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			dir := t.TempDir()
			b := NewBucketsParts(dir, bkTiny, 2)
			p := b.Part(1)
			mustNoErr(t, "AddSlice", p.AddSlice(seq(1, n)))
			mustNoErr(t, "Close", b.Close())
			var err error
			func() {
				defer func() {
					if r := recover(); r != nil {
						t.Fatalf("part AddSlice after Close panics: %v", r)
					}
				}()
				err = p.AddSlice([]int64{5, 1 << 40})
			}()
			if !errors.Is(err, ErrClosed) {
				t.Errorf("part AddSlice after Close: %v, want %v", err, ErrClosed)
			}
			assertEmptyDir(t, dir)
		})
	}
}

// bkSpilled returns a Buckets of in, spilled to dir at least once, and the
// path of its spill file, found in dir.
func bkSpilled(t *testing.T, dir string, in []int64) (*Buckets, string) {
	t.Helper()
	b := NewBuckets(dir, bkTiny)
	mustNoErr(t, "AddSlice", b.AddSlice(in))
	if b.Spilled() == 0 {
		t.Fatal("no spill")
	}
	files := bkFiles(t, dir)
	if len(files) != 1 {
		t.Fatalf("%d files in the directory, want the spill file: %v", len(files), files)
	}
	path := filepath.Join(dir, files[0])
	if path != b.parts[0].path {
		t.Fatalf("found %s, the spill file is %s", path, b.parts[0].path)
	}
	return b, path
}

// TestBucketsCorrupt flips a byte of one bucket's first extent in the
// spill file: the iteration must yield every bucket before it, nothing of
// it, and end with an error wrapping ErrCorrupt.
func TestBucketsCorrupt(t *testing.T) {
	tests := []struct {
		name string
		in   func() []int64
		big  bool // the damaged bucket is sorted by a Runs
		pick int  // which of the eligible buckets: 0 the first, -1 the last
	}{
		{"first small bucket", func() []int64 { return bkSourceKeys(rand.New(rand.NewPCG(8, 1)), 4_000, 0.1) }, false, 0},
		{"last small bucket", func() []int64 { return bkSourceKeys(rand.New(rand.NewPCG(8, 2)), 4_000, 0.1) }, false, -1},
		{"middle small bucket", func() []int64 { return bkSourceKeys(rand.New(rand.NewPCG(8, 3)), 4_000, 0.1) }, false, 5},
		{"big bucket", func() []int64 { return bucketGens[3].f(rand.New(rand.NewPCG(8, 4)), 4_000) }, true, 0},
	}
	for _, tt := range tests {
		for _, at := range []string{"first byte", "middle byte", "last byte"} {
			t.Run(tt.name+"/"+at, func(t *testing.T) {
				dir := t.TempDir()
				in := tt.in()
				b, path := bkSpilled(t, dir, in)
				defer b.Close()
				var eligible []int
				for k := range numBuckets {
					if len(b.parts[0].extents[k]) > 0 && (b.bucketSize(k) > b.bigBucket()) == tt.big {
						eligible = append(eligible, k)
					}
				}
				if len(eligible) == 0 {
					t.Fatal("no bucket to damage")
				}
				k := eligible[0]
				switch {
				case tt.pick < 0:
					k = eligible[len(eligible)-1]
				case tt.pick < len(eligible):
					k = eligible[tt.pick]
				}
				e := b.parts[0].extents[k][len(b.parts[0].extents[k])/2]
				off := e.off
				switch at {
				case "middle byte":
					off += int64(e.n * 4)
				case "last byte":
					off += int64(e.n*8 - 1)
				}
				bkFlip(t, path, off)

				it, err := b.Iterator()
				mustNoErr(t, "Iterator", err)
				var got []int64
				for x, ok := it.Next(); ok; x, ok = it.Next() {
					got = append(got, x)
				}
				err = it.Err()
				if !errors.Is(err, ErrCorrupt) {
					t.Fatalf("Err() = %v, want ErrCorrupt (bucket %d, offset %d, %d numbers out)", err, k, off, len(got))
				}
				var want []int64
				for _, x := range reference(in) {
					if bucketOf(x) < k {
						want = append(want, x)
					}
				}
				assertEqual(t, fmt.Sprintf("output before damaged bucket %d", k), got, want)
				if _, ok := it.Next(); ok {
					t.Error("Next after the error: true")
				}
				mustNoErr(t, "Close", b.Close())
				assertEmptyDir(t, dir)
			})
		}
	}
}

// TestBucketsTruncated cuts the spill file short: the iteration must end
// with an error after a correct prefix of the output, never panic or end
// quietly.
func TestBucketsTruncated(t *testing.T) {
	inputs := []struct {
		name string
		in   []int64
	}{
		{"small buckets", bkSourceKeys(rand.New(rand.NewPCG(9, 1)), 4_000, 0.1)},
		{"with a big bucket", bucketGens[3].f(rand.New(rand.NewPCG(9, 2)), 4_000)},
	}
	for _, input := range inputs {
		for _, cut := range []string{"empty", "first byte", "half", "last byte", "last extent"} {
			t.Run(input.name+"/"+cut, func(t *testing.T) {
				dir := t.TempDir()
				b, path := bkSpilled(t, dir, input.in)
				defer b.Close()
				size := b.parts[0].off
				fi, err := os.Stat(path)
				mustNoErr(t, "Stat", err)
				if fi.Size() != size {
					t.Fatalf("spill file of %d bytes, %d written", fi.Size(), size)
				}
				var to int64
				switch cut {
				case "first byte":
					to = 1
				case "half":
					to = size / 2
				case "last byte":
					to = size - 1
				case "last extent":
					// the start of the extent written last
					for k := range numBuckets {
						for _, e := range b.parts[0].extents[k] {
							to = max(to, e.off)
						}
					}
				}
				mustNoErr(t, "Truncate", os.Truncate(path, to))

				it, err := b.Iterator()
				mustNoErr(t, "Iterator", err)
				var got []int64
				for x, ok := it.Next(); ok; x, ok = it.Next() {
					got = append(got, x)
				}
				want := reference(input.in)
				if it.Err() == nil {
					t.Fatalf("spill file cut to %d of %d bytes: no error, %d of %d numbers out", to, size, len(got), len(want))
				}
				if len(got) >= len(want) {
					t.Errorf("%d numbers out of %d, and an error", len(got), len(want))
				}
				assertEqual(t, "prefix", got, want[:min(len(got), len(want))])
				mustNoErr(t, "Close", b.Close())
				assertEmptyDir(t, dir)
			})
		}
	}
}

func bkFlip(t *testing.T, path string, off int64) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	mustNoErr(t, "open", err)
	defer f.Close()
	var c [1]byte
	_, err = f.ReadAt(c[:], off)
	mustNoErr(t, "read", err)
	c[0] ^= 0x10
	_, err = f.WriteAt(c[:], off)
	mustNoErr(t, "write", err)
}

func bkFiles(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	mustNoErr(t, "ReadDir", err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// bkSettle waits for the goroutine count to come back to before: the best
// a test can do to see that no goroutine leaked.
func bkSettle(t *testing.T, before int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("%d goroutines, %d before:\n%s", runtime.NumGoroutine(), before, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// bkBenchKeys caches the benchmark's keys: 10M take a while to draw.
var bkBenchKeys sync.Map // string → []int64

const bkBenchN = 10_000_000

// bkBenchInput returns 10M keys as the compiler makes them (n<<13 | source
// id), with 20% repeats: "callkit" numbers of a few countries, as lists
// are (about 340 buckets), or "spread" evenly over 11 to 15 digits (about
// 4,250 buckets: more blocks than a small budget holds).
func bkBenchInput(keys string) []int64 {
	if v, ok := bkBenchKeys.Load(keys); ok {
		return v.([]int64)
	}
	var v []int64
	switch keys {
	case "callkit":
		r := rand.New(rand.NewPCG(bkBenchN, 13))
		v = callKitLike(r, bkBenchN, 0.2)
		for i := range v {
			v[i] = v[i]<<bkSrcBits | r.Int64N(8)
		}
	case "spread":
		v = bkSourceKeys(rand.New(rand.NewPCG(bkBenchN, 14)), bkBenchN, 0.2)
	}
	bkBenchKeys.Store(keys, v)
	return v
}

// BenchmarkBuckets pushes 10M keys through a Buckets (AddSlice, then the
// whole iteration), with a budget that holds them and with one that
// spills; BenchmarkBucketsBaseline sorts the same keys in memory with
// SortDedupe, so the ratio reads off one run:
//
//	go test -run '^$' -bench 'Buckets' -benchtime 3x ./compiler/sortx
func BenchmarkBuckets(b *testing.B) {
	for _, keys := range []string{"callkit", "spread"} {
		for _, budget := range []int64{256 << 20, 32 << 20} {
			b.Run(fmt.Sprintf("keys=%s/budget=%dMiB", keys, budget>>20), func(b *testing.B) {
				in := bkBenchInput(keys)
				dir := b.TempDir()
				runtime.GC()
				b.ReportAllocs()
				b.SetBytes(bkBenchN * 8)
				b.ResetTimer()
				var spilled, n int
				for range b.N {
					bk := NewBuckets(dir, budget)
					if err := bk.AddSlice(in); err != nil {
						b.Fatal(err)
					}
					it, err := bk.Iterator()
					if err != nil {
						b.Fatal(err)
					}
					n = 0
					for _, ok := it.Next(); ok; _, ok = it.Next() {
						n++
					}
					if err := it.Err(); err != nil {
						b.Fatal(err)
					}
					spilled = bk.Spilled()
					if err := bk.Close(); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(spilled), "spills")
				b.ReportMetric(float64(n), "distinct")
			})
		}
	}
}

func BenchmarkBucketsBaseline(b *testing.B) {
	for _, keys := range []string{"callkit", "spread"} {
		b.Run("keys="+keys, func(b *testing.B) {
			in := bkBenchInput(keys)
			work := make([]int64, len(in))
			runtime.GC()
			b.ReportAllocs()
			b.SetBytes(bkBenchN * 8)
			b.ResetTimer()
			var n int
			for range b.N {
				b.StopTimer()
				copy(work, in)
				b.StartTimer()
				n = len(SortDedupe(work))
			}
			b.ReportMetric(float64(n), "distinct")
		})
	}
}

// fullDisk is a spill file on a disk that fills after room bytes.
type fullDisk struct {
	*os.File
	room int64
}

func (f *fullDisk) WriteAt(p []byte, off int64) (int, error) {
	if off+int64(len(p)) > f.room {
		n := max(0, int(f.room-off))
		f.File.WriteAt(p[:n], off)
		return n, &fs.PathError{Op: "write", Path: f.Name(), Err: syscall.ENOSPC}
	}
	return f.File.WriteAt(p, off)
}

// TestBucketsDiskFull fills the disk in the middle of a spill: the error
// names the file and the cause, sticks, reaches Iterator, and Close leaves
// nothing behind.
func TestBucketsDiskFull(t *testing.T) {
	for _, room := range []int64{0, 1000, 100_000} {
		t.Run(fmt.Sprint(room), func(t *testing.T) {
			dir := t.TempDir()
			old := createSpill
			t.Cleanup(func() { createSpill = old })
			createSpill = func(dir, pattern string) (spillFile, error) {
				f, err := os.CreateTemp(dir, pattern)
				if err != nil {
					return nil, err
				}
				return &fullDisk{File: f, room: room}, nil
			}
			b := NewBuckets(dir, bkTiny)
			in := bkSourceKeys(rand.New(rand.NewPCG(9, uint64(room))), 200_000, 0.2)
			var err error
			for i := 0; i < len(in) && err == nil; i += 1000 {
				err = b.AddSlice(in[i:min(i+1000, len(in))])
			}
			if err == nil || !errors.Is(err, syscall.ENOSPC) || !strings.Contains(err.Error(), dir) {
				t.Fatalf("AddSlice: %v, want a full-disk error naming the spill file", err)
			}
			if err2 := b.AddSlice(in[:1]); err2 == nil {
				t.Error("AddSlice after a full disk: nil error")
			}
			if _, err := b.Iterator(); !errors.Is(err, syscall.ENOSPC) {
				t.Errorf("Iterator: %v, want the full-disk error", err)
			}
			mustNoErr(t, "Close", b.Close())
			assertEmptyDir(t, dir)
		})
	}
}
