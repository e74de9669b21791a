//go:build linux

package outfs

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Regression tests for bugs found while writing the package's tests.

// A relative symlink inside a symlinked directory is resolved from the
// directory the link really is in, as the kernel does, not lexically.
func TestBugRelativeLinkInSymlinkedDirectory(t *testing.T) {
	d := t.TempDir()
	mustWriteFile(t, filepath.Join(d, "real", "r.txt"), "the link's target")
	mustWriteFile(t, filepath.Join(d, "r.txt"), "the config")
	mustMkdir(t, filepath.Join(d, "real", "sub"))
	mustSymlink(t, "real/sub", filepath.Join(d, "alias"))
	mustSymlink(t, "../r.txt", filepath.Join(d, "real", "sub", "link"))
	mustSymlink(t, "../new.txt", filepath.Join(d, "real", "sub", "dangling"))
	link := filepath.Join(d, "alias", "link") // the kernel: d/real/r.txt

	var p Plan
	p.Read("config", filepath.Join(d, "r.txt"))
	p.WriteFile("report", link)
	must(t, p.Check()) // right: they are different files
	must(t, WriteFile(link, []byte("report")))
	if got := mustRead(t, filepath.Join(d, "r.txt")); got != "the config" {
		t.Errorf("WriteFile(%s) wrote the config %s/r.txt: %q", link, d, got)
	}
	if got := mustRead(t, filepath.Join(d, "real", "r.txt")); got != "report" {
		t.Errorf("the link's target holds %q, want %q", got, "report")
	}
	got, err := ResolvePath(filepath.Join(d, "alias", "dangling"))
	if want := filepath.Join(d, "real", "new.txt"); err != nil || got != want {
		t.Errorf("ResolvePath(alias/dangling) = %q, %v; want %q", got, err, want)
	}
}

// /dev/stdout is /proc/self/fd/1: a pipe there is written through.
func TestBugProcFDPipe(t *testing.T) {
	r, w, err := os.Pipe()
	must(t, err)
	defer r.Close()
	defer w.Close()
	got := make(chan string, 1)
	go func() { b, _ := io.ReadAll(r); got <- string(b) }()
	err = WriteFile(fmt.Sprintf("/proc/self/fd/%d", w.Fd()), []byte("report"))
	w.Close()
	if err != nil {
		t.Fatalf("WriteFile to a pipe's /proc/self/fd: %v", err)
	}
	if s := <-got; s != "report" {
		t.Errorf("the pipe's reader got %q", s)
	}
}

// /dev/stdout redirected to a file (>> log) is written through: the file
// the descriptor names is not replaced by another.
func TestBugProcFDRegularFile(t *testing.T) {
	d := t.TempDir()
	log := filepath.Join(d, "report.log")
	mustWriteFile(t, log, "previous run\n")
	f, err := os.OpenFile(log, os.O_WRONLY|os.O_APPEND, 0)
	must(t, err)
	defer f.Close()
	must(t, WriteFile(fmt.Sprintf("/proc/self/fd/%d", f.Fd()), []byte("report\n")))
	_, err = f.WriteString("summary\n")
	must(t, err)
	got := mustRead(t, log)
	for _, want := range []string{"previous run\n", "report\n", "summary\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("%s holds %q, want it to hold %q", log, got, want)
		}
	}
}

// A temporary's name starts with its path's prefix, or RemoveStaleTemps
// never finds it: os.CreateTemp puts the random part at the last "*".
func TestBugStarInName(t *testing.T) {
	d := t.TempDir()
	f, err := CreateFile(filepath.Join(d, "r*.txt"), false)
	must(t, err)
	defer f.Discard()
	if name := filepath.Base(f.f.Name()); !strings.HasPrefix(name, ".r_.txt"+tempMark+Self()+"-") {
		t.Errorf("temporary %q does not start with its file's prefix", name)
	}
}
