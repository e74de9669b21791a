package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/calldir/calldir/compiler/bench/gen"

	"github.com/calldir/calldir/shard"
)

// treeHashes maps every file under dir to its SHA-256.
func treeHashes(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		s := sha256.Sum256(b)
		out[rel] = hex.EncodeToString(s[:])
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func sameTree(t *testing.T, a, b map[string]string) {
	t.Helper()
	if len(a) != len(b) {
		t.Fatalf("trees differ in file count: %d vs %d (%v vs %v)", len(a), len(b), a, b)
	}
	for k, v := range a {
		if b[k] != v {
			t.Errorf("%s differs", k)
		}
	}
}

// readShardNumbers reads every number of a shard, verified by the reader.
func readShardNumbers(t *testing.T, path string) []int64 {
	t.Helper()
	f, err := shard.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []int64
	for {
		rec, err := f.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		out = append(out, rec.Number)
	}
}

// writeDistinctUS writes n distinct, possible US numbers in E.164 text.
func writeDistinctUS(t *testing.T, path string, n int) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	areas := []int{201, 202, 212, 213, 305, 312, 415, 469, 512, 617, 646, 702, 718, 773, 786, 818, 917, 929}
	i := 0
	for _, a := range areas {
		for x := 200; x < 1000 && i < n; x++ {
			for y := 0; y < 10000 && i < n; y += 7 {
				fmt.Fprintf(w, "+1%d%d%04d\n", a, x, y)
				i++
			}
		}
	}
	if i < n {
		t.Fatalf("generator made only %d numbers", i)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	f.Close()
}

// 2,000,001 numbers with --max-per-shard 1999999 give two
// strictly ascending shards; 2000000 exits 2 naming the limit.
func TestCompileSplitsAtCallKitCap(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "big.txt")
	writeDistinctUS(t, in, 2_000_001)
	out := filepath.Join(dir, "build")
	mustCLI(t, 0, "compile", "-q", "--max-per-shard", "1999999", "--out", out, in)
	m := readManifest(t, out)
	if len(m.Shards) != 2 {
		t.Fatalf("got %d shards, want 2", len(m.Shards))
	}
	var total int64
	var prev int64
	for _, s := range m.Shards {
		nums := readShardNumbers(t, filepath.Join(out, s.File))
		if int64(len(nums)) != s.Count || s.Count > shard.MaxEntriesPerRequest {
			t.Fatalf("%s: %d numbers, manifest says %d", s.File, len(nums), s.Count)
		}
		for _, n := range nums {
			if n <= prev {
				t.Fatalf("%s: %d after %d: not strictly ascending across the build", s.File, n, prev)
			}
			prev = n
		}
		total += s.Count
	}
	if total != 2_000_001 {
		t.Fatalf("total %d, want 2000001", total)
	}
	_, stderr := mustCLI(t, 2, "compile", "--max-per-shard", "2000000", "--out", filepath.Join(dir, "b2"), in)
	if !strings.Contains(stderr, "1999999") || !strings.Contains(stderr, "error 5") {
		t.Errorf("refusal does not name the limit: %s", stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "b2")); !os.IsNotExist(err) {
		t.Errorf("refused compile created its output directory")
	}
}

func readManifest(t *testing.T, dir string) *shard.Manifest {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, shard.ManifestName))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m, err := shard.ReadManifest(f)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// The same compile twice gives byte-identical directories,
// including when the second run replaces the first in place.
func TestCompileIsDeterministic(t *testing.T) {
	dir := t.TempDir()
	in := mustWrite(t, filepath.Join(dir, "a.txt"), genMixed(rand.New(rand.NewPCG(1, 2)), 3000))
	csv := mustWrite(t, filepath.Join(dir, "b.csv"), "phone,label\n+14155550101,Acme\n(212) 555-0123,Pizza\n")
	args := func(out string) []string {
		return []string{"compile", "-q", "--max-per-shard", "500", "--out", out, "--rejects", filepath.Join(dir, "rej-"+filepath.Base(out)+".csv"), in, csv}
	}
	a, b := filepath.Join(dir, "one"), filepath.Join(dir, "two")
	mustCLI(t, 0, args(a)...)
	mustCLI(t, 0, args(b)...)
	first := treeHashes(t, a)
	sameTree(t, first, treeHashes(t, b))
	mustCLI(t, 0, args(a)...) // replace in place
	sameTree(t, first, treeHashes(t, a))
	if mustRead(t, filepath.Join(dir, "rej-one.csv")) != mustRead(t, filepath.Join(dir, "rej-two.csv")) {
		t.Error("rejects reports differ")
	}
	if len(first) < 3 {
		t.Fatalf("expected several shards, got %v", first)
	}
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), ".") {
			t.Errorf("temporary file left behind: %s", e.Name())
		}
	}
}

