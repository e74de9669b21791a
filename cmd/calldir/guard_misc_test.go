package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/calldir/calldir/compiler"
	"github.com/calldir/calldir/compiler/bench"
)

// Guarantee tests of docs/GUARANTEES.md: each runs the
// CLI in-process in a temporary directory, asserts the exit status and that
// every file that was there before the run is byte-identical after it.

// runCLIInterrupted runs the CLI and cancels its context (SIGINT, as
// main's signal.NotifyContext delivers it) as soon as explore or replay
// reports its first finished row.
func runCLIInterrupted(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errb bytes.Buffer
	e := &env{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, getenv: os.Getenv, rowDone: cancel}
	code = runEnv(ctx, append([]string{"calldir"}, args...), e)
	return code, out.String(), errb.String()
}

// 9a: a budget of zero or below would run the whole matrix without limit.
func TestGuardExploreBudgetNotPositive(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	mustWrite(t, filepath.Join(dir, "keep.txt"), "+12125550123\n")
	before := snapshotTree(t, dir)
	for _, b := range []string{"0s", "-5s"} {
		// One small case, so that code which accepts the budget ends
		// quickly (and writes nothing: --no-shrink) instead of hanging.
		_, stderr := mustCLI(t, 2, "explore", "--budget", b, "--pattern", "field-report", "--settings", "default",
			"--fault", "none", "--scale", "0.001", "--no-shrink", "--out", "plans")
		if !strings.Contains(stderr, "--budget "+b+": want a duration above 0") {
			t.Errorf("--budget %s: stderr %q", b, stderr)
		}
	}
	assertSameTree(t, dir, before)
}

