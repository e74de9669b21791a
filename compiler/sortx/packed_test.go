package sortx

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
)

// pkBudgetAll keeps every chunk in memory.
const pkBudgetAll = 1 << 40

// pkGen is an ascending sequence of distinct positive numbers, and the
// length at which it fills more than one chunk.
type pkGen struct {
	name string
	f    func(r *rand.Rand, n int) []int64
	big  int
}

var pkGens = []pkGen{
	// one byte a number
	{"dense", func(r *rand.Rand, n int) []int64 { return seq(1+r.Int64N(1e12), n) }, 1_100_000},
	{"sparse", func(r *rand.Rand, n int) []int64 { return pkGaps(r, n, func() int64 { return r.Int64N(1e6) }) }, 400_000},
	// every varint width from 1 to 6 bytes, so chunks end at every slack
	{"mixed-gaps", func(r *rand.Rand, n int) []int64 {
		return pkGaps(r, n, func() int64 { return r.Int64N(1 << r.IntN(41)) })
	}, 600_000},
	{"callkit", func(r *rand.Rand, n int) []int64 {
		v := reference(callKitLike(r, n+n/4, 0))
		return v[:min(n, len(v))]
	}, 400_000},
	// uniform over the positive int64s, from 1 to MaxInt64: gaps of 8
	// and 9 bytes, and the first one of 10
	{"huge-gaps", func(r *rand.Rand, n int) []int64 {
		v := make([]int64, n)
		for i := range v {
			v[i] = 1 + r.Int64N(math.MaxInt64)
		}
		if n >= 2 {
			v[0], v[1] = 1, math.MaxInt64
		} else if n == 1 {
			v[0] = math.MaxInt64
		}
		slices.Sort(v)
		return slices.Compact(v)
	}, 200_000},
}

// pkGaps returns n ascending numbers from 1 on, each gap-1 above the last
// (gap() ≥ 0).
func pkGaps(r *rand.Rand, n int, gap func() int64) []int64 {
	v := make([]int64, n)
	x := int64(0)
	for i := range v {
		x += 1 + gap()
		v[i] = x
	}
	return v
}

// pkLayout is where a model of the encoding puts the chunk boundaries: the
// index of each chunk's first number, and the bytes of each chunk.
func pkLayout(v []int64) (starts, used []int) {
	prev := int64(0)
	for i, x := range v {
		if len(used) == 0 || used[len(used)-1]+binary.MaxVarintLen64 > packChunk {
			starts = append(starts, i)
			used = append(used, 0)
		}
		var b [binary.MaxVarintLen64]byte
		used[len(used)-1] += binary.PutUvarint(b[:], uint64(x-prev-1))
		prev = x
	}
	return starts, used
}

// pkBuild packs v with budget in dir and finishes it.
func pkBuild(t testing.TB, dir string, budget int64, v []int64) *Packed {
	t.Helper()
	p := NewPacked(dir, budget)
	for _, x := range v {
		if err := p.Append(x); err != nil {
			p.Close()
			t.Fatalf("Append(%d): %v", x, err)
		}
	}
	if err := p.Finish(); err != nil {
		p.Close()
		t.Fatalf("Finish: %v", err)
	}
	return p
}

// pkSpan decodes start..end through a reader with a dst of dstLen, checks
// the blocks handed to fn (dst's memory, full but the last), and returns
// the numbers.
func pkSpan(r *PackedReader, start, end, dstLen int) ([]int64, error) {
	dst := make([]int64, dstLen)
	var out []int64
	last := false
	err := r.Span(start, end, dst, func(blk []int64) error {
		switch {
		case last:
			return fmt.Errorf("a block of %d after a short one", len(blk))
		case len(blk) == 0 || len(blk) > dstLen:
			return fmt.Errorf("a block of %d, dst of %d", len(blk), dstLen)
		case &blk[0] != &dst[0]:
			return errors.New("a block outside dst")
		}
		last = len(blk) < dstLen
		out = append(out, blk...)
		return nil
	})
	return out, err
}

// pkSpans are the spans worth decoding in n numbers whose chunks start at
// starts: empty ones, the whole, around every mark and chunk boundary, and
// random ones.
func pkSpans(r *rand.Rand, n int, starts []int) [][2]int {
	spans := [][2]int{{0, 0}, {n, n}, {n / 2, n / 2}, {0, n}}
	// the first marks, the last ones, and the chunk starts with the marks
	// either side of them
	marks := (n + packEvery - 1) / packEvery
	var points []int
	for _, m := range []int{0, 1, 2, marks - 2, marks - 1, marks, marks + 1} {
		points = append(points, m*packEvery)
	}
	for _, c := range starts {
		points = append(points, c, c/packEvery*packEvery, (c/packEvery+1)*packEvery)
	}
	slices.Sort(points)
	points = slices.Compact(points)
	for _, p := range points {
		for _, s := range []int{p - 1, p, p + 1} {
			for _, l := range []int{0, 1, 2, 5, packEvery + 1, 2*packEvery + 3} {
				if s >= 0 && s+l <= n {
					spans = append(spans, [2]int{s, s + l})
				}
			}
		}
	}
	for i := range 16 {
		a := r.IntN(n + 1)
		b := a + r.IntN(min(n-a, 3*packEvery)+1)
		if i < 2 {
			b = a + r.IntN(n-a+1) // anywhere up to the end
		}
		spans = append(spans, [2]int{a, b})
	}
	return spans
}

