package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestValidateBuild(t *testing.T) {
	dir := t.TempDir()
	in := mustWrite(t, filepath.Join(dir, "a.txt"), genMixedDeterministic(2000))
	out := filepath.Join(dir, "build")
	mustCLI(t, 0, "compile", "-q", "--max-per-shard", "300", "--out", out, in)
	stdout, _ := mustCLI(t, 0, "validate", out)
	if !regexp.MustCompile(`checked \d+ shard\(s\), [\d,]+ entries`).MatchString(stdout) || !strings.Contains(stdout, "0 finding(s)") {
		t.Errorf("validate does not say what it checked: %s", stdout)
	}

	// One injected fault: exit 1, one finding in JSON naming shard and index.
	p := filepath.Join(out, "block-0002.shard")
	b := []byte(mustRead(t, p))
	os.WriteFile(p, b[:len(b)-3], 0o644)
	code, js, _ := runCLI(t, "", "validate", "--format", "json", out)
	if code != 1 {
		t.Fatalf("exit %d, want 1", code)
	}
	var rep struct {
		OK     bool `json:"ok"`
		Report struct {
			Findings []struct {
				Kind  string `json:"kind"`
				Shard string `json:"shard"`
				Index *int64 `json:"index"`
			} `json:"findings"`
		} `json:"report"`
	}
	if err := json.Unmarshal([]byte(js), &rep); err != nil {
		t.Fatalf("json output does not parse: %v\n%s", err, js)
	}
	fs := rep.Report.Findings
	if rep.OK || len(fs) != 1 || fs[0].Kind != "size" || fs[0].Shard != "block-0002.shard" || fs[0].Index == nil {
		t.Errorf("findings: %+v", fs)
	}
	code, ghOut, _ := runCLI(t, "", "validate", "--format", "github", out)
	if code != 1 || !strings.HasPrefix(ghOut, "::error file="+p) {
		t.Errorf("github output: %d %s", code, ghOut)
	}
	mustCLI(t, 2, "validate", filepath.Join(dir, "nope"))
	mustCLI(t, 2, "validate", in)
	mustCLI(t, 2, "validate", "--format", "xml", out)
}

// validate --raw --format github: three bad lines, three annotations with the
// right file and line; --max-rejects decides the exit status.
func TestValidateRawGitHub(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	mustWrite(t, "list.txt", "# header comment\n+14155550101\n555-0123\n+14155550102\n\nhello\n+14155550103\n+999 12\n")
	code, out, _ := runCLI(t, "", "validate", "--raw", "--format", "github", "--max-rejects", "0", "list.txt")
	if code != 1 {
		t.Fatalf("exit %d, want 1:\n%s", code, out)
	}
	ann := regexp.MustCompile(`(?m)^::error file=list\.txt,line=(\d+),title=calldir reject::`).FindAllStringSubmatch(out, -1)
	var lines []string
	for _, a := range ann {
		lines = append(lines, a[1])
	}
	if strings.Join(lines, ",") != "3,6,8" {
		t.Errorf("annotations at lines %v, want 3,6,8:\n%s", lines, out)
	}
	code, out, _ = runCLI(t, "", "validate", "--raw", "--format", "github", "--max-rejects", "5", "list.txt")
	if code != 0 || strings.Count(out, "::warning file=list.txt,line=") != 3 {
		t.Errorf("with --max-rejects 5: exit %d\n%s", code, out)
	}
	code, out, _ = runCLI(t, "", "validate", "--raw", "--max-rejects", "50%", "list.txt")
	if code != 0 || !strings.Contains(out, "list.txt:3: reject: local-only") {
		t.Errorf("text output: exit %d\n%s", code, out)
	}
}

func genMixedDeterministic(n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "+1415%03d%04d\n", 200+i/10000, i%10000)
	}
	return b.String()
}
