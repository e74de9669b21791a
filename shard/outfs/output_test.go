//go:build unix

package outfs

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

var errGuard = errors.New("guard: refusing to shrink")

// plannedOutput declares and checks one output of testMark at dir.
func plannedOutput(t *testing.T, dir string) *Output {
	t.Helper()
	var p Plan
	o := p.Output("out", dir, testMark)
	must(t, p.Check())
	return o
}

// mustStage stages o and writes files and a manifest into the stage.
func mustStage(t *testing.T, o *Output, files map[string]string) *Stage {
	t.Helper()
	s, err := o.Stage()
	must(t, err)
	writeStage(t, s.Dir, o.Mark, files, map[string]int64{"block": int64(len(files))})
	return s
}

// wantOutput checks that dir is an own output holding exactly files.
func wantOutput(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	st, err := Inspect(dir, testMark)
	if err != nil || st.Mark != testMark {
		t.Fatalf("Inspect(%s) = %+v, %v; want an own output", dir, st, err)
	}
	got := tree(t, dir)
	delete(got, testMark.Manifest)
	want := map[string]string{}
	for name, data := range files {
		want[name] = data
		for p := filepath.Dir(name); p != "."; p = filepath.Dir(p) {
			want[filepath.ToSlash(p)+"/"] = ""
		}
	}
	if !equalTrees(got, want) {
		t.Errorf("%s holds %q, want %q", dir, got, want)
	}
}

func TestCommitNew(t *testing.T) {
	for _, rel := range []string{"build", "a/b/build"} {
		t.Run(rel, func(t *testing.T) {
			d := t.TempDir()
			dir := filepath.Join(d, rel)
			o := plannedOutput(t, dir)
			files := map[string]string{"a": "A", "sub/b": "B"}
			s := mustStage(t, o, files)
			if !IsTemp(filepath.Base(s.Dir)) || filepath.Dir(s.Dir) != filepath.Dir(dir) {
				t.Errorf("stage %s is not a calldir temporary beside %s", s.Dir, dir)
			}
			must(t, Commit(s))
			wantOutput(t, dir, files)
			noTemps(t, filepath.Dir(dir))
			if _, err := os.Lstat(s.Dir); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("stage %s still there: %v", s.Dir, err)
			}
		})
	}
}

func TestCommitReplacesOwnOutput(t *testing.T) {
	d := t.TempDir()
	dir := filepath.Join(d, "build")
	mustOutput(t, dir, testMark, map[string]string{"a": "old A", "old": "gone", "sub/x": "gone"}, nil)
	o := plannedOutput(t, dir)
	var prev *State
	o.Guard = func(st *State) error { prev = st; return nil }
	files := map[string]string{"a": "new A", "new": "N"}
	s := mustStage(t, o, files)
	must(t, Commit(s))
	wantOutput(t, dir, files)
	noTemps(t, d)
	if prev == nil || prev.Mark != testMark || len(prev.Files) != 3 {
		t.Errorf("Guard saw %+v, want the previous output of 3 files", prev)
	}
}

func TestCommitGuardRefuses(t *testing.T) {
	d := t.TempDir()
	dir := filepath.Join(d, "build")
	mustOutput(t, dir, testMark, map[string]string{"a": "old A", "sub/b": "old B"}, map[string]int64{"block": 2})
	before := tree(t, dir)
	o := plannedOutput(t, dir)
	var saw int64 = -2
	o.Guard = func(st *State) error { saw = st.Count("block"); return errGuard }
	s := mustStage(t, o, map[string]string{"a": "new A"})
	if err := Commit(s); !errors.Is(err, errGuard) {
		t.Fatalf("Commit: %v, want the guard's error", err)
	}
	if saw != 2 {
		t.Errorf("Guard saw Count(block) %d, want 2", saw)
	}
	if !equalTrees(tree(t, dir), before) {
		t.Errorf("refused Commit changed %s: %q, want %q", dir, tree(t, dir), before)
	}
	noTemps(t, d)
}

