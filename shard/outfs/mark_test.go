//go:build unix

package outfs

import (
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestInspect(t *testing.T) {
	files := map[string]string{"a": "A", "sub/b": "B", "sub/deep/c": "C"}
	counts := map[string]int64{"block": 3, "identify": 1}
	own := func(t *testing.T, dir string) { mustOutput(t, dir, testMark, files, counts) }
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T, dir string)
		// A nil error wants a State with exists and, when own, testMark
		// and its counts; a non-empty foreign wants a *ForeignError whose
		// reason contains it.
		exists, own bool
		foreign     string
	}{
		{"nothing", func(*testing.T, string) {}, false, false, ""},
		{"empty directory", func(t *testing.T, dir string) { mustMkdir(t, dir) }, true, false, ""},
		{"own output", own, true, true, ""},
		{"own output with calldir temporaries", func(t *testing.T, dir string) {
			own(t, dir)
			mustWriteFile(t, filepath.Join(dir, ".a"+tempMark+"123-456"), "partial")
			mustWriteFile(t, filepath.Join(dir, "sub", ".b"+tempMark+Self()+"-1"), "partial")
		}, true, true, ""},
		{"own output with an unlisted file", func(t *testing.T, dir string) {
			own(t, dir)
			mustWriteFile(t, filepath.Join(dir, "notes.txt"), "mine")
		}, false, false, "notes.txt is not a file its manifest lists"},
		{"own output with an unlisted file in a listed directory", func(t *testing.T, dir string) {
			own(t, dir)
			mustWriteFile(t, filepath.Join(dir, "sub", "notes.txt"), "mine")
		}, false, false, "sub/notes.txt is not a file its manifest lists"},
		{"own output with an unlisted directory", func(t *testing.T, dir string) {
			own(t, dir)
			mustMkdir(t, filepath.Join(dir, "photos"))
		}, false, false, "photos is a directory its manifest does not list"},
		{"own output with a dot file that is not a temporary", func(t *testing.T, dir string) {
			own(t, dir)
			mustWriteFile(t, filepath.Join(dir, ".DS_Store"), "x")
		}, false, false, ".DS_Store is not a file"},
		{"own output with a symlink in place of a listed file", func(t *testing.T, dir string) {
			own(t, dir)
			must(t, os.Remove(filepath.Join(dir, "a")))
			mustSymlink(t, "/etc/passwd", filepath.Join(dir, "a"))
		}, false, false, "a is a symbolic link"},
		{"own output with a FIFO", func(t *testing.T, dir string) {
			own(t, dir)
			must(t, os.Remove(filepath.Join(dir, "a")))
			must(t, syscall.Mkfifo(filepath.Join(dir, "a"), 0o644))
		}, false, false, "a is a named pipe (FIFO)"},
		{"a symlink to an own output", func(t *testing.T, dir string) {
			own(t, dir+".real")
			mustSymlink(t, filepath.Base(dir)+".real", dir)
		}, false, false, "symbolic link"},
		{"a file", func(t *testing.T, dir string) { mustWriteFile(t, dir, "x") }, false, false, "not a directory"},
		{"another kind's output", func(t *testing.T, dir string) {
			mustOutput(t, dir, otherMark, map[string]string{"a": "A"}, nil)
		}, false, false, "it is a calldir testother, not a testout"},
		{"both kinds' manifests", func(t *testing.T, dir string) {
			own(t, dir)
			mustWriteFile(t, filepath.Join(dir, otherMark.Manifest), manifestJSON(t, "testother", nil, nil))
		}, false, false, "more than one of"},
		{"someone else's directory", func(t *testing.T, dir string) {
			mustWriteFile(t, filepath.Join(dir, "thesis.tex"), "x")
		}, false, false, "a non-empty directory that is not a calldir testout (no testout.json)"},
		{"a directory holding only a temporary", func(t *testing.T, dir string) {
			mustWriteFile(t, filepath.Join(dir, ".a"+tempMark+"1-1"), "x")
		}, false, false, "no testout.json"},
		{"a manifest of the name that does not decode", func(t *testing.T, dir string) {
			mustWriteFile(t, filepath.Join(dir, "testout.json"), `{"name":"a web app"}`)
		}, false, false, "its testout.json is not a calldir manifest"},
		{"a manifest that is a symlink", func(t *testing.T, dir string) {
			mustWriteFile(t, dir+".json", manifestJSON(t, "testout", nil, nil))
			mustMkdir(t, dir)
			mustSymlink(t, dir+".json", filepath.Join(dir, "testout.json"))
		}, false, false, "its testout.json is not a regular file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "out")
			tc.setup(t, dir)
			before := tree(t, dir)
			st, err := Inspect(dir, testMark)
			if !equalTrees(tree(t, dir), before) {
				t.Errorf("Inspect changed %s", dir)
			}
			if tc.foreign != "" {
				e := wantAs[*ForeignError](t, err)
				if e.Path != dir || !strings.Contains(e.Reason, tc.foreign) {
					t.Errorf("Inspect: %v, want a *ForeignError on %s containing %q", err, dir, tc.foreign)
				}
				if st != nil {
					t.Errorf("Inspect: State %+v with an error", st)
				}
				return
			}
			if err != nil {
				t.Fatalf("Inspect: %v", err)
			}
			if st.Path != dir || st.Exists != tc.exists {
				t.Errorf("State Path %q Exists %v, want %q %v", st.Path, st.Exists, dir, tc.exists)
			}
			if !tc.own {
				if st.Mark != nil || st.Contents != nil || st.Count("block") != -1 {
					t.Errorf("State Mark %v Contents %v Count %d, want none and -1", st.Mark, st.Contents, st.Count("block"))
				}
				return
			}
			if st.Mark != testMark {
				t.Fatalf("State Mark %v, want testMark", st.Mark)
			}
			if st.Count("block") != 3 || st.Count("identify") != 1 || st.Count("none") != 0 {
				t.Errorf("Counts %v, want %v", st.Counts, counts)
			}
			if len(st.Files) != len(files) {
				t.Errorf("Files %q, want the %d of %v", st.Files, len(files), files)
			}
			if _, ok := st.Value.(*testManifest); !ok {
				t.Errorf("Value %T, want *testManifest", st.Value)
			}
		})
	}
}