// genMixed writes n lines of US numbers in mixed formats, with duplicates
// and some bad lines.
func genMixed(r *rand.Rand, n int) string {
	var b strings.Builder
	areas := []int{201, 212, 305, 415, 512, 617, 718, 917}
	for i := 0; i < n; i++ {
		a, x, y := areas[r.IntN(len(areas))], 200+r.IntN(800), r.IntN(10000)
		switch r.IntN(8) {
		case 0:
			fmt.Fprintf(&b, "(%d) %d-%04d\n", a, x, y)
		case 1:
			fmt.Fprintf(&b, "%d.%d.%04d\n", a, x, y)
		case 2:
			fmt.Fprintf(&b, "+1 %d %d %04d\n", a, x, y)
		case 3:
			fmt.Fprintf(&b, "1-%d-%d-%04d x%d\n", a, x, y, r.IntN(999))
		case 4:
			fmt.Fprintf(&b, "00 44 20 79%02d %04d\n", r.IntN(100), y)
		case 5:
			fmt.Fprintf(&b, "%d-%04d\n", x, y) // local only: rejected
		case 6:
			fmt.Fprintf(&b, "+%d%d%04d\t\n", 1, a*1000+x, y)
		default:
			fmt.Fprintf(&b, "tel:+1-%d-%d-%04d\n", a, x, y)
		}
	}
	return b.String()
}

// Hostile inputs give a clear message and a reject or exit 2,
// never a panic, and a failed compile leaves an existing --out untouched.
func TestCompileBadInput(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "build")
	good := mustWrite(t, filepath.Join(dir, "good.txt"), "+14155550101\n+14155550102\n")
	mustCLI(t, 0, "compile", "-q", "--out", out, good)
	before := treeHashes(t, out)

	long := filepath.Join(dir, "long.txt")
	mustWrite(t, long, "+14155550103\n"+strings.Repeat("1", 10<<20)+"\n+14155550104\n")

	random := make([]byte, 1<<16)
	rc := rand.NewChaCha8([32]byte{7})
	rc.Read(random)
	mustWrite(t, filepath.Join(dir, "random.bin"), string(random))

	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(strings.Repeat("+14155550105\n", 50000)))
	zw.Close()
	mustWrite(t, filepath.Join(dir, "trunc.txt.gz"), string(gz.Bytes()[:gz.Len()/2]))
	mustWrite(t, filepath.Join(dir, "empty.txt"), "")
	mustWrite(t, filepath.Join(dir, "nocol.csv"), "date,number\n2026-01-01,+14155550106\n")
	mustWrite(t, filepath.Join(dir, "utf16.txt"), "\xff\xfe+\x001\x00")

	for _, tc := range []struct {
		name string
		args []string
		code int
		msg  string // must appear in stderr
	}{
		{"random bytes", []string{"random.bin"}, 2, "random.bin: looks like binary data"},
		{"truncated gzip", []string{"trunc.txt.gz"}, 2, "trunc.txt.gz:"},
		{"empty file", []string{"empty.txt"}, 2, "empty.txt: empty input"},
		{"missing column", []string{"--column", "phone", "nocol.csv"}, 2, `nocol.csv:1: no number column "phone"`},
		{"utf-16", []string{"utf16.txt"}, 2, "UTF-16"},
		{"missing file", []string{"nope.txt"}, 2, "nope.txt: no such file"},
		{"directory", []string{"."}, 2, "is a directory"},
		{"bad region", []string{"--region", "XX", "good.txt"}, 2, `unknown region "XX"`},
		{"long line is a reject", []string{"--max-rejects", "0", "long.txt"}, 1, "1 of 3 lines rejected"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Chdir(dir)
			args := append([]string{"compile", "-q", "--out", out}, tc.args...)
			code, _, stderr := runCLI(t, "", args...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d; stderr: %s", code, tc.code, stderr)
			}
			if !strings.Contains(stderr, tc.msg) {
				t.Errorf("stderr %q does not contain %q", stderr, tc.msg)
			}
			if strings.Contains(stderr, "panic") || strings.Contains(stderr, "goroutine") {
				t.Errorf("panic: %s", stderr)
			}
			sameTree(t, before, treeHashes(t, out))
		})
	}

	// The long line is rejected, not fatal, and its neighbours survive.
	rej := filepath.Join(dir, "rej.csv")
	mustCLI(t, 0, "compile", "-q", "--out", filepath.Join(dir, "long"), "--rejects", rej, long)
	if got := mustRead(t, rej); !strings.Contains(got, "long.txt,2,line-too-long,1111") || len(got) > 1000 {
		t.Errorf("rejects report: %.300q", got)
	}
	nums := readShardNumbers(t, filepath.Join(dir, "long", "block-0001.shard"))
	if fmt.Sprint(nums) != "[14155550103 14155550104]" {
		t.Errorf("numbers around the long line: %v", nums)
	}
	// --allow-empty turns the empty file into an empty build, not an error.
	mustCLI(t, 0, "compile", "-q", "--allow-empty", "--out", filepath.Join(dir, "empty"), filepath.Join(dir, "empty.txt"))
}

