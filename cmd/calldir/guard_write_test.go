package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/calldir/calldir/shard/outfs"
)

// Tests of the guarantees of writes to --out (docs/GUARANTEES.md, "What calldir never
// does"): each runs the CLI in a temp dir and proves, with snapshotTree,
// that a refused run left every pre-existing entry byte-identical.

// mustRefuse runs the CLI, wants exit 2 with every wanted text in stderr,
// and wants dir exactly as before.
func mustRefuse(t *testing.T, dir, stdin string, want []string, args ...string) {
	t.Helper()
	before := snapshotTree(t, dir)
	code, _, stderr := runCLI(t, stdin, args...)
	if code != 2 {
		t.Fatalf("calldir %s: exit %d, want 2\nstderr: %s", strings.Join(args, " "), code, stderr)
	}
	for _, w := range want {
		if !strings.Contains(stderr, w) {
			t.Errorf("stderr lacks %q:\n%s", w, stderr)
		}
	}
	assertSameTree(t, dir, before)
}

const goodList = "+14155550101\n+14155550102\n+14155550103\n+14155550104\n+14155550105\n+14155550106\n"

// Case 1: --out is replaced only when it is a calldir output of the right
// kind whose manifest lists every entry.
func TestGuardOutOnlyReplacesOwnBuild(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	mustWrite(t, "list.txt", goodList)
	mustCLI(t, 0, "compile", "-q", "-o", "good", "list.txt")
	mustCLI(t, 0, "compile", "-q", "-o", "good2", "list.txt")
	mustCLI(t, 0, "diff", "-q", "good", "good2", "-o", "delta")

	for _, tc := range []struct {
		name  string
		setup func(out string)
		want  string
	}{
		{"web app manifest", func(out string) {
			mustWrite(t, filepath.Join(out, "manifest.json"), `{"name":"app"}`)
			mustWrite(t, filepath.Join(out, "src", "main.js"), "x\n")
		}, "not a calldir manifest"},
		{"garbage manifest", func(out string) {
			mustWrite(t, filepath.Join(out, "manifest.json"), "garbage\n")
		}, "not a calldir manifest"},
		{"build plus a user's file", func(out string) {
			copyTree(t, "good", out)
			mustWrite(t, filepath.Join(out, "notes.txt"), "mine\n")
		}, "notes.txt is not a file its manifest lists"},
		{"build plus a directory", func(out string) {
			copyTree(t, "good", out)
			mustWrite(t, filepath.Join(out, "keep", "a.txt"), "mine\n")
		}, "keep is a directory its manifest does not list"},
		{"build plus a symlink", func(out string) {
			copyTree(t, "good", out)
			if err := os.Symlink("/etc/hostname", filepath.Join(out, "link")); err != nil {
				t.Fatal(err)
			}
		}, "link is a symbolic link"},
		{"a shard replaced by a symlink", func(out string) {
			copyTree(t, "good", out)
			sh := filepath.Join(out, "block-0001.shard")
			os.Remove(sh)
			if err := os.Symlink(filepath.Join(dir, "list.txt"), sh); err != nil {
				t.Fatal(err)
			}
		}, "block-0001.shard is a symbolic link"},
		{"a FIFO", func(out string) {
			copyTree(t, "good", out)
			if err := syscall.Mkfifo(filepath.Join(out, "pipe"), 0o644); err != nil {
				t.Skip("no mkfifo:", err)
			}
		}, "pipe is a named pipe (FIFO)"},
		{"a delta where a build goes", func(out string) {
			copyTree(t, "delta", out)
		}, "it is a calldir delta, not a build"},
		{"a symlink to a build", func(out string) {
			if err := os.Symlink("good", out); err != nil {
				t.Fatal(err)
			}
		}, "symbolic link"},
		{"a regular file", func(out string) {
			mustWrite(t, out, "not a directory\n")
		}, "not a directory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "-"))
			tc.setup(out)
			mustRefuse(t, dir, "", []string{tc.want}, "compile", "-q", "-o", out, "list.txt")
		})
	}
	// A symlink given with a trailing slash ("link/") is still the symlink:
	// the swap would replace it, so it is refused like "link", by every
	// command that writes a whole output.
	if err := os.Symlink("good", "link"); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("delta", "dlink"); err != nil {
		t.Fatal(err)
	}
	mustRefuse(t, dir, "", []string{"link: it is a symbolic link"}, "compile", "-q", "-o", "link/", "list.txt")
	mustRefuse(t, dir, "", []string{"dlink: it is a symbolic link"}, "diff", "-q", "good", "good2", "-o", "dlink/")
	mustRefuse(t, dir, "", []string{"dlink: it is a symbolic link"}, "compile", "-q", "-o", "good4", "--base", "good", "--delta", "dlink/", "list.txt")
	// diff never replaces a build with a delta.
	mustCLI(t, 0, "compile", "-q", "-o", "good3", "list.txt")
	mustRefuse(t, dir, "", []string{"it is a calldir build, not a delta"}, "diff", "-q", "good", "good2", "-o", "good3")
	// The control: calldir's own outputs are replaced.
	mustCLI(t, 0, "compile", "-q", "-o", "good", "list.txt")
	mustCLI(t, 0, "diff", "-q", "good", "good2", "-o", "delta")
}

