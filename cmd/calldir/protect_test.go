package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/calldir/calldir/compiler"
	"github.com/calldir/calldir/shard"
)

// TestProtectRefusedCLI: a compile that would block a protected number
// exits 2 naming the number, the source line and the protect line, and
// leaves every file as it was: the previous build in --out byte for byte.
func TestProtectRefusedCLI(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "build")
	list := mustWrite(t, filepath.Join(dir, "list.txt"), "+12125550100\n")
	banks := mustWrite(t, filepath.Join(dir, "banks.txt"), "# our banks\n+1 212 555 0123\n+1 646 555 01##\n")
	mustCLI(t, 0, "compile", "-q", "--out", out, "--protect", banks, list)
	before := snapshotTree(t, dir)
	mustWrite(t, list, "+12125550100\n+12125550123\n+1 646 555 0###\n")
	before["list.txt"] = snapshotTree(t, dir)["list.txt"]
	code, stdout, stderr := runCLI(t, "", "compile", "--out", out, "--protect", banks, list)
	if code != 2 {
		t.Fatalf("exit %d, want 2\n%s", code, stderr)
	}
	for _, want := range []string{
		"build refused, nothing written: it would block 101 protected numbers:",
		"+12125550123 from " + list + ":2, protected by " + banks + ":2",
		"+16465550100 from " + list + ":3 (\"+1 646 555 0###\"), protected by " + banks + ":3 (\"+1 646 555 01##\")",
		"and 91 more",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	if stdout != "" {
		t.Errorf("stdout: %q", stdout)
	}
	assertSameTree(t, dir, before)
}

// TestProtectJSONRefused: --format json says why on stdout, with the
// protected numbers, and the exit status.
func TestProtectJSONRefused(t *testing.T) {
	dir := t.TempDir()
	list := mustWrite(t, filepath.Join(dir, "list.txt"), "+12125550100\n+12125550123\n")
	banks := mustWrite(t, filepath.Join(dir, "banks.txt"), "+12125550123\n")
	code, stdout, stderr := runCLI(t, "", "compile", "-q", "--format", "json", "--out", filepath.Join(dir, "build"), "--protect", banks, list)
	if code != 2 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	var s compileSummary
	if err := json.Unmarshal([]byte(stdout), &s); err != nil {
		t.Fatalf("%v\n%s", err, stdout)
	}
	if s.OK || s.ExitStatus != 2 || s.ProtectedCount != 1 || len(s.Protected) != 1 || s.BuildID != "" || len(s.Outputs) != 0 {
		t.Fatalf("summary %+v", s)
	}
	want := summaryProtected{Number: "+12125550123", Source: list, Line: 2, ProtectSource: banks, ProtectLine: 1}
	if s.Protected[0] != want {
		t.Errorf("protected %+v, want %+v", s.Protected[0], want)
	}
	if !strings.Contains(s.Error, "+12125550123") {
		t.Errorf("error %q", s.Error)
	}
}