// A non-build directory is never replaced.
func TestCompileRefusesForeignOut(t *testing.T) {
	dir := t.TempDir()
	mustWrite(t, filepath.Join(dir, "docs", "precious.txt"), "keep me")
	in := mustWrite(t, filepath.Join(dir, "a.txt"), "+14155550101\n")
	_, stderr := mustCLI(t, 2, "compile", "--out", filepath.Join(dir, "docs"), in)
	if !strings.Contains(stderr, "not a calldir build") {
		t.Errorf("stderr: %s", stderr)
	}
	if mustRead(t, filepath.Join(dir, "docs", "precious.txt")) != "keep me" {
		t.Error("foreign directory changed")
	}
}

// Flags may follow the file arguments, and every command has --help.
func TestCLIUsage(t *testing.T) {
	dir := t.TempDir()
	in := mustWrite(t, filepath.Join(dir, "a.txt"), "+14155550101\n")
	mustCLI(t, 0, "compile", in, "--out", filepath.Join(dir, "b"), "-q")
	for _, cmd := range []string{"compile", "inspect", "version"} {
		out, _ := mustCLI(t, 0, cmd, "--help")
		if !strings.Contains(out, "EXIT STATUS") || !strings.Contains(out, "EXAMPLES") {
			t.Errorf("%s --help lacks examples or the exit table:\n%s", cmd, out)
		}
	}
	out, _ := mustCLI(t, 0, "version")
	if !strings.HasPrefix(out, "calldir "+Version) {
		t.Errorf("version: %q", out)
	}
	mustCLI(t, 2, "nosuchcommand")
	mustCLI(t, 2, "compile", "--nosuchflag", in)
	mustCLI(t, 2, "compile", in) // --out is required
	mustCLI(t, 2, "compile", "--out", filepath.Join(dir, "c"), "--accept", "maybe", in)
	mustCLI(t, 2, "compile", "--out", filepath.Join(dir, "c"), "--label", "x", in)
	mustCLI(t, 2, "inspect")
}

// Inspect prints the header summary and dumps in numeric order.
func TestInspect(t *testing.T) {
	dir := t.TempDir()
	in := mustWrite(t, filepath.Join(dir, "a.txt"), "+442079460958\n+14155550101\n+999\n+33123456789\n")
	out := filepath.Join(dir, "b")
	mustCLI(t, 0, "compile", "-q", "--out", out, in)
	dump, _ := mustCLI(t, 0, "inspect", "--dump", out)
	if dump != "+14155550101\n+33123456789\n+442079460958\n" {
		t.Errorf("dump: %q", dump)
	}
	shardDump, _ := mustCLI(t, 0, "inspect", "--dump", filepath.Join(out, "block-0001.shard"))
	if shardDump != dump {
		t.Errorf("shard dump %q != build dump %q", shardDump, dump)
	}
	summary, _ := mustCLI(t, 0, "inspect", out)
	for _, want := range []string{"3 entries", "block-0001.shard", "verified", "+14155550101 .. +442079460958"} {
		if !strings.Contains(summary, want) {
			t.Errorf("inspect summary lacks %q:\n%s", want, summary)
		}
	}
	// A damaged shard is reported, not dumped: a finding in a build (exit
	// 1, as validate), an unreadable input alone (exit 2).
	p := filepath.Join(out, "block-0001.shard")
	b := []byte(mustRead(t, p))
	b[len(b)-1] ^= 0xFF
	os.WriteFile(p, b, 0o644)
	code, _, stderr := runCLI(t, "", "inspect", "--dump", out)
	if code != 1 || !strings.Contains(stderr, "block-0001.shard") {
		t.Errorf("damaged shard: exit %d, %s", code, stderr)
	}
	code, _, stderr = runCLI(t, "", "inspect", "--dump", p)
	if code != 2 || !strings.Contains(stderr, "block-0001.shard") {
		t.Errorf("damaged shard alone: exit %d, %s", code, stderr)
	}
}

// sortedUnique is the reference: numeric sort, duplicates removed.
func sortedUnique(v []int64) []int64 {
	sort.Slice(v, func(i, j int) bool { return v[i] < v[j] })
	out := v[:0]
	for i, n := range v {
		if i == 0 || n != v[i-1] {
			out = append(out, n)
		}
	}
	return out
}

func e164Lines(nums []int64) string {
	var b strings.Builder
	for _, n := range nums {
		b.WriteString("+" + strconv.FormatInt(n, 10) + "\n")
	}
	return b.String()
}

func generateInto(w io.Writer, n int) error {
	return gen.Lines(w, n, 7, gen.Mixed)
}
