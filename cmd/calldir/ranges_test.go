package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/calldir/calldir/compiler"
)

// writeRegister writes an ARCEP-like register of n disjoint ranges of size
// numbers each (national, with the trunk 0), and returns its path and the
// numbers it covers.
func writeRegister(t *testing.T, dir string, n, size int) (string, int64) {
	t.Helper()
	p := filepath.Join(dir, "register.csv")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	fmt.Fprintln(w, "Tranche_Debut;Tranche_Fin;Statut")
	step := size + size/8 // gaps between the ranges: nothing coalesces
	for i := range n {
		lo := 100_000_000 + i*step
		fmt.Fprintf(w, "0%09d;0%09d;Attribuée\n", lo, lo+size-1)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return p, int64(n) * int64(size)
}

var registerArgs = []string{"--input-format", "ranges", "--region", "FR", "--range-start", "Tranche_Debut", "--range-end", "Tranche_Fin"}

// TestRegisterMemoryBound: a register's ranges are never expanded into the
// sort, so a register of 19,000 ranges covering 500 million numbers (5
// million at the short size) compiles within the bound --memory gives
// (1.1 × SIZE + compiler.MemoryFloor), however many numbers it covers. The
// long run writes 4 GB of shards: it needs 6 GB of free temporary space.
func TestRegisterMemoryBound(t *testing.T) {
	bin := calldirBinary(t)
	dir := t.TempDir()
	n, size := 1_900, 2_632
	if long {
		n, size = 19_000, 26_316
		var st syscall.Statfs_t
		if err := syscall.Statfs(dir, &st); err != nil || int64(st.Bavail)*int64(st.Bsize) < 6<<30 {
			t.Skipf("less than 6 GB free in %s for 4 GB of shards", dir)
		}
	}
	reg, numbers := writeRegister(t, dir, n, size)
	const mem = 64 << 20
	args := append([]string{"compile", "-q", "--memory", "64MB", "--temp-dir", dir, "-o", filepath.Join(dir, "out")}, registerArgs...)
	peak, err := childPeakRSS(exec.Command(bin, append(args, reg)...))
	if err != nil {
		t.Fatal(err)
	}
	if peak == 0 {
		t.Skip("no /proc/PID/status here")
	}
	bound := int64(mem + mem/10 + compiler.MemoryFloor)
	t.Logf("%d ranges, %d numbers: peak RSS %d MiB, bound %d MiB", n, numbers, peak>>20, bound>>20)
	if peak > bound {
		t.Errorf("peak RSS %d MiB over the bound %d MiB", peak>>20, bound>>20)
	}
	out := mustRead(t, filepath.Join(dir, "out", "manifest.json"))
	if !strings.Contains(out, fmt.Sprintf(`"entries": %d`, numbers)) {
		t.Errorf("the manifest does not hold %d entries", numbers)
	}
}

// TestRegisterPastShardLimit: a register whose numbers cannot fit the
// shards of a build is refused once read, before any range is expanded,
// with the numbers and the shards it needs; nothing is written.
func TestRegisterPastShardLimit(t *testing.T) {
	dir := t.TempDir()
	reg, numbers := writeRegister(t, dir, 1_900, 2_632) // 5,000,800 numbers
	out := filepath.Join(dir, "out")
	args := append([]string{"compile", "-q", "--max-per-shard", "500", "-o", out}, registerArgs...)
	_, stderr := mustCLI(t, exitUsage, append(args, reg)...)
	for _, want := range []string{fmt.Sprintf("%d distinct numbers", numbers), "need 10002 shards of 500", "more than the 9999 a build holds",
		"register.csv:2", "raise --max-per-shard"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr %q lacks %q", stderr, want)
		}
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("output written: %v", err)
	}
}

// TestRegisterOptions: the register's options are checked where they are
// given: flags without a register, a bad --where or --encoding, and the
// same keys of a configuration with their file and line.
func TestRegisterOptions(t *testing.T) {
	dir := t.TempDir()
	list := mustWrite(t, filepath.Join(dir, "list.txt"), "+14155550100\n")
	reg := mustWrite(t, filepath.Join(dir, "codes.csv"), "NPA;NXX;Status\n415;555;In Service\n415;556;Available\n")
	out := filepath.Join(dir, "out")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--prefix", "NPA+NXX", list}, "--range-start, --range-end, --prefix, --length, --length-column and --where read a register of ranges: give --input-format ranges"},
		{[]string{"--input-format", "ranges", "--where", "Status", reg}, `--where: filter "Status": want COLUMN=VALUE`},
		{[]string{"--encoding", "ebcdic", list}, `--encoding: unknown encoding "ebcdic"`},
		{[]string{"--input-format", "ranges", "--range-start", "NPA", reg}, "a register's rows need both a start and an end column: give --range-start and --range-end, or --prefix"},
		{[]string{"--input-format", "ranges", "--prefix", "NPA+NXX", "--length", "16", reg}, "--length 16: want 1 to 15 digits"},
		{[]string{"--input-format", "ranges", "--prefix", "NPA+NXY", reg}, `codes.csv:1: no prefix column "NXY" in the header (columns: "NPA", "NXX", "Status")`},
		{[]string{"--input-format", "ranges", "--prefix", "NPA+NXX", "--where", "Status=Retired", reg}, `codes.csv: a header line and no data lines that pass the filters (2 dropped): Status never holds "Retired"; it holds 2 distinct values: "In Service", "Available"; check --where`},
	} {
		_, stderr := mustCLI(t, exitUsage, append([]string{"compile", "-q", "-o", out}, tc.args...)...)
		if !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: stderr %q lacks %q", tc.args, stderr, tc.want)
		}
	}
	// Keys of a [[source]], and the top-level defaults.
	cfg := mustWrite(t, filepath.Join(dir, "calldir.toml"), `out = "out"
region = "US"
where = ["Status=In Service"]

[[source]]
path = "codes.csv"
format = "ranges"
prefix = "NPA+NXX"
`)
	_, stderr := mustCLI(t, 0, "compile", "-c", cfg)
	if !strings.Contains(stderr, "10,000 entries") {
		t.Errorf("configuration: %s", stderr)
	}
	for key, want := range map[string]string{
		`encoding = "klingon"`: `calldir.toml:9: source[0].encoding: unknown encoding "klingon"`,
		`where = ["Status"]`:   `calldir.toml:9: source[0].where: filter "Status"`,
		`length = 99`:          `calldir.toml:9: source[0].length: 99 digits: want 1 to 15`,
	} {
		bad := mustWrite(t, filepath.Join(dir, "bad.toml"), mustRead(t, cfg)+key+"\n")
		_, stderr := mustCLI(t, exitUsage, "compile", "-c", bad)
		if !strings.Contains(stderr, strings.Replace(want, "calldir.toml", "bad.toml", 1)) {
			t.Errorf("%s: stderr %q lacks %q", key, stderr, want)
		}
	}
}
