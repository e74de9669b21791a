package main

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

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

// timing matches the elapsed time in the summary line, which varies.
var timing = regexp.MustCompile(`\(\d+(\.\d+)?(ns|µs|ms|s|m\d+(\.\d+)?s)\)`)

// TestGolden runs every case under fixtures/cases: each folder has an args
// file (one line; $OUT is the build directory, $TMP a scratch directory),
// its inputs, and expected/ with the exit code, stderr, the build's manifest
// and dump, and any CSV report the args asked for. -update rewrites
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
			line := strings.TrimSpace(mustRead(t, filepath.Join(dir, "args")))
			line = strings.NewReplacer("$OUT", out, "$TMP", tmp).Replace(line)
			args := strings.Fields(line)
			stdin := ""
			if b, err := os.ReadFile(filepath.Join(dir, "stdin")); err == nil {
				stdin = string(b)
			}
			t.Chdir(dir)
			code, _, stderr := runCLI(t, stdin, args...)
			stderr = strings.ReplaceAll(stderr, tmp, "$TMP")
			stderr = timing.ReplaceAllString(stderr, "(TIME)")
			got := map[string]string{
				"exit":   strconv.Itoa(code) + "\n",
				"stderr": stderr,
			}
			if _, err := os.Stat(filepath.Join(out, "manifest.json")); err == nil {
				got["manifest.json"] = mustRead(t, filepath.Join(out, "manifest.json"))
				_, dump, _ := runCLI(t, "", "inspect", "--dump", out)
				got["dump.txt"] = dump
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

func clip(s string) string {
	if len(s) > 3000 {
		return s[:3000] + "\n…"
	}
	return s
}