// 9b: SIGINT during explore prints the cases finished so far, then exits
// 130. The run is interrupted right after its first case of two.
func TestGuardExploreInterruptedPrintsFinishedRows(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	mustWrite(t, filepath.Join(dir, "keep.txt"), "+12125550123\n")
	before := snapshotTree(t, dir)
	args := []string{"explore", "--pattern", "repeated-complete", "--settings", "default", "--settings", "wal",
		"--fault", "none", "--scale", "0.001", "--no-shrink", "--out", "plans"}
	code, stdout, stderr := runCLIInterrupted(t, args...)
	if code != 130 {
		t.Fatalf("exit %d, want 130\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	if !regexp.MustCompile(`(?m)^1\s+repeated-complete\s+default\s+none\s+ok\s`).MatchString(stdout) ||
		strings.Contains(stdout, "wal") || !strings.Contains(stdout, "interrupted after 1 case(s)") {
		t.Errorf("want the first case's row, not the second's, and the interruption:\n%s", stdout)
	}
	if !strings.Contains(stderr, "calldir: interrupted") {
		t.Errorf("stderr %q", stderr)
	}
	code, stdout, _ = runCLIInterrupted(t, append(args, "--format", "json")...)
	var rep struct {
		Cases       []struct{ Settings string } `json:"cases"`
		Interrupted bool                        `json:"interrupted"`
	}
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil || code != 130 || len(rep.Cases) != 1 || rep.Cases[0].Settings != "default" || !rep.Interrupted {
		t.Errorf("json: exit %d, %v, %+v\n%s", code, err, rep, stdout)
	}
	assertSameTree(t, dir, before)
}

// 9b: SIGINT during replay prints the steps finished so far, then exits
// 130. A build of several extensions replays in one step each; the run is
// interrupted right after the first.
func TestGuardReplayInterruptedPrintsFinishedRows(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	mustWrite(t, filepath.Join(dir, "a.txt"), genMixedDeterministic(3000))
	mustCLI(t, 0, "compile", "-q", "--max-per-shard", "1000", "--out", "build", "a.txt")
	before := snapshotTree(t, dir)
	code, stdout, stderr := runCLIInterrupted(t, "replay", "build")
	if code != 130 {
		t.Fatalf("exit %d, want 130\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	rows := regexp.MustCompile(`(?m)^\d+\s+\S+\s+load `).FindAllString(stdout, -1)
	if len(rows) != 1 || !strings.HasPrefix(rows[0], "1 ") || !regexp.MustCompile(`interrupted after 1 of [2-9] steps`).MatchString(stdout) {
		t.Errorf("want the first step's row only, and the interruption:\n%s", stdout)
	}
	if !strings.Contains(stderr, "calldir: interrupted") {
		t.Errorf("stderr %q", stderr)
	}
	code, stdout, _ = runCLIInterrupted(t, "replay", "--format", "json", "build")
	var rep struct {
		Steps       []struct{ Index int } `json:"steps"`
		Interrupted bool                  `json:"interrupted"`
	}
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil || code != 130 || len(rep.Steps) != 1 || rep.Steps[0].Index != 0 || !rep.Interrupted {
		t.Errorf("json: exit %d, %v, %+v\n%s", code, err, rep, stdout)
	}
	assertSameTree(t, dir, before)
}

// 9c: bench's help says the compile's ratio is the reading speed over the
// compile's (how many times the compile costs the read); the other stages'
// ratios are calldir's throughput over the baseline's.
func TestGuardBenchRatios(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	mustWrite(t, filepath.Join(dir, "keep.txt"), "+12125550123\n")
	before := snapshotTree(t, dir)
	out, _ := mustCLI(t, 0, "bench", "--stages", "sort,compile", "--lines", "20000", "--format", "json", "--dir", "work")
	var rep struct {
		Stages []bench.Row `json:"stages"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("bench json: %v\n%s", err, out)
	}
	near := func(a, b float64) bool { return math.Abs(a-b) <= 1e-6*math.Max(math.Abs(a), math.Abs(b)) }
	seen := 0
	for _, r := range rep.Stages {
		want := r.Calldir / r.Baseline
		if strings.HasPrefix(r.Stage, "compile") {
			want = r.Baseline / r.Calldir
			// A compile cannot be faster than merely reading the lines.
			if r.Ratio <= 1 {
				t.Errorf("%s: ratio %.3f, want the compile's cost in reads, above 1", r.Stage, r.Ratio)
			}
		}
		if !near(r.Ratio, want) {
			t.Errorf("%s: ratio %.4f, want %.4f (calldir %.0f, baseline %.0f %s/s)", r.Stage, r.Ratio, want, r.Calldir, r.Baseline, r.Unit)
		}
		seen++
	}
	if seen != 2 {
		t.Errorf("%d stages, want 2:\n%s", seen, out)
	}
	assertSameTree(t, dir, before, "work")
}

// 9d: one rule for a single trailing X everywhere: not a wildcard. A list
// line rejects it as too short, so --pattern refuses it too.
func TestGuardPatternSingleX(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	mustWrite(t, filepath.Join(dir, "list.txt"), "+1 212 555 012X\n+1 212 555 0199\n")
	before := snapshotTree(t, dir)
	// The list: the line is a number, rejected as too short.
	mustCLI(t, 0, "compile", "-q", "--out", "build", "--rejects", "rejects.csv", "list.txt")
	if r := mustRead(t, filepath.Join(dir, "rejects.csv")); !strings.Contains(r, "too-short") || !strings.Contains(r, "012X") {
		t.Errorf("the list line is not rejected as too-short:\n%s", r)
	}
	// --pattern: the same text is refused, nothing written.
	_, stderr := mustCLI(t, 2, "compile", "-q", "--out", "build2", "--pattern", "+1 212 555 012X", "list.txt")
	if !strings.Contains(stderr, "single trailing X is not a wildcard") {
		t.Errorf("stderr %q", stderr)
	}
	// Two X, or a #, are wildcards in both.
	mustCLI(t, 0, "compile", "-q", "--out", "build3", "--pattern", "+1 212 555 01XX", "--pattern", "+1 212 555 013#", "list.txt")
	assertSameTree(t, dir, before, "build", "rejects.csv", "build3")
}

// 9e: a region, accept or format that parses as TOML but names nothing
// known is reported with the configuration's file and line and the key.
func TestGuardConfigKeyLines(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	mustWrite(t, filepath.Join(dir, "a.txt"), "+12125550123\n")
	cases := []struct{ name, toml, want string }{
		{"source-region", "[[source]]\npath = \"a.txt\"\nregion = \"ZZ\"\n", `:3: source[0].region: unknown region "ZZ"`},
		{"source-accept", "# a comment\n[[source]]\npath = \"a.txt\"\n\n  accept = \"maybe\"\n", `:5: source[0].accept: unknown accept policy "maybe"`},
		{"source-format", "[[source]]\npath = \"a.txt\"\n[[source]]\npath = \"a.txt\"\nformat = \"xml\"\n", `:5: source[1].format: unknown input format "xml"`},
		{"allow-inline", "allow = [ {path = \"a.txt\"},\n  {path = \"a.txt\", region = \"QQ\"} ]\n[[source]]\npath = \"a.txt\"\n", `:2: allow[1].region: unknown region "QQ"`},
		{"top-region", "out = \"build\"\nregion = \"ZZ\"\n[[source]]\npath = \"a.txt\"\n", `:2: region: unknown region "ZZ"`},
	}
	for _, tc := range cases {
		mustWrite(t, filepath.Join(dir, tc.name+".toml"), tc.toml)
	}
	before := snapshotTree(t, dir)
	for _, tc := range cases {
		_, stderr := mustCLI(t, 2, "compile", "-q", "--config", tc.name+".toml", "--out", "build")
		if !strings.Contains(stderr, "calldir: "+tc.name+".toml"+tc.want) {
			t.Errorf("%s: stderr %q, want %q", tc.name, stderr, tc.name+".toml"+tc.want)
		}
	}
	assertSameTree(t, dir, before)
}

// 9g: each wrap adds its context once: compress/gzip's own errors begin
// with "gzip: ", and were wrapped in another.
func TestGuardGzipErrorsPrefixedOnce(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	var good bytes.Buffer
	zw := gzip.NewWriter(&good)
	zw.Write([]byte("+12125550123\n+12125550124\n"))
	zw.Close()
	badCRC := append([]byte(nil), good.Bytes()...)
	badCRC[len(badCRC)-5] ^= 0xff // the CRC-32 in the trailer
	mustWrite(t, filepath.Join(dir, "header.gz"), "\x1f\x8bnot a gzip header at all")
	mustWrite(t, filepath.Join(dir, "checksum.gz"), string(badCRC))
	before := snapshotTree(t, dir)
	for _, tc := range []struct{ file, want string }{
		{"header.gz", "header.gz: gzip: invalid header"},
		{"checksum.gz", "checksum.gz: gzip: invalid checksum"},
	} {
		for _, args := range [][]string{{"compile", "-q", "--out", "build", tc.file}, {"validate", "--raw", tc.file}} {
			_, stderr := mustCLI(t, 2, args...)
			if !strings.Contains(stderr, tc.want) || strings.Contains(stderr, "gzip: gzip:") {
				t.Errorf("%s: stderr %q, want %q once", strings.Join(args, " "), stderr, tc.want)
			}
		}
	}
	assertSameTree(t, dir, before)
}

// 9h: calldir without a command is a usage error: the usage on stderr,
// exit 2; calldir --help is a request for it, exit 0 on stdout.
func TestGuardNoArguments(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	mustWrite(t, filepath.Join(dir, "keep.txt"), "+12125550123\n")
	before := snapshotTree(t, dir)
	stdout, stderr := mustCLI(t, 2)
	if stdout != "" || !strings.Contains(stderr, "USAGE:") || !strings.Contains(stderr, "compile") {
		t.Errorf("no arguments: stdout %q, stderr %q", stdout, stderr)
	}
	stdout, _ = mustCLI(t, 0, "--help")
	if !strings.Contains(stdout, "USAGE:") {
		t.Errorf("--help: stdout %q", stdout)
	}
	assertSameTree(t, dir, before)
}

// Each wrap adds its context once. validate's finding kind
// already says "manifest", and shard.Open already names the shard.
func TestGuardNoDoubledPrefixes(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	mustWrite(t, "list.txt", "+14155550101\n+14155550102\n")
	mustCLI(t, 0, "compile", "-q", "-o", "b", "list.txt")
	mustCLI(t, 0, "compile", "-q", "-o", "bad", "list.txt")
	mustWrite(t, "bad/manifest.json", `{"format":"calldir-build","format_version":1,"nosuch":1}`)
	before := snapshotTree(t, dir)
	code, out, _ := runCLI(t, "", "validate", "bad")
	if code != 1 || !strings.Contains(out, "manifest") || strings.Contains(out, "manifest: manifest:") {
		t.Errorf("validate of a bad manifest: exit %d\n%s", code, out)
	}
	assertSameTree(t, dir, before)
	// A damaged shard replayed from its build: its path once.
	sh := "b/block-0001.shard"
	b := []byte(mustRead(t, sh))
	b[0] ^= 0xff
	if err := os.WriteFile(sh, b, 0o644); err != nil {
		t.Fatal(err)
	}
	before = snapshotTree(t, dir)
	code, _, stderr := runCLI(t, "", "replay", "b")
	if code != 2 || strings.Count(stderr, "block-0001.shard") != 1 {
		t.Errorf("replay of a damaged shard: exit %d, the shard named %d times:\n%s", code, strings.Count(stderr, "block-0001.shard"), stderr)
	}
	assertSameTree(t, dir, before)
}

// childPeakRSS runs cmd and returns its peak resident memory in bytes: the
// largest VmHWM read from /proc/PID/status while it runs (0 without
// /proc). rusage's ru_maxrss would not do: Go starts a child with vfork,
// so the child's figure starts at the test process's own peak.
func childPeakRSS(cmd *exec.Cmd) (int64, error) {
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	pid := strconv.Itoa(cmd.Process.Pid)
	var peak int64
	for {
		select {
		case err := <-done:
			if err != nil {
				return 0, fmt.Errorf("%v\n%s", err, out.String())
			}
			return peak, nil
		case <-time.After(2 * time.Millisecond):
		}
		peak = max(peak, vmHWM(pid))
	}
}

// --memory bounds the peak resident memory of a compile to
// 1.1 × SIZE plus a fixed floor of 80 MiB (the 64 MiB of heap headroom
// compiler.HeapLimit gives, the runtime, code and number tables), whatever the
// input size. Peak RSS is a count, not a time: it does not depend much on
// how busy the machine is. Without -tags long only --memory 16MB, the
// bound with the least room (each compile of the 4M lines takes about 1.5 s).
func TestGuardMemoryBound(t *testing.T) {
	bin := calldirBinary(t)
	dir := t.TempDir()
	in := filepath.Join(dir, "in.txt")
	f, err := os.Create(in)
	if err != nil {
		t.Fatal(err)
	}
	if err := generateInto(f, 4_000_000); err != nil {
		t.Fatal(err)
	}
	f.Close()
	mems := []int64{16 << 20}
	if long {
		mems = append(mems, 64<<20)
	}
	for _, mem := range mems {
		cmd := exec.Command(bin, "compile", "-q", "--memory", strconv.FormatInt(mem>>20, 10)+"MB", "--temp-dir", dir, "-o", filepath.Join(dir, "out"), "--max-shrink", "100%", in)
		peak, err := childPeakRSS(cmd)
		if err != nil {
			t.Fatalf("compile --memory %dMB: %v", mem>>20, err)
		}
		if peak == 0 {
			t.Skip("no /proc/PID/status here")
		}
		bound := mem + mem/10 + compiler.MemoryFloor
		t.Logf("--memory %d MiB: peak RSS %d MiB, bound %d MiB", mem>>20, peak>>20, bound>>20)
		if peak > bound {
			t.Errorf("--memory %d MiB: peak RSS %d MiB over the documented bound %d MiB", mem>>20, peak>>20, bound>>20)
		}
	}
}