func TestStateCountNil(t *testing.T) {
	var st *State
	if got := st.Count("block"); got != -1 {
		t.Errorf("nil State Count = %d, want -1", got)
	}
}

func TestInspectFile(t *testing.T) {
	for _, tc := range []struct {
		name    string
		setup   func(t *testing.T, p string)
		exists  bool
		foreign string
	}{
		{"nothing", func(*testing.T, string) {}, false, ""},
		{"own file", func(t *testing.T, p string) { mustWriteFile(t, p, dbMagic+"rest") }, true, ""},
		{"foreign file", func(t *testing.T, p string) { mustWriteFile(t, p, "SQLite format 3\x00") }, false, "it is not a test database"},
		{"empty file", func(t *testing.T, p string) { mustWriteFile(t, p, "") }, false, "it is not a test database"},
		{"symlink to own file", func(t *testing.T, p string) {
			mustWriteFile(t, p+".real", dbMagic)
			mustSymlink(t, p+".real", p)
		}, false, "it is a symbolic link, not a test database"},
		{"directory", func(t *testing.T, p string) { mustMkdir(t, p) }, false, "it is a directory"},
		{"FIFO", func(t *testing.T, p string) { must(t, syscall.Mkfifo(p, 0o644)) }, false, "it is a named pipe (FIFO)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "model.db")
			tc.setup(t, p)
			exists, err := InspectFile(p, testDB)
			if tc.foreign != "" {
				e := wantAs[*ForeignError](t, err)
				if e.Path != p || !strings.Contains(e.Reason, tc.foreign) {
					t.Errorf("InspectFile: %v, want %q", err, tc.foreign)
				}
				return
			}
			if err != nil || exists != tc.exists {
				t.Errorf("InspectFile = %v, %v; want %v, nil", exists, err, tc.exists)
			}
		})
	}
}

func TestFileType(t *testing.T) {
	d := t.TempDir()
	mustWriteFile(t, filepath.Join(d, "file"), "x")
	mustSymlink(t, "file", filepath.Join(d, "link"))
	must(t, syscall.Mkfifo(filepath.Join(d, "fifo"), 0o644))
	sock := filepath.Join(d, "sock")
	l, err := net.Listen("unix", sock)
	must(t, err)
	defer l.Close()
	for _, tc := range []struct{ path, want string }{
		{d, "a directory"},
		{filepath.Join(d, "file"), "a regular file"},
		{filepath.Join(d, "link"), "a symbolic link"},
		{filepath.Join(d, "fifo"), "a named pipe (FIFO)"},
		{sock, "a socket"},
		{"/dev/null", "a device"},
	} {
		if got := FileType(mustLstat(t, tc.path).Mode()); got != tc.want {
			t.Errorf("FileType(%s) = %q, want %q", tc.path, got, tc.want)
		}
	}
	if got := FileType(fs.ModeIrregular); !strings.HasPrefix(got, "a special file") {
		t.Errorf("FileType(ModeIrregular) = %q, want a special file", got)
	}
}
