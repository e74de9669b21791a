package main

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
)

// Built without cgo, the commands that need SQLite refuse to start with
// exit status 2 and say why; the others, and bench without its replay
// stage, run. The gate is the same code in a cgo build, switched on by
// env.noCgo here.
func TestNeedsCgo(t *testing.T) {
	t.Chdir(t.TempDir())
	for _, tc := range []struct {
		args []string
		code int
		want string // in stderr, or with exit 0 in stdout
	}{
		{[]string{"replay", "build"}, exitUsage, "calldir: replay needs a cgo build (go-sqlite3)"},
		{[]string{"explore", "--budget", "1s"}, exitUsage, "calldir: explore needs a cgo build (go-sqlite3)"},
		{[]string{"doctor", "CallDirectory.db"}, exitUsage, "calldir: doctor needs a cgo build (go-sqlite3)"},
		{[]string{"bench", "--lines", "1000"}, exitUsage, "calldir: bench's replay stage needs a cgo build (go-sqlite3)"},
		{[]string{"bench", "--lines", "1000", "--stages", "sort,replay", "--replay", "10"}, exitUsage, "bench's replay stage needs a cgo build"},
		{[]string{"bench", "--lines", "1000", "--stages", "sort", "--format", "json"}, exitOK, `"stage": "sort + dedupe"`},
		{[]string{"bench", "--lines", "1000", "--stages", "sort,replay", "--replay", "0", "--format", "json"}, exitOK, `"stage": "sort + dedupe"`},
		{[]string{"replay", "--help"}, exitOK, "calldir replay"},
	} {
		var out, errb bytes.Buffer
		code := runEnv(context.Background(), append([]string{"calldir"}, tc.args...),
			&env{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, getenv: os.Getenv, noCgo: true})
		stdout, stderr := out.String(), errb.String()
		got := stderr
		if tc.code == exitOK {
			got = stdout
		}
		if code != tc.code || !strings.Contains(got, tc.want) {
			t.Errorf("calldir %s: exit %d, stdout %q, stderr %q; want exit %d and %q",
				strings.Join(tc.args, " "), code, stdout, stderr, tc.code, tc.want)
		}
	}
}
