package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/calldir/calldir/shard"
	"github.com/calldir/calldir/shard/livelookup"
	"github.com/calldir/calldir/validate/verifier"
)

func TestMain(m *testing.M) {
	if verifier.IsChild() { // replay's kill faults re-run this binary as the writer
		os.Exit(exitCode(verifier.RunChild(context.Background(), os.Stdin, os.Stdout)))
	}
	code := m.Run()
	if testBin.path != "" {
		os.RemoveAll(filepath.Dir(testBin.path))
	}
	os.Exit(code)
}

var update = flag.Bool("update", false, "rewrite the expected outputs of the golden cases under fixtures/cases")

// runCLI runs the real CLI in-process and returns its exit code and output.
func runCLI(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), append([]string{"calldir"}, args...), strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

// mustCLI runs the CLI and fails the test unless it exits with want.
func mustCLI(t *testing.T, want int, args ...string) (stdout, stderr string) {
	t.Helper()
	code, out, errs := runCLI(t, "", args...)
	if code != want {
		t.Fatalf("calldir %s: exit %d, want %d\nstderr: %s", strings.Join(args, " "), code, want, errs)
	}
	return out, errs
}

func mustWrite(t *testing.T, path string, data string) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// timing matches the elapsed time in the summary lines, which varies.
var timing = regexp.MustCompile(`\(\d+(\.\d+)?(ns|µs|ms|s|m\d+(\.\d+)?s)\)`)

// Replay and explore report each step's or case's wall time in
// milliseconds: "ms" in JSON, and the last column of replay's table (whose
// width, padded by tabwriter, follows the widest value).
var (
	jsonMillis  = regexp.MustCompile(`"ms": \d+(\.\d+)?`)
	tableMillis = regexp.MustCompile(`(?m)^(\d+  .*?  )\d+(\.\d+)? *$`)
	tableMsHead = regexp.MustCompile(`(?m)^(#  line  step .*?  )ms *$`)
	// doctor's JSON: when a replay last set each extension's state.
	jsonStateTime = regexp.MustCompile(`"state_last_modified": [0-9.e+]+`)
)

// normalize replaces what varies from run to run in an output: the
// scratch directory, elapsed times and replay's milliseconds.
func normalize(s, tmp string) string {
	s = strings.ReplaceAll(s, tmp, "$TMP")
	s = timing.ReplaceAllString(s, "(TIME)")
	s = jsonMillis.ReplaceAllString(s, `"ms": "(MS)"`)
	s = jsonStateTime.ReplaceAllString(s, `"state_last_modified": "(TIME)"`)
	s = tableMsHead.ReplaceAllString(s, "${1}ms")
	return tableMillis.ReplaceAllString(s, "${1}(MS)")
}