// Commit runs every Guard before it swaps anything: a refusal by the
// second output's leaves the first as it was too.
func TestCommitTwoStages(t *testing.T) {
	for _, refuse := range []bool{false, true} {
		name := "both swapped"
		if refuse {
			name = "second refuses"
		}
		t.Run(name, func(t *testing.T) {
			d := t.TempDir()
			one, two, three := filepath.Join(d, "one"), filepath.Join(d, "sub", "two"), filepath.Join(d, "three")
			mustOutput(t, one, testMark, map[string]string{"a": "old one"}, nil)
			mustOutput(t, two, testMark, map[string]string{"a": "old two"}, nil)
			before := map[string]map[string]string{one: tree(t, one), two: tree(t, two), three: nil}
			var p Plan
			o1 := p.Output("one", one, testMark)
			o2 := p.Output("two", two, testMark)
			o3 := p.Output("three", three, testMark)
			must(t, p.Check())
			var order []string
			o1.Guard = func(*State) error { order = append(order, "one"); return nil }
			o2.Guard = func(*State) error {
				order = append(order, "two")
				if refuse {
					return errGuard
				}
				return nil
			}
			s1 := mustStage(t, o1, map[string]string{"a": "new one"})
			s3 := mustStage(t, o3, map[string]string{"a": "new three"})
			s2 := mustStage(t, o2, map[string]string{"a": "new two"})
			err := Commit(s1, s3, s2)
			if !refuse {
				must(t, err)
				wantOutput(t, one, map[string]string{"a": "new one"})
				wantOutput(t, two, map[string]string{"a": "new two"})
				wantOutput(t, three, map[string]string{"a": "new three"})
			} else {
				if !errors.Is(err, errGuard) {
					t.Fatalf("Commit: %v, want the guard's error", err)
				}
				for dir, want := range before {
					if got := tree(t, dir); !equalTrees(got, want) {
						t.Errorf("refused Commit changed %s: %q, want %q", dir, got, want)
					}
				}
			}
			if len(order) != 2 || order[0] != "one" || order[1] != "two" {
				t.Errorf("guards ran %q, want [one two]", order)
			}
			noTemps(t, d)
			noTemps(t, filepath.Join(d, "sub"))
		})
	}
}

// An existing empty directory is the user's: it is filled in place and
// keeps its identity.
func TestCommitFillsEmptyDirectory(t *testing.T) {
	d := t.TempDir()
	dir := filepath.Join(d, "build")
	mustMkdir(t, dir)
	before := mustStat(t, dir)
	o := plannedOutput(t, dir)
	if !o.State.Exists || o.State.Mark != nil {
		t.Fatalf("State %+v, want an existing empty directory", o.State)
	}
	files := map[string]string{"a": "A", "sub/b": "B"}
	s := mustStage(t, o, files)
	must(t, Commit(s))
	wantOutput(t, dir, files)
	if !os.SameFile(before, mustStat(t, dir)) {
		t.Errorf("%s was replaced; want it filled in place", dir)
	}
	noTemps(t, d)
}

func TestStageAbort(t *testing.T) {
	d := t.TempDir()
	dir := filepath.Join(d, "build")
	mustOutput(t, dir, testMark, map[string]string{"a": "A"}, nil)
	before := tree(t, dir)
	o := plannedOutput(t, dir)
	s := mustStage(t, o, map[string]string{"a": "new"})
	if fi := mustStat(t, s.Dir); !fi.IsDir() {
		t.Fatalf("stage %s is not a directory", s.Dir)
	}
	s.Abort()
	s.Abort() // a no-op
	if _, err := os.Lstat(s.Dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("stage %s after Abort: %v", s.Dir, err)
	}
	if !equalTrees(tree(t, dir), before) {
		t.Errorf("Abort changed %s", dir)
	}
	noTemps(t, d)
	var nilStage *Stage
	nilStage.Abort() // a no-op
}

// Commit inspects the path again, under the lock: what appeared there
// since Check is judged as Check would have judged it.
func TestCommitInspectsAgain(t *testing.T) {
	for _, tc := range []struct {
		name    string
		appear  func(t *testing.T, dir string)
		foreign bool
	}{
		{"someone else's directory", func(t *testing.T, dir string) {
			mustWriteFile(t, filepath.Join(dir, "thesis.tex"), "mine")
		}, true},
		{"a file", func(t *testing.T, dir string) { mustWriteFile(t, dir, "mine") }, true},
		{"a symlink", func(t *testing.T, dir string) {
			mustMkdir(t, dir+".elsewhere")
			mustSymlink(t, dir+".elsewhere", dir)
		}, true},
		{"another kind's output", func(t *testing.T, dir string) {
			mustOutput(t, dir, otherMark, map[string]string{"a": "A"}, nil)
		}, true},
		{"an own output", func(t *testing.T, dir string) {
			mustOutput(t, dir, testMark, map[string]string{"old": "O"}, nil)
		}, false},
		{"an empty directory", func(t *testing.T, dir string) { mustMkdir(t, dir) }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := t.TempDir()
			dir := filepath.Join(d, "build")
			o := plannedOutput(t, dir)
			if o.State.Exists {
				t.Fatalf("State %+v, want nothing", o.State)
			}
			var prev *State
			o.Guard = func(st *State) error { prev = st; return nil }
			files := map[string]string{"a": "new"}
			s := mustStage(t, o, files)
			tc.appear(t, dir)
			before := tree(t, dir)
			err := Commit(s)
			if tc.foreign {
				wantAs[*ForeignError](t, err)
				if !equalTrees(tree(t, dir), before) {
					t.Errorf("refused Commit changed %s", dir)
				}
				if prev != nil {
					t.Errorf("Guard ran on a foreign path")
				}
			} else {
				must(t, err)
				wantOutput(t, dir, files)
				if prev == nil || !prev.Exists {
					t.Errorf("Guard saw %+v, want what appeared", prev)
				}
			}
			noTemps(t, d)
		})
	}
}

