package main

import (
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
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
