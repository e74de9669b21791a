package main

import (
	"io"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/calldir/calldir/compiler/sortx"
)

// reportList is a list with one accepted number and one rejected line, so
// that --rejects has a row to write.
const reportList = "+14155550101\n12..5\n"

const reportWant = "source,line,reason,raw\n"

// TestReportPathGuard: --rejects writes a regular file (or nothing) by a
// temporary sibling and a rename, writes through a FIFO or a device, follows
// a symlink to its target, and refuses a directory or a socket. Nothing at
// the path is ever replaced by a regular file, and no temporary file is
// left behind.
func TestReportPathGuard(t *testing.T) {
	compile := func(t *testing.T, dir, rejects string) (int, string) {
		t.Helper()
		in := mustWrite(t, filepath.Join(t.TempDir(), "list.txt"), reportList)
		code, _, errs := runCLI(t, "", "compile", "-q", "--out", filepath.Join(dir, "build"), "--rejects", rejects, in)
		return code, errs
	}
	isChar := func(t *testing.T, path string) {
		t.Helper()
		fi, err := os.Lstat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode()&fs.ModeCharDevice == 0 {
			t.Fatalf("%s: %v, want a character device", path, fi.Mode())
		}
	}
	// device returns a character device to write to: as root a node made
	// in dir (the same driver as /dev's, and the real /dev is never put at
	// risk by a broken build of calldir), else the system's.
	device := func(t *testing.T, dir, name string, minor uint32) string {
		if os.Geteuid() != 0 {
			return "/dev/" + name
		}
		p := filepath.Join(dir, name)
		if err := syscall.Mknod(p, syscall.S_IFCHR|0o666, int(1<<8|minor)); err != nil {
			t.Fatalf("mknod %s: %v", p, err)
		}
		return p
	}

	t.Run("regular file replaced", func(t *testing.T) {
		dir := t.TempDir()
		rej := mustWrite(t, filepath.Join(dir, "rejects.csv"), "old report\n")
		before := snapshotTree(t, dir)
		delete(before, "rejects.csv")
		if code, errs := compile(t, dir, rej); code != 0 {
			t.Fatalf("exit %d, want 0: %s", code, errs)
		}
		assertSameTree(t, dir, before, "build", "rejects.csv")
		if got := mustRead(t, rej); !strings.HasPrefix(got, reportWant) || !strings.Contains(got, "12..5") {
			t.Errorf("rejects.csv: %q", got)
		}
	})

	t.Run("FIFO written through", func(t *testing.T) {
		dir := t.TempDir()
		fifo := filepath.Join(dir, "rejects.fifo")
		if err := syscall.Mkfifo(fifo, 0o644); err != nil {
			t.Fatal(err)
		}
		// A reader opened first (non-blocking), so the CLI's open for
		// writing does not wait; the report fits in the pipe's buffer.
		// A CLI that never opens the FIFO leaves it with no writer: the
		// read below sees EOF at once.
		r, err := os.OpenFile(fifo, os.O_RDONLY|syscall.O_NONBLOCK, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		before := snapshotTree(t, dir)
		if code, errs := compile(t, dir, fifo); code != 0 {
			t.Fatalf("exit %d, want 0: %s", code, errs)
		}
		got, _ := io.ReadAll(r)
		if !strings.HasPrefix(string(got), reportWant) || !strings.Contains(string(got), "12..5") {
			t.Errorf("read from the FIFO: %q, want the report", got)
		}
		assertSameTree(t, dir, before, "build")
	})

	t.Run("symlink followed, not replaced", func(t *testing.T) {
		dir, elsewhere := t.TempDir(), t.TempDir()
		target := mustWrite(t, filepath.Join(elsewhere, "target.csv"), "old report\n")
		link := filepath.Join(dir, "rejects.csv")
		if err := os.Symlink(target, link); err != nil {
			t.Fatal(err)
		}
		before := snapshotTree(t, dir)
		if code, errs := compile(t, dir, link); code != 0 {
			t.Fatalf("exit %d, want 0: %s", code, errs)
		}
		assertSameTree(t, dir, before, "build")
		if got := mustRead(t, target); !strings.HasPrefix(got, reportWant) {
			t.Errorf("link target: %q, want the report", got)
		}
		if fi, err := os.Lstat(target); err != nil || !fi.Mode().IsRegular() {
			t.Errorf("link target: %v %v", fi, err)
		}
		if ents, _ := os.ReadDir(elsewhere); len(ents) != 1 {
			t.Errorf("beside the target: %d entries, want 1 (a temporary file left?)", len(ents))
		}
	})

	t.Run("null device written through", func(t *testing.T) {
		dir := t.TempDir()
		null := device(t, dir, "null", 3)
		before := snapshotTree(t, dir)
		if code, errs := compile(t, dir, null); code != 0 {
			t.Fatalf("exit %d, want 0: %s", code, errs)
		}
		assertSameTree(t, dir, before, "build")
		isChar(t, null)
	})

	t.Run("full device: no space left, exit 2", func(t *testing.T) {
		dir := t.TempDir()
		full := device(t, dir, "full", 7)
		before := snapshotTree(t, dir)
		code, errs := compile(t, dir, full)
		if code != 2 || !strings.Contains(errs, "no space left") {
			t.Fatalf("exit %d, want 2 and \"no space left\": %s", code, errs)
		}
		assertSameTree(t, dir, before) // no build, no temporary file
		isChar(t, full)
	})

	t.Run("directory refused", func(t *testing.T) {
		dir := t.TempDir()
		sub := filepath.Join(dir, "rejects")
		mustWrite(t, filepath.Join(sub, "keep.txt"), "keep\n")
		before := snapshotTree(t, dir)
		code, errs := compile(t, dir, sub)
		if code != 2 || !strings.Contains(errs, "create "+sub+": is a directory") {
			t.Fatalf("exit %d, want 2 and \"create %s: is a directory\": %s", code, sub, errs)
		}
		assertSameTree(t, dir, before)
	})

	t.Run("socket refused", func(t *testing.T) {
		dir := t.TempDir()
		sock := filepath.Join(dir, "rejects.sock")
		l, err := net.Listen("unix", sock)
		if err != nil {
			t.Skipf("unix socket: %v", err)
		}
		defer l.Close()
		before := snapshotTree(t, dir)
		code, errs := compile(t, dir, sock)
		if code != 2 || !strings.Contains(errs, "is a socket") {
			t.Fatalf("exit %d, want 2 and \"is a socket\": %s", code, errs)
		}
		assertSameTree(t, dir, before)
	})

	t.Run("conflicts report follows the same rules", func(t *testing.T) {
		dir := t.TempDir()
		null := device(t, dir, "null", 3)
		in := mustWrite(t, filepath.Join(t.TempDir(), "ids.csv"), "number,name\n+14155550101,a\n+14155550101,b\n")
		before := snapshotTree(t, dir)
		mustCLI(t, 0, "compile", "-q", "--kind", "identify", "--label-column", "name", "--out", filepath.Join(dir, "build"), "--conflicts", null, in)
		assertSameTree(t, dir, before, "build")
		isChar(t, null)
	})

	t.Run("init --force: symlink followed, device written through, directory refused", func(t *testing.T) {
		dir, elsewhere := t.TempDir(), t.TempDir()
		target := mustWrite(t, filepath.Join(elsewhere, "calldir.toml"), "old = 1\n")
		link := filepath.Join(dir, "calldir.toml")
		if err := os.Symlink(target, link); err != nil {
			t.Fatal(err)
		}
		null := device(t, dir, "null", 3)
		sub := filepath.Join(dir, "conf.d")
		if err := os.Mkdir(sub, 0o755); err != nil {
			t.Fatal(err)
		}
		before := snapshotTree(t, dir)
		mustCLI(t, 2, "init", link) // exists, no --force
		mustCLI(t, 0, "init", "--force", link)
		mustCLI(t, 0, "init", "--force", null)
		if _, errs := mustCLI(t, 2, "init", "--force", sub); !strings.Contains(errs, "is a directory") {
			t.Errorf("init --force DIR: %s", errs)
		}
		assertSameTree(t, dir, before)
		isChar(t, null)
		if got := mustRead(t, target); got != starterConfig {
			t.Errorf("link target: %.60q, want the starter configuration", got)
		}
	})
}

// TestPatternTooLargeGuard: patterns whose distinct numbers cannot fit the
// 9,999 shards of --max-per-shard, or packed the spill directory, are
// refused at once (exit 2) with nothing written: no spill file, no build.
// Before, "+1 ##########" spilled 10 GB in 144 s before "needs 10000
// shards". Overlapping patterns count once.
func TestPatternTooLargeGuard(t *testing.T) {
	// A billion numbers at 1,000 per shard: 100,000 shards. Expanded, that
	// is a 1 GB spill and well over 10 s.
	const billion = "+1 2 #########"
	refused := func(t *testing.T, want string, args ...string) {
		t.Helper()
		dir := t.TempDir()
		spill := filepath.Join(dir, "spill")
		if err := os.Mkdir(spill, 0o755); err != nil {
			t.Fatal(err)
		}
		mustWrite(t, filepath.Join(dir, "list.txt"), "+14155550101\n"+billion+"\n")
		mustWrite(t, filepath.Join(dir, "calldir.toml"), "max_per_shard = 1000\n[[pattern]]\npattern = \""+billion+"\"\n")
		for i := range args {
			args[i] = strings.ReplaceAll(args[i], "$DIR", dir)
		}
		before := snapshotTree(t, dir)
		start := time.Now()
		code, _, errs := runCLI(t, "", append([]string{"compile", "-q", "--out", filepath.Join(dir, "build"), "--temp-dir", spill}, args...)...)
		if took := time.Since(start); took > 10*time.Second {
			t.Errorf("refused after %v, want at once", took)
		}
		if code != 2 || !strings.Contains(errs, want) {
			t.Errorf("exit %d, want 2 and %q: %s", code, want, errs)
		}
		assertSameTree(t, dir, before) // no build, no spill file
	}
	t.Run("--pattern of ten billion (the issue's)", func(t *testing.T) {
		refused(t, `"+1 ##########" (--pattern)`, "--pattern", "+1 ##########")
	})
	t.Run("--pattern of a billion, 1,000 per shard", func(t *testing.T) {
		refused(t, `"`+billion+`" (--pattern)`, "--max-per-shard", "1000", "--pattern", billion)
	})
	t.Run("a list file holding the pattern", func(t *testing.T) {
		refused(t, `list.txt:2`, "--max-per-shard", "1000", "$DIR/list.txt")
	})
	t.Run("a config pattern", func(t *testing.T) {
		refused(t, `"`+billion+`"`, "--config", "$DIR/calldir.toml")
	})
	t.Run("patterns that fit the shards, not the spill directory", func(t *testing.T) {
		defer func(f func(string) int64) { sortx.FreeSpace = f }(sortx.FreeSpace)
		sortx.FreeSpace = func(string) int64 { return 1 << 20 }
		// Ten million numbers: 10 MB packed, 1 MB of it in memory.
		refused(t, "1048576 bytes (1.0 MiB) available", "--memory", "8MB", "--pattern", "+1 202 #######")
	})
	t.Run("overlapping patterns count once", func(t *testing.T) {
		dir := t.TempDir()
		// 101 copies of 10,000 numbers at 100 per shard: the sum
		// (1,010,000) is past the 999,900 a build holds, the union is not.
		args := []string{"compile", "-q", "--out", filepath.Join(dir, "build"), "--temp-dir", dir, "--max-per-shard", "100"}
		for range 101 {
			args = append(args, "--pattern", "+1 202 555 ####")
		}
		mustCLI(t, 0, args...)
	})
}

// TestStaleSpillGuard: a compile removes the spill files that compiles
// killed before it (kill -9) left in its temporary directory, and only
// those: a file of a live process, and a file calldir did not name, stay
// byte-identical.
func TestStaleSpillGuard(t *testing.T) {
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Skip(err)
	}
	live := exec.Command("sleep", "60")
	if err := live.Start(); err != nil {
		t.Skip(err)
	}
	defer func() { live.Process.Kill(); live.Wait() }()
	spill, work := t.TempDir(), t.TempDir()
	stale := []string{
		sortx.SpillName(dead.Process.Pid, "bucket", "1"),
		sortx.SpillName(dead.Process.Pid, "run", "2"),
		sortx.SpillName(dead.Process.Pid, "packed", "3"),
	}
	for _, n := range append(stale,
		sortx.SpillName(os.Getpid(), "run", "4"),
		sortx.SpillName(live.Process.Pid, "packed", "5"),
		"calldir-run-6", // no PID: an older calldir's, maybe running
		"calldir-spill-notes.txt",
		"notes.txt",
	) {
		mustWrite(t, filepath.Join(spill, n), "spilled "+n+"\n")
	}
	before := snapshotTree(t, spill)
	for _, n := range stale {
		delete(before, n)
	}
	in := mustWrite(t, filepath.Join(work, "list.txt"), reportList)
	mustCLI(t, 0, "compile", "-q", "--out", filepath.Join(work, "build"), "--temp-dir", spill, in)
	assertSameTree(t, spill, before) // the stale files gone, nothing else changed
}