// Case 3: an empty build is refused unless --allow-empty, and a build that
// drops more than --max-shrink of the entries of the build in --out or
// --base is refused with both counts. The message names what each input
// gave.
func TestGuardEmptyOrShrunkenBuild(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	mustWrite(t, "list.txt", goodList)
	mustWrite(t, "words.txt", "hello\nworld\nfoo\n")
	mustWrite(t, "comments.txt", "# nothing here\n# at all\n\n")
	mustWrite(t, "table.csv", "name,phone\nann,+14155550101\nbob,+14155550102\n")
	mustWrite(t, "allow.txt", goodList)
	mustWrite(t, "two.txt", "+14155550101\n+14155550102\n")
	mustCLI(t, 0, "compile", "-q", "-o", "build", "list.txt")

	for _, tc := range []struct {
		name  string
		stdin string
		args  []string
		want  []string
	}{
		{"words", "", []string{"words.txt"}, []string{"0 entries", "words.txt: all 3 lines rejected", "--allow-empty"}},
		{"comments only", "", []string{"comments.txt"}, []string{"0 entries", "comments.txt: no number lines"}},
		{"column 999", "", []string{"--column", "999", "table.csv"}, []string{"table.csv"}},
		{"all allowlisted", "", []string{"--allow", "allow.txt", "list.txt"}, []string{"0 entries", "list.txt: 6 accepted, every one allowlisted"}},
		{"csv on stdin", "id,phone,date\n1,4155550101,2024-01-01\n2,4155550102,2024-01-02\n", []string{"-"}, []string{"0 entries", "stdin is read as text"}},
		{"shrunk by two thirds", "", []string{"two.txt"}, []string{"holds 2 entries, 4 fewer than the 6 of the build in --out", "--max-shrink 50%"}},
		{"shrunk, stricter limit", "", []string{"--max-shrink", "10%", "list.txt", "--allow", "two.txt"}, []string{"holds 4 entries, 2 fewer than the 6"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"compile", "-q", "-o", "build"}, tc.args...)
			mustRefuse(t, dir, tc.stdin, tc.want, args...)
		})
	}
	// --base counts too, whatever --out holds.
	mustRefuse(t, dir, "", []string{"fewer than the 6 of --base build"}, "compile", "-q", "--base", "build", "-o", "fresh", "two.txt")
	// The flags let the user say it is meant.
	mustCLI(t, 0, "compile", "-q", "-o", "empty", "--allow-empty", "words.txt")
	mustCLI(t, 0, "compile", "-q", "-o", "build2", "--max-shrink", "100%", "list.txt")
	mustCLI(t, 0, "compile", "-q", "-o", "build2", "--max-shrink", "100%", "two.txt")
	// And so may the configuration.
	mustWrite(t, "shrink.toml", "out = \"build2\"\nmax_shrink = \"100%\"\n[[source]]\npath = \"list.txt\"\n")
	mustWrite(t, "strict.toml", "out = \"build\"\nmax_shrink = \"10%\"\n[[source]]\npath = \"two.txt\"\n")
	mustRefuse(t, dir, "", []string{"over --max-shrink 10%"}, "compile", "-q", "--config", "strict.toml")
	mustCLI(t, 0, "compile", "-q", "--config", "shrink.toml")
	mustRefuse(t, dir, "", []string{"--max-shrink \"150%\""}, "compile", "-q", "-o", "build", "--max-shrink", "150%", "list.txt")
}