func TestPackedRoundTrip(t *testing.T) {
	budgets := []struct {
		name   string
		budget int64
	}{
		{"memory", pkBudgetAll},
		{"file", 0},
		{"negative", -1},
		{"one chunk", packChunk},
	}
	for _, g := range pkGens {
		sizes := []int{0, 1, 2, packEvery - 1, packEvery, packEvery + 1, 3*packEvery + 5, g.big}
		if !long {
			sizes = sizes[:len(sizes)-1]
		}
		for _, n := range sizes {
			// drawn once, read by the parallel subtests
			want := g.f(rand.New(rand.NewPCG(uint64(n), 11)), n)
			starts, used := pkLayout(want)
			if n == g.big && len(starts) < 2 {
				t.Fatalf("%s: %d numbers in %d chunk: want several", g.name, n, len(starts))
			}
			for _, bt := range budgets {
				switch {
				case bt.name == "negative" && n > packEvery+1:
					continue // the same as "file"
				case bt.name == "one chunk" && len(starts) < 2:
					continue // the same as "memory"
				}
				t.Run(fmt.Sprintf("%s/%d/%s", g.name, n, bt.name), func(t *testing.T) {
					t.Parallel()
					rng := rand.New(rand.NewPCG(uint64(n), 12))
					dir := t.TempDir()
					p := pkBuild(t, dir, bt.budget, want)
					defer p.Close()

					if p.Len() != len(want) {
						t.Errorf("Len() = %d, want %d", p.Len(), len(want))
					}
					wantFile := len(want) > 0 && (bt.budget <= 0 || bt.budget == packChunk && len(starts) > 1)
					if p.InFile() != wantFile {
						t.Errorf("InFile() = %v, want %v (%d chunks)", p.InFile(), wantFile, len(starts))
					}
					if files := bkFiles(t, dir); len(files) != map[bool]int{false: 0, true: 1}[wantFile] {
						t.Errorf("files in the directory: %v", files)
					}
					if !slices.Equal(p.used, used) {
						t.Errorf("chunk sizes %v, the model says %v", p.used, used)
					}
					if len(p.marks) != (len(want)+packEvery-1)/packEvery {
						t.Errorf("%d marks for %d numbers", len(p.marks), len(want))
					}
					if wantFile {
						fi, err := os.Stat(p.path)
						mustNoErr(t, "Stat", err)
						if want := int64(len(used)-1)*packChunk + int64(used[len(used)-1]); fi.Size() != want {
							t.Errorf("file of %d bytes, want %d", fi.Size(), want)
						}
					}

					r := p.Reader()
					got, err := pkSpan(r, 0, len(want), 4096)
					mustNoErr(t, "Span of all", err)
					assertEqual(t, "all", got, want)
					dstLens := []int{1, 7, 4096}
					for i, s := range pkSpans(rng, len(want), starts) {
						dl := dstLens[i%len(dstLens)]
						got, err := pkSpan(r, s[0], s[1], dl)
						if err != nil {
							t.Fatalf("Span(%d, %d) with dst of %d: %v", s[0], s[1], dl, err)
						}
						assertEqual(t, fmt.Sprintf("Span(%d, %d) with dst of %d", s[0], s[1], dl), got, want[s[0]:s[1]])
					}

					mustNoErr(t, "Close", p.Close())
					mustNoErr(t, "Close again", p.Close())
					assertEmptyDir(t, dir)
				})
			}
		}
	}
}

// TestPackedConcurrentSpans decodes random spans from several goroutines,
// each with its own reader, from memory and from the file.
func TestPackedConcurrentSpans(t *testing.T) {
	want := pkGens[2].f(rand.New(rand.NewPCG(5, 5)), 400_000) // mixed gaps: several chunks
	for _, budget := range []int64{pkBudgetAll, packChunk, 0} {
		t.Run(fmt.Sprint(budget), func(t *testing.T) {
			p := pkBuild(t, t.TempDir(), budget, want)
			defer p.Close()
			var wg sync.WaitGroup
			for w := range 6 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					rng := rand.New(rand.NewPCG(uint64(w), 6))
					r := p.Reader()
					for range 20 {
						a, b := rng.IntN(len(want)+1), rng.IntN(len(want)+1)
						a, b = min(a, b), max(a, b)
						b = min(b, a+40_000)
						got, err := pkSpan(r, a, b, []int{1, 7, 4096}[rng.IntN(3)])
						if err != nil {
							t.Errorf("Span(%d, %d): %v", a, b, err)
							return
						}
						if !slices.Equal(got, want[a:b]) {
							t.Errorf("Span(%d, %d): wrong numbers", a, b)
							return
						}
					}
				}()
			}
			wg.Wait()
		})
	}
}

