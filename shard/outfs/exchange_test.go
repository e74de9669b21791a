//go:build unix

package outfs

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// forceExchange makes exchangeSys return err for the test, recording the
// paths it was called with.
func forceExchange(t *testing.T, err error) *[][2]string {
	t.Helper()
	var calls [][2]string
	prev := exchangeSys
	exchangeSys = func(a, b string) error {
		calls = append(calls, [2]string{a, b})
		return err
	}
	t.Cleanup(func() { exchangeSys = prev })
	return &calls
}

// setAsideHook sets asideHook for the test.
func setAsideHook(t *testing.T, f func()) {
	t.Helper()
	asideHook = f
	t.Cleanup(func() { asideHook = nil })
}

// An error that says no swap can be done here takes the fallback; any
// other is the swap's failure.
func TestExchangeRefused(t *testing.T) {
	type tc struct {
		err  error
		want bool
	}
	cases := []tc{
		{errNoExchange, true},
		{fmt.Errorf("wrapped: %w", errNoExchange), true},
		{syscall.EACCES, false},
		{syscall.EPERM, false},
		{syscall.ENOENT, false},
		{syscall.EXDEV, false},
		{syscall.EIO, false},
		{&os.LinkError{Op: "rename", Old: "a", New: "b", Err: syscall.EACCES}, false},
		{errors.New("operation not supported"), false}, // by text alone: not an errno
	}
	for _, e := range exchangeUnsupported {
		cases = append(cases, tc{e, true}, tc{&os.LinkError{Op: "renameat2", Old: "a", New: "b", Err: e}, true})
	}
	for _, c := range cases {
		if got := exchangeRefused(c.err); got != c.want {
			t.Errorf("exchangeRefused(%v) = %v, want %v", c.err, got, c.want)
		}
	}
}

// On this system the swap is the platform's own: it trades the two
// directories in one step.
func TestSysExchange(t *testing.T) {
	d := t.TempDir()
	a, b := filepath.Join(d, "a"), filepath.Join(d, "b")
	mustWriteFile(t, filepath.Join(a, "f"), "A")
	mustWriteFile(t, filepath.Join(b, "f"), "B")
	ok, err := exchange(a, b)
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	if !ok {
		t.Skipf("no atomic exchange on this system or file system (%s)", d)
	}
	if got := mustRead(t, filepath.Join(a, "f")) + mustRead(t, filepath.Join(b, "f")); got != "BA" {
		t.Errorf("after exchange a/f+b/f = %q, want %q", got, "BA")
	}
	// Both must exist: a missing one is the swap's error, not a refusal.
	if ok, err := exchange(a, filepath.Join(d, "missing")); ok || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("exchange with a missing path = %v, %v; want false, ENOENT", ok, err)
	}
}

// Where no swap can be done, Commit replaces the output by two renames:
// in between, the path holds nothing and the previous output is whole in
// the stage's name + ".old"; afterwards the new output is in place and no
// temporary is left.
func TestCommitFallback(t *testing.T) {
	refusals := append([]error{errNoExchange}, exchangeUnsupported...)
	for _, refusal := range refusals {
		t.Run(refusal.Error(), func(t *testing.T) {
			calls := forceExchange(t, refusal)
			d := t.TempDir()
			dir := filepath.Join(d, "build")
			prev := map[string]string{"a": "old A", "sub/x": "gone"}
			mustOutput(t, dir, testMark, prev, nil)
			before := tree(t, dir)
			o := plannedOutput(t, dir)
			files := map[string]string{"a": "new A", "new": "N"}
			s := mustStage(t, o, files)
			stage := s.Dir
			var inWindow bool
			setAsideHook(t, func() {
				inWindow = true
				if _, err := os.Lstat(dir); !errors.Is(err, os.ErrNotExist) {
					t.Errorf("in the window %s: Lstat %v, want it missing", dir, err)
				}
				if got := tree(t, stage+".old"); !equalTrees(got, before) {
					t.Errorf("in the window %s.old holds %q, want the previous output %q", stage, got, before)
				}
			})
			must(t, Commit(s))
			if want := [][2]string{{stage, dir}}; fmt.Sprint(*calls) != fmt.Sprint(want) {
				t.Errorf("exchange called with %q, want %q", *calls, want)
			}
			if !inWindow {
				t.Errorf("the fallback's two renames were not taken")
			}
			wantOutput(t, dir, files)
			noTemps(t, d)
		})
	}
}