// TestGolden runs every case under fixtures/cases, one folder per case,
// with the folder as the working directory:
//
//	args      the checked command: calldir's arguments on one line, split at
//	          white space; $OUT is a path in a scratch directory, $TMP that
//	          directory
//	setup     optional: steps run first, one a line (# starts a comment), with
//	          the same $OUT and $TMP:
//	            calldir ARGS...     a calldir command, which must exit 0
//	            write FILE TEXT...  create FILE holding TEXT and a newline
//	            flip FILE OFFSET    invert one byte (OFFSET < 0 counts from the end)
//	            remove FILE         remove FILE
//	            copy FROM TO        copy the file FROM over TO
//	stdin     optional: the checked command's standard input
//	expected/ what the checked command gave: exit (its code), stderr, stdout
//	          (when not empty), manifest.json and dump.txt (inspect --dump)
//	          when it wrote the build $OUT, delta.json when it wrote the delta
//	          $OUT, live-lookup.json and dump.txt when it wrote the Live
//	          Caller ID Lookup export $OUT, and every $TMP/*.csv report
//
// Outputs are normalized (the scratch directory becomes $TMP, elapsed times
// (TIME), replay's and explore's milliseconds (MS)). -update rewrites
// expected/.
func TestGolden(t *testing.T) {
	root := filepath.Join("..", "..", "fixtures", "cases")
	cases, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		if !c.IsDir() {
			continue
		}
		t.Run(c.Name(), func(t *testing.T) {
			dir, err := filepath.Abs(filepath.Join(root, c.Name()))
			if err != nil {
				t.Fatal(err)
			}
			tmp := t.TempDir()
			out := filepath.Join(tmp, "build")
			subst := strings.NewReplacer("$OUT", out, "$TMP", tmp)
			line := strings.TrimSpace(mustRead(t, filepath.Join(dir, "args")))
			args := strings.Fields(subst.Replace(line))
			stdin := ""
			if b, err := os.ReadFile(filepath.Join(dir, "stdin")); err == nil {
				stdin = string(b)
			}
			t.Chdir(dir)
			if b, err := os.ReadFile(filepath.Join(dir, "setup")); err == nil {
				runSetup(t, subst, string(b))
			}
			_, err = os.Lstat(out)
			outBefore := err == nil
			code, stdout, stderr := runCLI(t, stdin, args...)
			got := map[string]string{
				"exit":   strconv.Itoa(code) + "\n",
				"stderr": normalize(stderr, tmp),
			}
			if stdout != "" {
				got["stdout"] = normalize(stdout, tmp)
			}
			if !outBefore {
				if _, err := os.Stat(filepath.Join(out, "manifest.json")); err == nil {
					got["manifest.json"] = mustRead(t, filepath.Join(out, "manifest.json"))
					_, dump, _ := runCLI(t, "", "inspect", "--dump", out)
					got["dump.txt"] = dump
				}
				if _, err := os.Stat(filepath.Join(out, livelookup.ManifestName)); err == nil {
					got[livelookup.ManifestName] = mustRead(t, filepath.Join(out, livelookup.ManifestName))
					_, dump, _ := runCLI(t, "", "inspect", "--dump", out)
					got["dump.txt"] = dump
				}
				if _, err := os.Stat(filepath.Join(out, shard.DeltaManifestName)); err == nil {
					got[shard.DeltaManifestName] = mustRead(t, filepath.Join(out, shard.DeltaManifestName))
				}
			}
			reports, _ := filepath.Glob(filepath.Join(tmp, "*.csv"))
			for _, r := range reports {
				got[filepath.Base(r)] = mustRead(t, r)
			}
			exp := filepath.Join(dir, "expected")
			if *update {
				os.RemoveAll(exp)
				for name, v := range got {
					mustWrite(t, filepath.Join(exp, name), v)
				}
				return
			}
			want, err := os.ReadDir(exp)
			if err != nil {
				t.Fatalf("no expected outputs (run go test ./cmd/calldir -run TestGolden -update): %v", err)
			}
			for _, w := range want {
				if _, ok := got[w.Name()]; !ok {
					t.Errorf("%s: expected, but the run did not produce it", w.Name())
				}
			}
			for name, v := range got {
				wantV, err := os.ReadFile(filepath.Join(exp, name))
				if err != nil {
					t.Errorf("%s: produced, but not in expected/ (run with -update)", name)
					continue
				}
				if v != string(wantV) {
					t.Errorf("%s differs from expected/%s\n--- got ---\n%s\n--- want ---\n%s", name, name, clip(v), clip(string(wantV)))
				}
			}
		})
	}
}

// runSetup runs the steps of a case's setup file (see TestGolden).
func runSetup(t *testing.T, subst *strings.Replacer, text string) {
	t.Helper()
	for i, line := range strings.Split(text, "\n") {
		if j := strings.Index(line, "#"); j >= 0 {
			line = line[:j]
		}
		f := strings.Fields(subst.Replace(line))
		if len(f) == 0 {
			continue
		}
		where := fmt.Sprintf("setup:%d: %q", i+1, strings.TrimSpace(line))
		switch {
		case f[0] == "calldir":
			if code, _, stderr := runCLI(t, "", f[1:]...); code != 0 {
				t.Fatalf("%s: exit %d\n%s", where, code, stderr)
			}
		case f[0] == "write" && len(f) >= 2:
			mustWrite(t, f[1], strings.Join(f[2:], " ")+"\n")
		case f[0] == "flip" && len(f) == 3:
			b, err := os.ReadFile(f[1])
			if err != nil {
				t.Fatalf("%s: %v", where, err)
			}
			off, err := strconv.Atoi(f[2])
			if off < 0 {
				off += len(b)
			}
			if err != nil || off < 0 || off >= len(b) {
				t.Fatalf("%s: offset out of the file's %d bytes", where, len(b))
			}
			b[off] = ^b[off]
			if err := os.WriteFile(f[1], b, 0o644); err != nil {
				t.Fatalf("%s: %v", where, err)
			}
		case f[0] == "remove" && len(f) == 2:
			if err := os.Remove(f[1]); err != nil {
				t.Fatalf("%s: %v", where, err)
			}
		case f[0] == "copy" && len(f) == 3:
			b, err := os.ReadFile(f[1])
			if err == nil {
				err = os.WriteFile(f[2], b, 0o644)
			}
			if err != nil {
				t.Fatalf("%s: %v", where, err)
			}
		default:
			t.Fatalf("%s: want calldir ARGS..., write FILE TEXT..., flip FILE OFFSET, remove FILE or copy FROM TO", where)
		}
	}
}

func clip(s string) string {
	if len(s) > 3000 {
		return s[:3000] + "\n…"
	}
	return s
}