func TestPackedRefuses(t *testing.T) {
	tests := []struct {
		name string
		in   []int64 // the last one is refused
	}{
		{"zero first", []int64{0}},
		{"negative first", []int64{-5}},
		{"MinInt64 first", []int64{math.MinInt64}},
		{"equal", []int64{5, 5}},
		{"decreasing", []int64{5, 9, 4}},
		{"negative later", []int64{5, -1}},
		{"after MaxInt64", []int64{math.MaxInt64, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			p := NewPacked(dir, 0)
			defer p.Close()
			last := len(tt.in) - 1
			for _, x := range tt.in[:last] {
				mustNoErr(t, "Append", p.Append(x))
			}
			err := p.Append(tt.in[last])
			if err == nil {
				t.Fatalf("Append(%d) after %v: no error", tt.in[last], tt.in[:last])
			}
			if p.Len() != last {
				t.Errorf("Len() = %d, want %d", p.Len(), last)
			}
			// the error sticks
			if err2 := p.Append(math.MaxInt64); err2 == nil {
				t.Error("Append after the error: no error")
			}
			if err2 := p.Finish(); err2 == nil {
				t.Error("Finish after the error: no error")
			}
			if err2 := p.Reader().Span(0, 0, make([]int64, 1), func([]int64) error { return nil }); err2 == nil {
				t.Error("Span after the error: no error")
			}
			mustNoErr(t, "Close", p.Close())
			assertEmptyDir(t, dir)
		})
	}
}

func TestPackedBadSpan(t *testing.T) {
	p := pkBuild(t, t.TempDir(), pkBudgetAll, seq(1000, 100))
	defer p.Close()
	empty := pkBuild(t, t.TempDir(), pkBudgetAll, nil)
	defer empty.Close()
	fn := func(blk []int64) error { t.Errorf("fn called with %v", blk); return nil }
	dst := make([]int64, 8)
	tests := []struct {
		p          *Packed
		start, end int
		dst        []int64
		ok         bool
	}{
		{p, -1, 5, dst, false},
		{p, 0, 101, dst, false},
		{p, 6, 5, dst, false},
		{p, 101, 101, dst, false},
		{p, 0, 10, nil, false},
		{p, 0, 10, dst[:0], false},
		{p, 0, 0, dst, true},
		{p, 100, 100, dst, true},
		{p, 50, 50, dst, true},
		{empty, 0, 0, dst, true},
		{empty, 0, 1, dst, false},
		{empty, -1, 0, dst, false},
	}
	for _, tt := range tests {
		err := tt.p.Reader().Span(tt.start, tt.end, tt.dst, fn)
		if (err == nil) != tt.ok {
			t.Errorf("Span(%d, %d) of %d with dst of %d: error %v, want ok=%v", tt.start, tt.end, tt.p.Len(), len(tt.dst), err, tt.ok)
		}
	}

	// fn's error ends the span and comes back as is
	stop := errors.New("stop")
	calls := 0
	err := p.Reader().Span(0, 100, dst, func([]int64) error { calls++; return stop })
	if err != stop || calls != 1 {
		t.Errorf("Span with a failing fn: %v after %d calls, want %v after 1", err, calls, stop)
	}
	calls = 0
	err = p.Reader().Span(0, 100, dst, func([]int64) error {
		if calls++; calls == 13 {
			return stop
		}
		return nil
	})
	if err != stop || calls != 13 {
		t.Errorf("Span failing in the last block: %v after %d calls, want %v after 13", err, calls, stop)
	}
}

