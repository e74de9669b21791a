//go:build unix

package outfs

import (
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A regular file is replaced by a rename: a reader holding the old file
// keeps reading it, and the path holds the old content until Commit.
func TestCreateFileReplacesRegularFile(t *testing.T) {
	d := t.TempDir()
	p := filepath.Join(d, "report.txt")
	mustWriteFile(t, p, "old")
	old, err := os.Open(p)
	must(t, err)
	defer old.Close()
	before := mustStat(t, p)

	f, err := CreateFile(p, false)
	must(t, err)
	_, err = io.WriteString(f, "new")
	must(t, err)
	if got := mustRead(t, p); got != "old" {
		t.Errorf("before Commit %s holds %q, want %q", p, got, "old")
	}
	if got := temps(t, d); len(got) != 1 || !IsTemp(got[0]) {
		t.Errorf("before Commit temporaries %q, want one", got)
	}
	must(t, f.Commit(nil))
	if got := mustRead(t, p); got != "new" {
		t.Errorf("%s holds %q, want %q", p, got, "new")
	}
	after := mustStat(t, p)
	if os.SameFile(before, after) {
		t.Error("the file was rewritten in place; want a rename over it")
	}
	if after.Mode().Perm() != 0o644 {
		t.Errorf("mode %v, want 0644", after.Mode().Perm())
	}
	if b, err := io.ReadAll(old); err != nil || string(b) != "old" {
		t.Errorf("the previous file reads %q, %v; want %q", b, err, "old")
	}
	noTemps(t, d)
	f.Discard() // a no-op after Commit
	if got := mustRead(t, p); got != "new" {
		t.Errorf("Discard after Commit changed %s to %q", p, got)
	}
}

func TestWriteFile(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T, d string) (path, target string)
	}{
		{"nothing there", func(t *testing.T, d string) (string, string) {
			return filepath.Join(d, "r.txt"), filepath.Join(d, "r.txt")
		}},
		{"regular file", func(t *testing.T, d string) (string, string) {
			mustWriteFile(t, filepath.Join(d, "r.txt"), "old old old")
			return filepath.Join(d, "r.txt"), filepath.Join(d, "r.txt")
		}},
		{"symlink to a file", func(t *testing.T, d string) (string, string) {
			mustWriteFile(t, filepath.Join(d, "real", "r.txt"), "old")
			mustSymlink(t, "real/r.txt", filepath.Join(d, "link"))
			return filepath.Join(d, "link"), filepath.Join(d, "real", "r.txt")
		}},
		{"chain of symlinks", func(t *testing.T, d string) (string, string) {
			mustWriteFile(t, filepath.Join(d, "real", "r.txt"), "old")
			mustSymlink(t, "r.txt", filepath.Join(d, "real", "l2"))
			mustSymlink(t, filepath.Join(d, "real", "l2"), filepath.Join(d, "l1"))
			return filepath.Join(d, "l1"), filepath.Join(d, "real", "r.txt")
		}},
		{"dangling symlink", func(t *testing.T, d string) (string, string) {
			mustMkdir(t, filepath.Join(d, "real"))
			mustSymlink(t, "real/new.txt", filepath.Join(d, "link"))
			return filepath.Join(d, "link"), filepath.Join(d, "real", "new.txt")
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := t.TempDir()
			p, target := tc.setup(t, d)
			var link string
			if fi := mustLstatOrNil(t, p); fi != nil && fi.Mode()&os.ModeSymlink != 0 {
				l, err := os.Readlink(p)
				must(t, err)
				link = l
			}
			must(t, WriteFile(p, []byte("new")))
			if got := mustRead(t, target); got != "new" {
				t.Errorf("%s holds %q, want %q", target, got, "new")
			}
			if link != "" {
				if l, err := os.Readlink(p); err != nil || l != link {
					t.Errorf("link %s is now %q, %v; want it kept, to %q", p, l, err, link)
				}
			} else if !mustLstat(t, p).Mode().IsRegular() {
				t.Errorf("%s is not a regular file", p)
			}
			noTemps(t, d)
			noTemps(t, filepath.Dir(target))
		})
	}
}

