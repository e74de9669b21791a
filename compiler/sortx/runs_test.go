package sortx

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
)

func TestRunsMerge(t *testing.T) {
	tests := []struct {
		name     string
		budget   int64 // bytes
		fanIn    int   // 0: maxFanIn
		in       []int64
		addSlice bool
	}{
		{"empty", 1 << 10, 0, nil, false},
		{"no spill", 1 << 20, 0, callKitLike(rand.New(rand.NewPCG(1, 1)), 10_000, 0.2), false},
		{"1 KiB budget, 100k numbers", 1 << 10, 0, callKitLike(rand.New(rand.NewPCG(1, 2)), 100_000, 0.2), false},
		{"AddSlice", 4 << 10, 0, callKitLike(rand.New(rand.NewPCG(1, 3)), 100_000, 0.2), true},
		{"exact multiple of a run", 1 << 10, 0, seq(0, 64*10), false},
		{"fan-in 3", 4 << 10, 3, callKitLike(rand.New(rand.NewPCG(1, 4)), 50_000, 0.5), true},
		{"fan-in 2", 1 << 10, 2, callKitLike(rand.New(rand.NewPCG(1, 5)), 5_000, 0.5), false},
		{"negative and extremes", 1 << 10, 0, gens[7].f(rand.New(rand.NewPCG(1, 6)), 20_000), false},
		{"all equal", 1 << 10, 0, gens[4].f(rand.New(rand.NewPCG(1, 7)), 20_000), false},
		{"budget 0 is the default", 0, 0, seq(5, 1000), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			r := NewRuns(dir, tt.budget)
			if tt.fanIn > 0 {
				r.fanIn = tt.fanIn
			}
			defer r.Close()
			if tt.addSlice {
				// Uneven pieces, to cross buffer boundaries mid-slice.
				rng := rand.New(rand.NewPCG(9, 9))
				for in := tt.in; len(in) > 0; {
					k := min(len(in), 1+rng.IntN(500))
					mustNoErr(t, "AddSlice", r.AddSlice(in[:k]))
					in = in[k:]
				}
			} else {
				for _, n := range tt.in {
					mustNoErr(t, "Add", r.Add(n))
				}
			}
			if len(tt.in) > 0 {
				if got, want := r.Spilled(), (len(tt.in)-1)/r.limit; got != want {
					t.Errorf("Spilled() = %d, want %d", got, want)
				}
			}
			want := reference(tt.in)

			m, err := r.Iterator()
			mustNoErr(t, "Iterator", err)
			if r.fanIn > 0 && len(r.runs) > r.fanIn-1 {
				t.Errorf("%d runs left to merge, fan-in %d", len(r.runs), r.fanIn)
			}
			n, err := m.Count()
			mustNoErr(t, "Count", err)
			if n != int64(len(want)) {
				t.Errorf("Count() = %d, want %d", n, len(want))
			}
			assertEqual(t, "first pass", drain(t, m), want)
			mustNoErr(t, "Reset", m.Reset())
			assertEqual(t, "second pass", drain(t, m), want)
			m2, err := r.Iterator()
			mustNoErr(t, "Iterator again", err)
			assertEqual(t, "Iterator again", drain(t, m2), want)

			mustNoErr(t, "Close", r.Close())
			mustNoErr(t, "Close again", r.Close())
			assertEmptyDir(t, dir)
		})
	}
}

func TestRunsBudget(t *testing.T) {
	tests := []struct {
		budget int64
		want   int // numbers per run
	}{
		{256 << 20, 16 << 20},
		{1 << 10, 64},
		{100, minRunNumbers},
		{0, DefaultMemory / bytesPerNumber},
		{-1, DefaultMemory / bytesPerNumber},
	}
	for _, tt := range tests {
		if got := NewRuns("", tt.budget).limit; got != tt.want {
			t.Errorf("NewRuns(%d) buffers %d numbers, want %d", tt.budget, got, tt.want)
		}
	}
}