// TestPackedCorrupt damages one chunk of the file: a span that reads it
// fails with ErrCorrupt after correct numbers only, and the other chunks
// still decode.
func TestPackedCorrupt(t *testing.T) {
	want := pkGens[4].f(rand.New(rand.NewPCG(7, 7)), 350_000) // huge gaps: 3 chunks
	starts, used := pkLayout(want)
	if len(starts) < 3 {
		t.Fatalf("%d chunks, want 3 or more", len(starts))
	}
	starts = append(starts, len(want))
	for j := range len(used) {
		for _, at := range []string{"first", "middle", "last"} {
			t.Run(fmt.Sprintf("chunk %d/%s byte", j, at), func(t *testing.T) {
				dir := t.TempDir()
				p := pkBuild(t, dir, 0, want)
				defer p.Close()
				if !p.InFile() {
					t.Fatal("not in the file")
				}
				files := bkFiles(t, dir)
				if len(files) != 1 {
					t.Fatalf("files in the directory: %v", files)
				}
				off := int64(j) * packChunk
				switch at {
				case "middle":
					off += int64(used[j] / 2)
				case "last":
					off += int64(used[j] - 1)
				}
				bkFlip(t, filepath.Join(dir, files[0]), off)

				r := p.Reader()
				// a span inside the chunk, one across its start, one across its end
				for _, s := range [][2]int{
					{starts[j], starts[j+1]},
					{max(starts[j]-10, 0), starts[j] + 1},
					{starts[j+1] - 1, min(starts[j+1]+10, len(want))},
					{0, len(want)},
				} {
					got, err := pkSpan(r, s[0], s[1], 7)
					if !errors.Is(err, ErrCorrupt) {
						t.Errorf("Span(%d, %d): %v, want ErrCorrupt", s[0], s[1], err)
					}
					if len(got) > s[1]-s[0] || !slices.Equal(got, want[s[0]:s[0]+len(got)]) {
						t.Errorf("Span(%d, %d): %d wrong numbers before the error", s[0], s[1], len(got))
					}
				}
				// The other chunks are whole: a span decodes from the mark
				// before its start, so one from a mark inside chunk i to
				// the chunk's end reads chunk i only.
				for i := range len(used) {
					if i == j {
						continue
					}
					s := (starts[i] + packEvery - 1) / packEvery * packEvery
					if s >= starts[i+1] {
						continue // no mark in the chunk
					}
					got, err := pkSpan(r, s, starts[i+1], 4096)
					if err != nil {
						t.Errorf("Span(%d, %d) in intact chunk %d: %v", s, starts[i+1], i, err)
					}
					assertEqual(t, fmt.Sprintf("intact chunk %d", i), got, want[s:starts[i+1]])
				}
				mustNoErr(t, "Close", p.Close())
				assertEmptyDir(t, dir)
			})
		}
	}
	t.Run("truncated", func(t *testing.T) {
		dir := t.TempDir()
		p := pkBuild(t, dir, 0, want)
		defer p.Close()
		for _, size := range []int64{int64(len(used)-1)*packChunk + int64(used[len(used)-1]) - 1, packChunk + 5, 0} {
			mustNoErr(t, "Truncate", os.Truncate(p.path, size))
			got, err := pkSpan(p.Reader(), 0, len(want), 4096)
			if err == nil {
				t.Errorf("file cut to %d bytes: no error", size)
			}
			if !slices.Equal(got, want[:len(got)]) {
				t.Errorf("file cut to %d bytes: wrong numbers before the error", size)
			}
		}
		mustNoErr(t, "Close", p.Close())
		assertEmptyDir(t, dir)
	})
}

func TestPackedClose(t *testing.T) {
	for _, budget := range []int64{0, pkBudgetAll} {
		t.Run(fmt.Sprint(budget), func(t *testing.T) {
			dir := t.TempDir()
			want := seq(77, 3*packEvery)
			p := pkBuild(t, dir, budget, want)
			if budget == 0 {
				if _, err := os.Stat(p.path); err != nil {
					t.Fatalf("the file: %v", err)
				}
			}
			r := p.Reader()
			got, err := pkSpan(r, 5, 10, 3)
			mustNoErr(t, "Span", err)
			assertEqual(t, "before Close", got, want[5:10])
			mustNoErr(t, "Close", p.Close())
			assertEmptyDir(t, dir)
			mustNoErr(t, "Close again", p.Close())
			if _, err := pkSpan(r, 5, 10, 3); err == nil {
				t.Error("Span after Close: no error")
			}
			if _, err := pkSpan(p.Reader(), 0, len(want), 4096); err == nil {
				t.Error("Span of a new reader after Close: no error")
			}
		})
	}
	t.Run("empty", func(t *testing.T) {
		dir := t.TempDir()
		p := NewPacked(dir, 0)
		mustNoErr(t, "Finish", p.Finish())
		if p.InFile() || p.Len() != 0 {
			t.Errorf("empty: InFile %v, Len %d", p.InFile(), p.Len())
		}
		mustNoErr(t, "Close", p.Close())
		mustNoErr(t, "Close again", p.Close())
		assertEmptyDir(t, dir)
	})
	t.Run("without Finish", func(t *testing.T) {
		dir := t.TempDir()
		p := NewPacked(dir, 0)
		for _, x := range pkGens[4].f(rand.New(rand.NewPCG(1, 1)), 300_000) {
			mustNoErr(t, "Append", p.Append(x))
		}
		if !p.InFile() {
			t.Fatal("not in the file")
		}
		mustNoErr(t, "Close", p.Close())
		assertEmptyDir(t, dir)
	})
}