func mustLstatOrNil(t *testing.T, p string) os.FileInfo {
	t.Helper()
	fi, err := os.Lstat(p)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	must(t, err)
	return fi
}

// What a write must not destroy is refused before anything is written.
func TestCreateFileRefuses(t *testing.T) {
	for _, tc := range []struct {
		name      string
		setup     func(t *testing.T, p string)
		noClobber bool
		reason    string
		exists    bool
	}{
		{"directory", func(t *testing.T, p string) { mustWriteFile(t, filepath.Join(p, "keep"), "x") }, false, "is a directory", false},
		{"symlink to a directory", func(t *testing.T, p string) {
			mustWriteFile(t, filepath.Join(p+".d", "keep"), "x")
			mustSymlink(t, p+".d", p)
		}, false, "is a directory", false},
		{"socket", func(t *testing.T, p string) {
			l, err := net.Listen("unix", p)
			must(t, err)
			t.Cleanup(func() { l.Close() })
		}, false, "is a socket", false},
		{"symlink loop", func(t *testing.T, p string) { mustSymlink(t, filepath.Base(p), p) }, false, "too many levels of symbolic links", false},
		{"no-clobber, regular file", func(t *testing.T, p string) { mustWriteFile(t, p, "keep") }, true, "exists", true},
		{"no-clobber, dangling symlink", func(t *testing.T, p string) { mustSymlink(t, "nowhere", p) }, true, "exists", true},
		{"no-clobber, FIFO", func(t *testing.T, p string) {
			must(t, syscall.Mkfifo(p, 0o644))
			// A reader, so that a CreateFile that wrongly opens the FIFO
			// fails the test instead of blocking it.
			r, err := os.OpenFile(p, os.O_RDONLY|syscall.O_NONBLOCK, 0)
			must(t, err)
			t.Cleanup(func() { r.Close() })
		}, true, "exists", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := t.TempDir()
			p := filepath.Join(d, "r")
			tc.setup(t, p)
			before := tree(t, d)
			f, err := CreateFile(p, tc.noClobber)
			if err == nil {
				f.Discard()
				t.Fatalf("CreateFile(%s, %v): nil error", p, tc.noClobber)
			}
			e := wantAs[*TargetError](t, err)
			if e.Path != p || !strings.Contains(e.Reason, tc.reason) || e.Exists != tc.exists {
				t.Errorf("CreateFile: %+v, want reason %q Exists %v", e, tc.reason, tc.exists)
			}
			if !equalTrees(tree(t, d), before) {
				t.Errorf("refused CreateFile changed %s: %q, want %q", d, tree(t, d), before)
			}
		})
	}
}

func TestCreateFileNoClobberNew(t *testing.T) {
	d := t.TempDir()
	p := filepath.Join(d, "r")
	f, err := CreateFile(p, true)
	must(t, err)
	_, err = f.Write([]byte("new"))
	must(t, f.Commit(err))
	if got := mustRead(t, p); got != "new" {
		t.Errorf("%s holds %q, want %q", p, got, "new")
	}
	noTemps(t, d)
}

// A file that appears at a no-clobber path between CreateFile and Commit
// is kept: Commit refuses instead of renaming over it.
func TestCreateFileNoClobberRace(t *testing.T) {
	d := t.TempDir()
	p := filepath.Join(d, "key.pem")
	f, err := CreateFile(p, true)
	must(t, err)
	must(t, os.WriteFile(p, []byte("theirs"), 0o600))
	_, err = f.Write([]byte("ours"))
	var te *TargetError
	if err := f.Commit(err); !errors.As(err, &te) || !te.Exists {
		t.Errorf("Commit over a file that appeared: %v, want a *TargetError with Exists", err)
	}
	if got := mustRead(t, p); got != "theirs" {
		t.Errorf("%s holds %q, want the file that appeared, %q", p, got, "theirs")
	}
	noTemps(t, d)
}