// Stage removes the stages dead runs left beside the output, and no
// other.
func TestStageRemovesStaleTemps(t *testing.T) {
	d := t.TempDir()
	dir := filepath.Join(d, "build")
	dead := deadOwner(t)
	stale := filepath.Join(d, ".build"+tempMark+dead+"-1")
	live := filepath.Join(d, ".build"+tempMark+Self()+"-1")
	mustWriteFile(t, filepath.Join(stale, "a"), "partial")
	mustWriteFile(t, filepath.Join(live, "a"), "partial")
	o := plannedOutput(t, dir)
	s, err := o.Stage()
	must(t, err)
	defer s.Abort()
	if _, err := os.Lstat(stale); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("dead run's stage %s still there: %v", stale, err)
	}
	mustStat(t, live)
}

// Commit swaps under the parent directory's lock: a run holding it holds
// the Commit back.
func TestCommitWaitsForLock(t *testing.T) {
	d := t.TempDir()
	dir := filepath.Join(d, "build")
	o := plannedOutput(t, dir)
	s := mustStage(t, o, map[string]string{"a": "A"})
	unlock, err := LockDir(d)
	must(t, err)
	done := make(chan error, 1)
	go func() { done <- Commit(s) }()
	select {
	case err := <-done:
		unlock()
		t.Fatalf("Commit returned %v while the parent was locked", err)
	case <-time.After(150 * time.Millisecond):
	}
	if _, err := os.Lstat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s appeared while the parent was locked", dir)
	}
	must(t, unlock())
	select {
	case err := <-done:
		must(t, err)
	case <-time.After(5 * time.Second):
		t.Fatal("Commit still blocked after unlock")
	}
	wantOutput(t, dir, map[string]string{"a": "A"})
}

func TestLockDir(t *testing.T) {
	d := t.TempDir()
	unlock, err := LockDir(d)
	must(t, err)
	locked := make(chan func() error, 1)
	go func() {
		u, err := LockDir(d)
		if err != nil {
			t.Error(err)
			u = func() error { return nil }
		}
		locked <- u
	}()
	select {
	case u := <-locked:
		u()
		unlock()
		t.Fatal("a second LockDir did not wait for the first")
	case <-time.After(150 * time.Millisecond):
	}
	must(t, unlock())
	select {
	case u := <-locked:
		must(t, u())
	case <-time.After(5 * time.Second):
		t.Fatal("the second LockDir still blocked after unlock")
	}
	// No lock file appears.
	if ents, err := os.ReadDir(d); err != nil || len(ents) != 0 {
		t.Errorf("LockDir left %v, %v in %s", ents, err, d)
	}
	if _, err := LockDir(filepath.Join(d, "missing")); err == nil {
		t.Error("LockDir on a missing directory: nil error")
	}
}

// deadOwner is the owner token of a process that has ended.
func deadOwner(t *testing.T) string {
	t.Helper()
	cmd := exec.Command("true")
	must(t, cmd.Run())
	pid := cmd.Process.Pid
	if processAlive(pid) {
		t.Skipf("pid %d was reused", pid)
	}
	return Owner(pid)
}

func TestRemoveOutput(t *testing.T) {
	d := t.TempDir()
	own := filepath.Join(d, "own")
	mustOutput(t, own, testMark, map[string]string{"a": "A", "sub/b": "B"}, nil)
	must(t, RemoveOutput(own, testMark))
	if _, err := os.Lstat(own); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s still there after RemoveOutput: %v", own, err)
	}
	noTemps(t, d)
	must(t, RemoveOutput(own, testMark)) // gone already: nothing to do

	// Not calldir's: a directory with a stray file beside the manifest's
	// list, a user's directory, an empty one, a symlink, a plain file.
	stray := filepath.Join(d, "stray")
	mustOutput(t, stray, testMark, map[string]string{"a": "A"}, nil)
	must(t, os.WriteFile(filepath.Join(stray, "mine.txt"), []byte("user"), 0o644))
	user := filepath.Join(d, "user")
	must(t, os.MkdirAll(user, 0o755))
	must(t, os.WriteFile(filepath.Join(user, "notes"), []byte("x"), 0o644))
	empty := filepath.Join(d, "empty")
	must(t, os.MkdirAll(empty, 0o755))
	link := filepath.Join(d, "link")
	must(t, os.Symlink(own+"-target", link))
	file := filepath.Join(d, "file")
	must(t, os.WriteFile(file, []byte("x"), 0o644))
	before := tree(t, d)
	for _, p := range []string{stray, user, empty, link, file} {
		var fe *ForeignError
		if err := RemoveOutput(p, testMark); !errors.As(err, &fe) {
			t.Errorf("RemoveOutput(%s) = %v, want a *ForeignError", filepath.Base(p), err)
		}
	}
	if after := tree(t, d); !equalTrees(after, before) {
		t.Errorf("a refused RemoveOutput changed the tree:\n%q\nwant\n%q", after, before)
	}
}