// TestRunsCorrupt damages the first run file in one way per case and
// expects exactly one error, wrapping ErrCorrupt and naming the file.
func TestRunsCorrupt(t *testing.T) {
	tests := []struct {
		name  string
		fault func(b []byte) []byte
		want  string
	}{
		{"body bit", func(b []byte) []byte { b[runHeaderSize+10] ^= 1; return b }, "checksum mismatch"},
		{"checksum bit", func(b []byte) []byte { b[len(b)-1] ^= 0x80; return b }, "checksum mismatch"},
		{"magic", func(b []byte) []byte { b[0] = 'X'; return b }, "magic"},
		{"version", func(b []byte) []byte { b[5] = 9; return b }, "version 9"},
		{"flags", func(b []byte) []byte { b[7] = 1; return b }, "flags"},
		{"count too high", func(b []byte) []byte { b[15]++; return b }, ""},
		{"count too low", func(b []byte) []byte { b[15]--; return b }, ""},
		{"truncated trailer", func(b []byte) []byte { return b[:len(b)-1] }, "truncated trailer"},
		{"truncated body", func(b []byte) []byte { return b[:runHeaderSize+5] }, "truncated"},
		{"empty", func(b []byte) []byte { return nil }, "truncated header"},
		{"appended byte", func(b []byte) []byte { return append(b, 0) }, "data after the trailer"},
		{"overlong varint", func(b []byte) []byte {
			// Re-encode the second number as 0x80 0x00 and fix the
			// checksum: only the minimal-varint check can catch it.
			body := slices.Concat(b[:runHeaderSize+2], []byte{0x80, 0x00}, b[runHeaderSize+3:len(b)-4])
			return binary.BigEndian.AppendUint32(body, crc32c(body))
		}, "non-minimal varint"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			r := NewRuns(dir, 1<<10) // 64 numbers a run
			defer r.Close()
			// Consecutive numbers: every gap is a 0 byte, so a flipped
			// low bit still decodes, and only the checksum notices.
			mustNoErr(t, "AddSlice", r.AddSlice(seq(1000, 200)))
			if r.Spilled() != 3 {
				t.Fatalf("Spilled() = %d, want 3", r.Spilled())
			}
			path := r.runs[0]
			b, err := os.ReadFile(path)
			mustNoErr(t, "read run", err)
			mustNoErr(t, "write run", os.WriteFile(path, tt.fault(b), 0o600))

			m, err := r.Iterator()
			if err == nil {
				_, err = m.Count()
			}
			switch {
			case err == nil:
				t.Fatal("no error")
			case !errors.Is(err, ErrCorrupt):
				t.Fatalf("error %q does not wrap ErrCorrupt", err)
			case !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), tt.want):
				t.Fatalf("error %q: want the path and %q", err, tt.want)
			}
			mustNoErr(t, "Close", r.Close())
			assertEmptyDir(t, dir)
		})
	}
}

// faultyFile fails like a full disk once it has written limit bytes, or at
// Close.
type faultyFile struct {
	*os.File
	limit     int
	failClose bool
	written   int
}

func (f *faultyFile) Write(p []byte) (int, error) {
	if f.written+len(p) > f.limit {
		n, _ := f.File.Write(p[:f.limit-f.written])
		f.written += n
		return n, &fs.PathError{Op: "write", Path: f.Name(), Err: syscall.ENOSPC}
	}
	f.written += len(p)
	return f.File.Write(p)
}

func (f *faultyFile) Close() error {
	err := f.File.Close()
	if f.failClose {
		return &fs.PathError{Op: "close", Path: f.Name(), Err: syscall.ENOSPC}
	}
	return err
}