// A FIFO is written through, as a shell's > does: opened, streamed into,
// and left a FIFO.
func TestWriteFileFIFO(t *testing.T) {
	d := t.TempDir()
	p := filepath.Join(d, "pipe")
	must(t, syscall.Mkfifo(p, 0o644))
	got := make(chan string, 1)
	go func() {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Error(err)
		}
		got <- string(b)
	}()
	must(t, WriteFile(p, []byte("through the pipe")))
	select {
	case s := <-got:
		if s != "through the pipe" {
			t.Errorf("the reader got %q", s)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the reader got nothing")
	}
	if fi := mustLstat(t, p); fi.Mode()&os.ModeNamedPipe == 0 {
		t.Errorf("%s is now %v, want a FIFO", p, fi.Mode())
	}
	noTemps(t, d)
}

func TestWriteFileDevNull(t *testing.T) {
	must(t, WriteFile("/dev/null", []byte("nothing")))
	if fi := mustLstat(t, "/dev/null"); fi.Mode()&os.ModeCharDevice == 0 {
		t.Errorf("/dev/null is now %v", fi.Mode())
	}
	noTemps(t, "/dev")
}

func TestFileDiscard(t *testing.T) {
	for _, existing := range []bool{false, true} {
		d := t.TempDir()
		p := filepath.Join(d, "r.txt")
		if existing {
			mustWriteFile(t, p, "old")
		}
		before := tree(t, d)
		f, err := CreateFile(p, false)
		must(t, err)
		_, err = f.Write([]byte("new"))
		must(t, err)
		f.Discard()
		f.Discard() // a no-op
		if !equalTrees(tree(t, d), before) {
			t.Errorf("existing %v: Discard left %q, want %q", existing, tree(t, d), before)
		}
	}
	var nilFile *File
	nilFile.Discard() // a no-op
}

// Commit with an earlier write error discards the temporary file and
// keeps the previous one.
func TestFileCommitWriteError(t *testing.T) {
	d := t.TempDir()
	p := filepath.Join(d, "r.txt")
	mustWriteFile(t, p, "old")
	f, err := CreateFile(p, false)
	must(t, err)
	f.Write([]byte("half"))
	boom := errors.New("boom")
	if err := f.Commit(boom); !errors.Is(err, boom) {
		t.Errorf("Commit: %v, want it to wrap %v", err, boom)
	}
	if got := mustRead(t, p); got != "old" {
		t.Errorf("%s holds %q, want %q", p, got, "old")
	}
	noTemps(t, d)
}

// A directory put at the path since CreateFile is not replaced.
func TestFileCommitTargetChanged(t *testing.T) {
	d := t.TempDir()
	p := filepath.Join(d, "r.txt")
	f, err := CreateFile(p, false)
	must(t, err)
	f.Write([]byte("new"))
	mustWriteFile(t, filepath.Join(p, "keep"), "x")
	if err := f.Commit(nil); err == nil {
		t.Error("Commit over a directory: nil error")
	}
	if got := mustRead(t, filepath.Join(p, "keep")); got != "x" {
		t.Errorf("the directory's file holds %q", got)
	}
	noTemps(t, d)
}

func TestWriteNew(t *testing.T) {
	d := t.TempDir()
	p := filepath.Join(d, "a")
	must(t, WriteNew(p, []byte("A")))
	if err := WriteNew(p, []byte("B")); !errors.Is(err, os.ErrExist) {
		t.Errorf("WriteNew over a file: %v, want ErrExist", err)
	}
	if got := mustRead(t, p); got != "A" {
		t.Errorf("%s holds %q, want %q", p, got, "A")
	}
}