// TestProtectConfig: [[protect]] in calldir.toml, its path relative to
// the file, as [[allow]]'s; and its bad keys named with their line.
func TestProtectConfig(t *testing.T) {
	dir := t.TempDir()
	mustWrite(t, filepath.Join(dir, "conf", "lists", "spam.txt"), "+442079460958\n+12125550123\n")
	mustWrite(t, filepath.Join(dir, "conf", "lists", "support.txt"), "020 7946 0958\n")
	cfg := mustWrite(t, filepath.Join(dir, "conf", "calldir.toml"), `out = "build"
[[source]]
path = "lists/spam.txt"
[[protect]]
path = "lists/support.*"
region = "GB"
`)
	code, _, stderr := runCLI(t, "", "compile", "-q", "--config", cfg)
	if code != 2 || !strings.Contains(stderr, "+442079460958 from "+filepath.Join(dir, "conf", "lists", "spam.txt")+":1, protected by "+filepath.Join(dir, "conf", "lists", "support.txt")+":1") {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	if _, err := os.Lstat(filepath.Join(dir, "conf", "build")); !os.IsNotExist(err) {
		t.Errorf("build written: %v", err)
	}
	mustWrite(t, cfg, "out = \"build\"\n[[source]]\npath = \"lists/spam.txt\"\n[[protect]]\npath = \"lists/support.txt\"\nregion = \"ZZ\"\n")
	if code, _, stderr := runCLI(t, "", "compile", "-q", "--config", cfg); code != 2 || !strings.Contains(stderr, "calldir.toml:6: protect[0].region") {
		t.Errorf("bad region: exit %d\n%s", code, stderr)
	}
	mustWrite(t, cfg, "out = \"build\"\n[[source]]\npath = \"lists/spam.txt\"\n[[protect]]\npath = \"lists/none.*\"\n")
	if code, _, stderr := runCLI(t, "", "compile", "-q", "--config", cfg); code != 2 || !strings.Contains(stderr, "protect[0].path") {
		t.Errorf("glob matching nothing: exit %d\n%s", code, stderr)
	}
}

// TestProtectPassesCLI: a number both allowed and protected is not
// blocked, so the build is written; --protect changes nothing else.
func TestProtectPassesCLI(t *testing.T) {
	dir := t.TempDir()
	list := mustWrite(t, filepath.Join(dir, "list.txt"), "+12125550100\n+12125550123\n+1 646 555 01##\n")
	allow := mustWrite(t, filepath.Join(dir, "allow.txt"), "+12125550123\n+1 646 555 015#\n")
	banks := mustWrite(t, filepath.Join(dir, "banks.txt"), "+12125550123\n+16465550155\n+19175550000\n")
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	_, errA := mustCLI(t, 0, "compile", "--out", a, "--allow", allow, list)
	_, errB := mustCLI(t, 0, "compile", "--out", b, "--allow", allow, "--protect", banks, list)
	if normalize(strings.ReplaceAll(errA, " in "+a+" ", " in "+b+" "), dir) != normalize(errB, dir) {
		t.Errorf("summaries differ:\n%s\n%s", errA, errB)
	}
	if mustRead(t, filepath.Join(a, "manifest.json")) != mustRead(t, filepath.Join(b, "manifest.json")) {
		t.Errorf("manifests differ")
	}
}

func TestProtectErrorsCLI(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "build")
	list := mustWrite(t, filepath.Join(dir, "list.txt"), "+12125550100\n")
	bad := mustWrite(t, filepath.Join(dir, "banks.txt"), "+12125550123\n+1 212 555 01\n")
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"unreadable protect line", []string{"--protect", bad, list}, bad + `:2: "+1 212 555 01"`},
		{"identify", []string{"--kind", "identify", "--label", "Spam", "--protect", list, list}, "protect lists apply to blocking builds"},
		{"format", []string{"--format", "xml", list}, `--format "xml": want text or json`},
		{"protect onto a report", []string{"--protect", bad, "--rejects", bad, list}, "banks.txt"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := runCLI(t, "", append([]string{"compile", "-q", "--out", out}, tc.args...)...)
			if code != 2 || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d, want 2 and %q:\n%s", code, tc.want, stderr)
			}
			if _, err := os.Lstat(out); !os.IsNotExist(err) {
				t.Errorf("build written")
			}
		})
	}
	if got := exitCode(&compiler.ProtectedError{Count: 1}); got != exitUsage {
		t.Errorf("exitCode(*ProtectedError) = %d, want %d", got, exitUsage)
	}
}

// TestCompileJSONCLI: the summary on stdout agrees with the manifest
// written, and the text summary stays on stderr as without --format.
func TestCompileJSONCLI(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "build")
	list := mustWrite(t, filepath.Join(dir, "list.txt"), "+12125550100\n+12125550100\nnope\n+1 646 555 01##\n")
	allow := mustWrite(t, filepath.Join(dir, "allow.txt"), "+16465550150\n")
	banks := mustWrite(t, filepath.Join(dir, "banks.txt"), "+19175550000\n")
	rejects := filepath.Join(dir, "rejects.csv")
	stdout, stderr := mustCLI(t, 0, "compile", "--format", "json", "--out", out, "--allow", allow, "--protect", banks, "--rejects", rejects, "--max-per-shard", "50", list)
	if !strings.HasPrefix(stderr, "calldir: 5 lines from 1 file(s) and 1 allowlist(s)") {
		t.Errorf("stderr: %s", stderr)
	}
	var s compileSummary
	if err := json.Unmarshal([]byte(stdout), &s); err != nil {
		t.Fatalf("%v\n%s", err, stdout)
	}
	m, err := shard.ReadManifestFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !s.OK || s.ExitStatus != 0 || s.BuildID != m.BuildID || s.Totals == nil || s.Totals.Entries != m.Totals.Entries || s.Totals.Entries != 100 ||
		s.Totals.Shards != 2 || s.Totals.Rejected != 1 || s.Patterns != 1 || len(s.Inputs) != 2 || s.Inputs[0].Duplicates != 1 || s.Inputs[1].Role != "allow" {
		t.Errorf("summary %+v\ntotals %+v", s, s.Totals)
	}
	wantOut := []summaryOutput{{"build", out}, {"rejects", rejects}}
	if len(s.Outputs) != 2 || s.Outputs[0] != wantOut[0] || s.Outputs[1] != wantOut[1] {
		t.Errorf("outputs %+v", s.Outputs)
	}
	if len(s.Protect) != 1 || s.Protect[0] != banks {
		t.Errorf("protect %v", s.Protect)
	}
}