// TestRunsDiskFull fails the nth file created, and expects the error to
// name the run and the file, later calls to repeat it, and Close to leave
// nothing behind.
func TestRunsDiskFull(t *testing.T) {
	tests := []struct {
		name      string
		nth       int // 1-based file to fail
		limit     int // bytes it may write
		failClose bool
		fanIn     int
		want      string // %s: the failing file
	}{
		{"write of spill 3", 3, 20, false, 0, "spill run 3: write %s: no space left on device"},
		{"first write", 1, 0, false, 0, "spill run 1: write %s: no space left on device"},
		{"close of spill 2", 2, math.MaxInt, true, 0, "spill run 2: close %s: no space left on device"},
		{"merge of runs", 6, 10, false, 3, "merge runs: write %s: no space left on device"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			r := NewRuns(dir, 1<<10)
			if tt.fanIn > 0 {
				r.fanIn = tt.fanIn
			}
			defer r.Close()
			created, failed := 0, ""
			r.create = func(dir, pattern string) (runFile, error) {
				f, err := os.CreateTemp(dir, pattern)
				if err != nil {
					return nil, err
				}
				if created++; created != tt.nth {
					return f, nil
				}
				failed = f.Name()
				return &faultyFile{File: f, limit: tt.limit, failClose: tt.failClose}, nil
			}
			var err error
			for _, x := range callKitLike(rand.New(rand.NewPCG(2, 2)), 64*5+1, 0) {
				if err = r.Add(x); err != nil {
					break
				}
			}
			if err == nil {
				_, err = r.Iterator()
			}
			if err == nil {
				t.Fatal("no error")
			}
			if want := fmt.Sprintf(tt.want, failed); err.Error() != want {
				t.Fatalf("error %q, want %q", err, want)
			}
			if !errors.Is(err, syscall.ENOSPC) {
				t.Errorf("error %q does not wrap ENOSPC", err)
			}
			if err2 := r.Add(1); err2 != err {
				t.Errorf("Add after the error: %v, want the same error", err2)
			}
			if _, err2 := r.Iterator(); err2 != err {
				t.Errorf("Iterator after the error: %v, want the same error", err2)
			}
			mustNoErr(t, "Close", r.Close())
			assertEmptyDir(t, dir)
		})
	}
}

func TestRunsBadDir(t *testing.T) {
	base := t.TempDir()
	file := filepath.Join(base, "file")
	mustNoErr(t, "write", os.WriteFile(file, nil, 0o600))
	readOnly := filepath.Join(base, "ro")
	mustNoErr(t, "mkdir", os.Mkdir(readOnly, 0o500))

	tests := []struct {
		name   string
		dir    string
		target error
		skip   bool
	}{
		{"missing", filepath.Join(base, "missing"), fs.ErrNotExist, false},
		{"not a directory", file, syscall.ENOTDIR, false},
		// root writes into a read-only directory anyway
		{"read-only", readOnly, fs.ErrPermission, os.Geteuid() == 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.skip {
				t.Skip("running as root")
			}
			r := NewRuns(tt.dir, 1<<10)
			var err error
			for i := range int64(1000) {
				if err = r.Add(i); err != nil {
					break
				}
			}
			if err == nil {
				t.Fatal("no error")
			}
			prefix := "spill run 1: "
			if !strings.HasPrefix(err.Error(), prefix) || !strings.Contains(err.Error(), tt.dir) || !errors.Is(err, tt.target) {
				t.Errorf("error %q: want %q, the directory, and %v", err, prefix, tt.target)
			}
			mustNoErr(t, "Close", r.Close())
		})
	}
	entries, err := os.ReadDir(readOnly)
	mustNoErr(t, "ReadDir", err)
	if len(entries) != 0 {
		t.Errorf("read-only dir holds %d files", len(entries))
	}
}

func TestRunsLifecycle(t *testing.T) {
	t.Run("add after Iterator", func(t *testing.T) {
		r := NewRuns(t.TempDir(), 1<<10)
		defer r.Close()
		mustNoErr(t, "Add", r.Add(1))
		_, err := r.Iterator()
		mustNoErr(t, "Iterator", err)
		if err := r.Add(2); !errors.Is(err, errFinished) {
			t.Errorf("Add after Iterator: %v, want %v", err, errFinished)
		}
	})
	t.Run("use after Close", func(t *testing.T) {
		dir := t.TempDir()
		r := NewRuns(dir, 1<<10)
		mustNoErr(t, "AddSlice", r.AddSlice(seq(0, 1000)))
		m, err := r.Iterator()
		mustNoErr(t, "Iterator", err)
		mustNoErr(t, "Close", r.Close())
		if err := r.Add(1); !errors.Is(err, ErrClosed) {
			t.Errorf("Add after Close: %v, want %v", err, ErrClosed)
		}
		if _, err := r.Iterator(); !errors.Is(err, ErrClosed) {
			t.Errorf("Iterator after Close: %v, want %v", err, ErrClosed)
		}
		if _, ok := m.Next(); ok || m.Err() == nil {
			t.Errorf("Next after Close: ok=%v err=%v, want an error", ok, m.Err())
		}
		if err := m.Reset(); err == nil {
			t.Error("Reset after Close: no error")
		}
		mustNoErr(t, "Close again", r.Close())
		assertEmptyDir(t, dir)
	})
	t.Run("Close without Iterator", func(t *testing.T) {
		dir := t.TempDir()
		r := NewRuns(dir, 1<<10)
		mustNoErr(t, "AddSlice", r.AddSlice(seq(0, 1000)))
		if r.Spilled() == 0 {
			t.Fatal("no spill")
		}
		mustNoErr(t, "Close", r.Close())
		assertEmptyDir(t, dir)
	})
}

func TestRunFileRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		in   []int64
		size int // bytes; 0: not checked
	}{
		{"empty", nil, runHeaderSize + runTrailer},
		{"one", []int64{33_612_345_678}, 0},
		// consecutive numbers cost 1 byte each
		{"consecutive", seq(33_600_000_000, 1000), runHeaderSize + len(binary.AppendVarint(nil, 33_600_000_000)) + 999 + runTrailer},
		{"extremes", []int64{math.MinInt64, -1, 0, 1, math.MaxInt64}, 0},
		{"min and max", []int64{math.MinInt64, math.MaxInt64}, 0},
		{"callkit", reference(callKitLike(rand.New(rand.NewPCG(3, 3)), 100_000, 0)), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := encodeRun(t, tt.in)
			if tt.size > 0 && len(b) != tt.size {
				t.Errorf("encoded in %d bytes, want %d", len(b), tt.size)
			}
			got, err := decodeRun(b)
			mustNoErr(t, "decode", err)
			assertEqual(t, "decoded", got, tt.in)
		})
	}
}

func TestRunWriterRefuses(t *testing.T) {
	tests := []struct {
		name  string
		count uint64
		in    []int64
		want  string
	}{
		{"equal", 2, []int64{5, 5}, "not strictly increasing"},
		{"decreasing", 2, []int64{5, 4}, "not strictly increasing"},
		{"more than declared", 1, []int64{1, 2}, "more than the 1 numbers declared"},
		{"fewer than declared", 3, []int64{1, 2}, "2 numbers written, 3 declared"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newRunWriter(&bytes.Buffer{}, tt.count)
			err := w.WriteSlice(tt.in)
			if err == nil {
				err = w.Close()
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want %q", err, tt.want)
			}
		})
	}
}

// FuzzRunDecoder feeds arbitrary bytes to the decoder: it must not panic,
// and what it accepts must be a valid run that encodes back to the same
// bytes.
func FuzzRunDecoder(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte(runMagic))
	for _, in := range [][]int64{nil, {1}, seq(100, 50), {math.MinInt64, 0, math.MaxInt64}} {
		f.Add(encodeRun(f, in))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := decodeRun(b)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error %q does not wrap ErrCorrupt", err)
			}
			return
		}
		if !bytes.Equal(encodeRun(t, got), b) {
			t.Fatalf("accepted %x, which does not encode back", b)
		}
	})
}

func encodeRun(t testing.TB, in []int64) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := newRunWriter(&buf, uint64(len(in)))
	mustNoErr(t, "encode", w.WriteSlice(in))
	mustNoErr(t, "encode", w.Close())
	return buf.Bytes()
}

func decodeRun(b []byte) ([]int64, error) {
	rr := newRunReader(bytes.NewReader(b))
	var out []int64
	for x, ok := rr.next(); ok; x, ok = rr.next() {
		out = append(out, x)
	}
	return out, rr.err
}

func crc32c(b []byte) uint32 { return crc32.Checksum(b, castagnoli) }

func seq(from int64, n int) []int64 {
	v := make([]int64, n)
	for i := range v {
		v[i] = from + int64(i)
	}
	return v
}

// numbers is what Merge and BucketIter have in common.
type numbers interface {
	Next() (int64, bool)
	Err() error
}

// drain reads every number of it and checks that it ended without error.
func drain(t *testing.T, it numbers) []int64 {
	t.Helper()
	var out []int64
	for x, ok := it.Next(); ok; x, ok = it.Next() {
		out = append(out, x)
	}
	mustNoErr(t, "iterate", it.Err())
	return out
}

func assertEmptyDir(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	mustNoErr(t, "ReadDir", err)
	for _, e := range entries {
		t.Errorf("left behind: %s", e.Name())
	}
}

func mustNoErr(t testing.TB, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}