// A swap that fails for another reason is Commit's error: the output is
// left as it was and the stage is removed, with no rename attempted.
func TestCommitExchangeFails(t *testing.T) {
	forceExchange(t, syscall.EACCES)
	setAsideHook(t, func() { t.Errorf("the fallback was taken for EACCES") })
	d := t.TempDir()
	dir := filepath.Join(d, "build")
	mustOutput(t, dir, testMark, map[string]string{"a": "old A"}, nil)
	before := tree(t, dir)
	s := mustStage(t, plannedOutput(t, dir), map[string]string{"a": "new A"})
	err := Commit(s)
	if !errors.Is(err, syscall.EACCES) || !strings.HasPrefix(err.Error(), "replace "+dir+": ") {
		t.Fatalf("Commit: %v, want replace %s: permission denied", err, dir)
	}
	if !equalTrees(tree(t, dir), before) {
		t.Errorf("failed Commit changed %s: %q, want %q", dir, tree(t, dir), before)
	}
	noTemps(t, d)
}

// If the fallback's second rename fails, the previous output is moved
// back to the path.
func TestCommitFallbackUndo(t *testing.T) {
	forceExchange(t, errNoExchange)
	d := t.TempDir()
	dir := filepath.Join(d, "build")
	mustOutput(t, dir, testMark, map[string]string{"a": "old A"}, nil)
	before := tree(t, dir)
	s := mustStage(t, plannedOutput(t, dir), map[string]string{"a": "new A"})
	stage := s.Dir
	setAsideHook(t, func() { must(t, os.RemoveAll(stage)) }) // the second rename's source vanishes
	err := Commit(s)
	if !errors.Is(err, os.ErrNotExist) || !strings.HasPrefix(err.Error(), "replace "+dir+": rename ") {
		t.Fatalf("Commit: %v, want replace %s: rename …: no such file or directory", err, dir)
	}
	if !equalTrees(tree(t, dir), before) {
		t.Errorf("after the undo %s holds %q, want %q", dir, tree(t, dir), before)
	}
	noTemps(t, d)
}

// crashDirEnv names the output TestFallbackCrashChild commits to, in the
// child process TestCommitFallbackCrash starts.
const crashDirEnv = "CALLDIR_OUTFS_CRASH_DIR"

// TestFallbackCrashChild is the child of TestCommitFallbackCrash: it
// commits a new output by the fallback and kills itself (SIGKILL) in the
// window between the two renames.
func TestFallbackCrashChild(t *testing.T) {
	dir := os.Getenv(crashDirEnv)
	if dir == "" {
		t.Skip("run by TestCommitFallbackCrash")
	}
	forceExchange(t, errNoExchange)
	setAsideHook(t, func() { syscall.Kill(os.Getpid(), syscall.SIGKILL); select {} })
	s := mustStage(t, plannedOutput(t, dir), map[string]string{"a": "second"})
	Commit(s)
	t.Fatal("Commit returned: the child was not killed in the window")
}

// A run killed in the fallback's window leaves the path missing, the
// previous output whole in its ".old" sibling and the new one whole in its
// stage. The next run removes the dead run's stage, keeps the ".old"
// (while the path is missing it is the only copy of the previous output)
// and writes its output to the path as if there were none; the run after
// that, finding the output in place, removes the ".old".
func TestCommitFallbackCrash(t *testing.T) {
	d := t.TempDir()
	dir := filepath.Join(d, "build")
	first := map[string]string{"a": "first"}
	mustOutput(t, dir, testMark, first, nil)
	before := tree(t, dir)

	cmd := exec.Command(os.Args[0], "-test.run=^TestFallbackCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashDirEnv+"="+dir)
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("child: %v, want killed by SIGKILL; output:\n%s", err, out)
	}
	if _, err := os.Lstat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("after the crash %s: Lstat %v, want it missing", dir, err)
	}
	left := temps(t, d)
	var old, stage string
	for _, name := range left {
		if strings.HasSuffix(name, ".old") {
			old = filepath.Join(d, name)
		} else {
			stage = filepath.Join(d, name)
		}
	}
	if len(left) != 2 || old == "" || stage == "" || old != stage+".old" {
		t.Fatalf("after the crash %s holds temporaries %q, want a stage and its .old", d, left)
	}
	if got := tree(t, old); !equalTrees(got, before) {
		t.Errorf("%s holds %q, want the previous output %q", old, got, before)
	}
	if st, err := Inspect(stage, testMark); err != nil || st.Mark != testMark || mustRead(t, filepath.Join(stage, "a")) != "second" {
		t.Errorf("the dead run's stage %s: %+v, %v; want its whole new output", stage, st, err)
	}

	// The next run: the dead run's stage goes, its .old stays.
	third := map[string]string{"a": "third"}
	s := mustStage(t, plannedOutput(t, dir), third)
	if _, err := os.Lstat(stage); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the dead run's stage %s is still there: %v", stage, err)
	}
	must(t, Commit(s))
	wantOutput(t, dir, third)
	if got := tree(t, old); !equalTrees(got, before) {
		t.Errorf("after the next run %s holds %q, want the previous output kept", old, got)
	}

	// The run after: the output is in place, so the .old goes.
	s = mustStage(t, plannedOutput(t, dir), first)
	must(t, Commit(s))
	wantOutput(t, dir, first)
	noTemps(t, d)
}