// Case 3, deltas: a delta that clears whole extensions needs --allow-empty,
// one that shrinks the build past --max-shrink is refused, from diff and
// from compile --delta alike.
func TestGuardShrinkingDelta(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	mustWrite(t, "list.txt", goodList)
	mustWrite(t, "first.txt", "+14155550101\n+14155550102\n+14155550103\n")
	mustWrite(t, "two.txt", "+14155550101\n+14155550102\n")
	mustCLI(t, 0, "compile", "-q", "--max-per-shard", "3", "-o", "old", "list.txt")
	mustCLI(t, 0, "compile", "-q", "--max-per-shard", "3", "--max-shrink", "100%", "-o", "half", "--base", "old", "first.txt")
	mustCLI(t, 0, "compile", "-q", "--max-per-shard", "3", "--max-shrink", "100%", "-o", "small", "--base", "old", "two.txt")

	mustRefuse(t, dir, "", []string{"empties extension(s) 2 of old", "--allow-empty"}, "diff", "-q", "old", "half", "-o", "d1")
	mustRefuse(t, dir, "", []string{"holds 2 entries, 4 fewer than the 6 of --base old"}, "diff", "-q", "old", "small", "-o", "d2")
	mustRefuse(t, dir, "", []string{"empties extension(s) 2 of old"}, "compile", "-q", "--max-per-shard", "3", "--max-shrink", "100%", "--base", "old", "--delta", "d3", "-o", "new", "first.txt")
	mustCLI(t, 0, "diff", "-q", "--allow-empty", "old", "half", "-o", "d1")
}

// Case 5: an input or a report inside --out would be deleted by the swap:
// refused before any work.
func TestGuardPathsInsideOut(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	mustWrite(t, "list.txt", goodList)
	mustCLI(t, 0, "compile", "-q", "-o", "build", "list.txt")
	if err := os.Symlink("build", "alias"); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"rejects", []string{"--rejects", "build/rejects.csv", "list.txt"}, "--rejects build/rejects.csv is inside --out build"},
		{"rejects through a symlink", []string{"--rejects", "alias/rejects.csv", "list.txt"}, "--rejects alias/rejects.csv is inside --out build"},
		{"conflicts", []string{"--kind", "identify", "--label", "x", "--conflicts", "build/c.csv", "list.txt"}, "--conflicts build/c.csv is inside"},
		{"input", []string{"build/manifest.json", "list.txt"}, "input build/manifest.json is inside --out build"},
		{"allowlist", []string{"--allow", "build/manifest.json", "list.txt"}, "--allow build/manifest.json is inside"},
		{"temp dir", []string{"--temp-dir", "build/tmp", "list.txt"}, "--temp-dir build/tmp is inside"},
		{"delta", []string{"--base", "build", "--delta", "build/d", "list.txt"}, "--delta build/d is inside"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mustRefuse(t, dir, "", []string{tc.want}, append([]string{"compile", "-q", "-o", "build"}, tc.args...)...)
		})
	}
	// A report over one of the inputs would replace it.
	mustRefuse(t, dir, "", []string{"--rejects list.txt is the input list.txt"}, "compile", "-q", "-o", "other", "--rejects", "list.txt", "list.txt")
	mustRefuse(t, dir, "", []string{"--conflicts ./list.txt is the input list.txt"}, "compile", "-q", "-o", "other", "--kind", "identify", "--label", "x", "--conflicts", "./list.txt", "list.txt")
	mustRefuse(t, dir, "", []string{"--out build is the OLD_BUILD build"}, "diff", "-q", "build", "build", "-o", "build")
	// --base may be --out itself: it is read before the swap.
	mustCLI(t, 0, "compile", "-q", "--base", "build", "-o", "build", "list.txt")
}

// Case 6: temporaries beside --out carry calldir's mark and the owner's
// PID; the next run removes those of dead processes only.
func TestGuardStaleTemporaries(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	mustWrite(t, "list.txt", goodList)
	mustCLI(t, 0, "compile", "-q", "-o", "build", "list.txt")
	dead := deadPID(t)
	stale := ".build.calldir-tmp-" + outfs.Owner(dead) + "-123456"
	mustWrite(t, filepath.Join(stale, "block-0001.shard"), strings.Repeat("x", 1000))
	staleOld := ".build.calldir-tmp-" + outfs.Owner(dead) + "-654321.old"
	mustWrite(t, filepath.Join(staleOld, "manifest.json"), "{}")
	live := ".build.calldir-tmp-" + outfs.Owner(os.Getpid()) + "-999"
	mustWrite(t, filepath.Join(live, "x"), "in use\n")
	foreign := []string{".build.tmp-123", ".build.calldir-tmp-notapid-1", ".other.calldir-tmp-" + outfs.Owner(dead) + "-1", ".build.calldir-tmp-" + strconv.Itoa(dead) + ".999-1"}
	for _, f := range foreign {
		mustWrite(t, filepath.Join(f, "x"), "not ours to remove\n")
	}
	before := snapshotTree(t, dir)
	mustCLI(t, 0, "compile", "-q", "-o", "build", "list.txt")
	for _, gone := range []string{stale, staleOld} {
		if _, err := os.Lstat(gone); !os.IsNotExist(err) {
			t.Errorf("%s: still there (%v)", gone, err)
		}
		for rel := range before {
			if rel == gone || strings.HasPrefix(rel, gone+"/") {
				delete(before, rel)
			}
		}
	}
	delete(before, "build/manifest.json") // rewritten, with the same content
	delete(before, "build/block-0001.shard")
	assertSameTree(t, dir, before, "build")
	// A temporary of the running compile is named with its PID.
	ents, _ := filepath.Glob(".build.calldir-tmp-*")
	for _, e := range ents {
		if e != live && !slicesContains(foreign, e) {
			t.Errorf("left behind: %s", e)
		}
	}
}