func TestAddFile(t *testing.T) {
	d := t.TempDir()
	p := filepath.Join(d, "ab12.bin")
	must(t, AddFile(d, "ab12.bin", []byte("content")))
	if got := mustRead(t, p); got != "content" {
		t.Errorf("%s holds %q", p, got)
	}
	if perm := mustStat(t, p).Mode().Perm(); perm != 0o644 {
		t.Errorf("mode %v, want 0644", perm)
	}
	before := mustStat(t, p)

	// The same bytes again: a no-op.
	must(t, AddFile(d, "ab12.bin", []byte("content")))
	if !os.SameFile(before, mustStat(t, p)) {
		t.Error("adding the same bytes replaced the file")
	}

	// Different bytes: refused, the file kept.
	err := AddFile(d, "ab12.bin", []byte("other content"))
	if e := wantAs[*ImmutableError](t, err); e.Path != p {
		t.Errorf("ImmutableError.Path = %q, want %q", e.Path, p)
	}
	if got := mustRead(t, p); got != "content" || !os.SameFile(before, mustStat(t, p)) {
		t.Errorf("refused AddFile changed %s to %q", p, got)
	}
	noTemps(t, d)
}

// ClearFile removes a file calldir made in place (a kept database) and
// its companions, and nothing that is not provably its.
func TestClearFile(t *testing.T) {
	companions := []string{"-journal", "-wal"}
	for _, tc := range []struct {
		name    string
		files   map[string]string // suffix of the path to content; "->" a symlink
		exists  bool              // CheckClear's answer
		foreign string            // the path suffix of the *ForeignError wanted
		dirs    []string          // suffixes made directories
	}{
		{name: "nothing"},
		{name: "own file", files: map[string]string{"": dbMagic + "data"}, exists: true},
		{name: "own file and companions", files: map[string]string{"": dbMagic, "-journal": "j", "-wal": "w"}, exists: true},
		{name: "foreign file", files: map[string]string{"": "SQLite format 3\x00"}, foreign: "\x00"},
		{name: "foreign file and companion", files: map[string]string{"": "mine", "-wal": "w"}, foreign: "\x00"},
		{name: "companion beside no file", files: map[string]string{"-wal": "w"}, foreign: "-wal"},
		{name: "symlink to own file", files: map[string]string{"": "->", ".real": dbMagic}, foreign: "\x00"},
		{name: "companion a symlink", files: map[string]string{"": dbMagic, "-journal": "->", ".real": dbMagic}, foreign: "-journal"},
		{name: "companion a directory", files: map[string]string{"": dbMagic}, dirs: []string{"-wal"}, foreign: "-wal"},
		{name: "a file that is no companion", files: map[string]string{"": dbMagic, "-shm": "s"}, exists: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := t.TempDir()
			p := filepath.Join(d, "model.db")
			for suf, data := range tc.files {
				if data == "->" {
					mustSymlink(t, p+".real", p+suf)
					continue
				}
				mustWriteFile(t, p+suf, data)
			}
			for _, suf := range tc.dirs {
				mustMkdir(t, p+suf)
			}
			before := tree(t, d)

			exists, err := CheckClear(p, testDB, companions...)
			if !equalTrees(tree(t, d), before) {
				t.Errorf("CheckClear changed %s", d)
			}
			err2 := ClearFile(p, testDB, companions...)
			if tc.foreign != "" {
				want := p
				if tc.foreign != "\x00" {
					want = p + tc.foreign
				}
				for _, err := range []error{err, err2} {
					if e := wantAs[*ForeignError](t, err); e.Path != want {
						t.Errorf("ForeignError on %s, want %s (%v)", e.Path, want, err)
					}
				}
				if !equalTrees(tree(t, d), before) {
					t.Errorf("refused ClearFile changed %s: %q, want %q", d, tree(t, d), before)
				}
				return
			}
			if err != nil || exists != tc.exists {
				t.Errorf("CheckClear = %v, %v; want %v, nil", exists, err, tc.exists)
			}
			must(t, err2)
			want := map[string]string{}
			for suf, data := range tc.files {
				if suf != "" && !slices.Contains(companions, suf) {
					want["model.db"+suf] = data
				}
			}
			if got := tree(t, d); !equalTrees(got, want) {
				t.Errorf("after ClearFile %s holds %q, want %q", d, got, want)
			}
		})
	}
}