// Case 6 from outside: a compile killed with SIGKILL while it writes leaves
// its temporary sibling; the next compile to the same --out removes it.
func TestGuardKilledCompileLeftovers(t *testing.T) {
	dir := t.TempDir()
	bin := calldirBinary(t)
	in := filepath.Join(dir, "in.txt")
	f, err := os.Create(in)
	if err != nil {
		t.Fatal(err)
	}
	if err := generateInto(f, 3_000_000); err != nil {
		t.Fatal(err)
	}
	f.Close()
	out := filepath.Join(dir, "build")
	caught := false
	for attempt := 0; attempt < 5 && !caught; attempt++ {
		cmd := exec.Command(bin, "compile", "-q", "--max-per-shard", "10000", "-o", out, in)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan struct{})
		go func() { cmd.Wait(); close(exited) }()
		pattern := filepath.Join(dir, ".build.calldir-tmp-"+outfs.Owner(cmd.Process.Pid)+"-*")
	poll: // kill it as soon as its temporary sibling exists
		for {
			select {
			case <-exited:
				break poll
			default:
			}
			if m, _ := filepath.Glob(pattern); len(m) > 0 {
				cmd.Process.Kill()
				caught = true
				break poll
			}
			time.Sleep(100 * time.Microsecond)
		}
		<-exited
	}
	if !caught {
		t.Skip("the compile finished before it could be killed mid-write")
	}
	left, _ := filepath.Glob(filepath.Join(dir, ".build.calldir-tmp-*"))
	if len(left) == 0 {
		t.Fatal("SIGKILL left no temporary: the test did not kill it mid-write")
	}
	if o, err := exec.Command(bin, "compile", "-q", "--max-shrink", "100%", "--allow-empty", "-o", out, in).CombinedOutput(); err != nil {
		t.Fatalf("second compile: %v\n%s", err, o)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".build.calldir-tmp-*")); len(left) > 0 {
		t.Errorf("stale temporaries left after the next compile: %v", left)
	}
}

var testBin struct {
	once sync.Once
	path string
	err  error
	out  []byte
}

// calldirBinary builds calldir once per test run, for the tests that need
// a real process (SIGKILL, peak RSS).
func calldirBinary(t *testing.T) string {
	t.Helper()
	testBin.once.Do(func() {
		dir, err := os.MkdirTemp("", "calldir-test-bin-")
		if err != nil {
			testBin.err = err
			return
		}
		testBin.path = filepath.Join(dir, "calldir")
		testBin.out, testBin.err = exec.Command("go", "build", "-o", testBin.path, ".").CombinedOutput()
	})
	if testBin.err != nil {
		t.Fatalf("go build: %v\n%s", testBin.err, testBin.out)
	}
	return testBin.path
}

// deadPID returns the PID of a process that has exited.
func deadPID(t *testing.T) int {
	t.Helper()
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Skip("no true(1):", err)
	}
	return cmd.Process.Pid
}

// copyTree copies the regular files of a directory tree.
func copyTree(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.WalkDir(from, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(to, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(to, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func slicesContains(v []string, s string) bool {
	for _, x := range v {
		if x == s {
			return true
		}
	}
	return false
}

// Case 9: --chunk without --delta was silently ignored.
func TestGuardChunkNeedsDelta(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	mustWrite(t, "list.txt", goodList)
	mustRefuse(t, dir, "", []string{"--chunk sizes the requests of a delta: it needs --delta"}, "compile", "-q", "--chunk", "100", "-o", "build", "list.txt")
}
