package outfs

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The tests' own output kinds. Their manifest is a tiny JSON object,
//
//	{"kind":"testout","files":["a","sub/b"],"counts":{"block":3}}
//
// decoded strictly (unknown fields and another kind are errors), so that a
// web app's manifest of the same name is not taken for one. Register is
// global: both are registered once, in TestMain.
var (
	testMark  = &Mark{Kind: "testout", Manifest: "testout.json", Read: readTestManifest("testout")}
	otherMark = &Mark{Kind: "testother", Manifest: "other.json", Read: readTestManifest("testother")}
)

type testManifest struct {
	Kind   string           `json:"kind"`
	Files  []string         `json:"files"`
	Counts map[string]int64 `json:"counts,omitempty"`
}

func readTestManifest(kind string) func(io.Reader) (*Contents, error) {
	return func(r io.Reader) (*Contents, error) {
		dec := json.NewDecoder(r)
		dec.DisallowUnknownFields()
		var m testManifest
		if err := dec.Decode(&m); err != nil {
			return nil, err
		}
		if m.Kind != kind {
			return nil, fmt.Errorf("kind %q, want %q", m.Kind, kind)
		}
		return &Contents{Files: m.Files, Counts: m.Counts, Value: &m}, nil
	}
}

func TestMain(m *testing.M) {
	Register(testMark)
	Register(otherMark)
	os.Exit(m.Run())
}

// testDB is the FileMark of the ClearFile tests: a file starting with
// dbMagic.
const dbMagic = "TESTDB\x00"

var testDB = &FileMark{Kind: "test database", Prove: func(f *os.File) error {
	b := make([]byte, len(dbMagic))
	if _, err := io.ReadFull(f, b); err != nil || string(b) != dbMagic {
		return errors.New("no magic")
	}
	return nil
}}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// mustWriteFile writes data to p, making its parent directories.
func mustWriteFile(t *testing.T, p, data string) {
	t.Helper()
	must(t, os.MkdirAll(filepath.Dir(p), 0o755))
	must(t, os.WriteFile(p, []byte(data), 0o644))
}

func mustMkdir(t *testing.T, p string) {
	t.Helper()
	must(t, os.MkdirAll(p, 0o755))
}

func mustSymlink(t *testing.T, target, link string) {
	t.Helper()
	must(t, os.Symlink(target, link))
}

func mustStat(t *testing.T, p string) fs.FileInfo {
	t.Helper()
	fi, err := os.Stat(p)
	must(t, err)
	return fi
}

func mustLstat(t *testing.T, p string) fs.FileInfo {
	t.Helper()
	fi, err := os.Lstat(p)
	must(t, err)
	return fi
}

func mustRead(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	must(t, err)
	return string(b)
}

// manifestJSON is a manifest of kind listing files, with counts.
func manifestJSON(t *testing.T, kind string, files []string, counts map[string]int64) string {
	t.Helper()
	b, err := json.Marshal(testManifest{Kind: kind, Files: files, Counts: counts})
	must(t, err)
	return string(b)
}

// mustOutput makes dir an output of kind m holding files (slash path to
// content), with a manifest listing them all.
func mustOutput(t *testing.T, dir string, m *Mark, files map[string]string, counts map[string]int64) {
	t.Helper()
	mustMkdir(t, dir)
	writeStage(t, dir, m, files, counts)
}

// writeStage writes files and their manifest into dir, as a run fills a
// stage.
func writeStage(t *testing.T, dir string, m *Mark, files map[string]string, counts map[string]int64) {
	t.Helper()
	var names []string
	for name, data := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		must(t, os.MkdirAll(filepath.Dir(p), 0o755))
		must(t, WriteNew(p, []byte(data)))
		names = append(names, name)
	}
	slices.Sort(names)
	must(t, WriteNew(filepath.Join(dir, m.Manifest), []byte(manifestJSON(t, m.Kind, names, counts))))
}

// tree is what dir holds: slash path to content, "/" appended to a
// directory's path, "-> target" for a symlink, the type of a special
// file. Nothing there is nil.
func tree(t *testing.T, dir string) map[string]string {
	t.Helper()
	if _, err := os.Lstat(dir); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	got := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil || rel == "." {
			return err
		}
		rel = filepath.ToSlash(rel)
		switch {
		case d.IsDir():
			got[rel+"/"] = ""
		case d.Type()&fs.ModeSymlink != 0:
			l, err := os.Readlink(p)
			if err != nil {
				return err
			}
			got[rel] = "-> " + l
		case !d.Type().IsRegular():
			got[rel] = "(" + FileType(d.Type()) + ")" // never opened: a FIFO would block
		default:
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			got[rel] = string(b)
		}
		return nil
	})
	must(t, err)
	return got
}

// temps lists calldir's temporaries in dir.
func temps(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	must(t, err)
	var names []string
	for _, e := range ents {
		if strings.Contains(e.Name(), tempMark) {
			names = append(names, e.Name())
		}
	}
	return names
}

func noTemps(t *testing.T, dir string) {
	t.Helper()
	if got := temps(t, dir); len(got) > 0 {
		t.Errorf("temporaries left in %s: %q", dir, got)
	}
}

// wantAs returns err as a *E, failing the test when it is not one.
func wantAs[E error](t *testing.T, err error) E {
	t.Helper()
	var e E
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T), want a %T", err, err, e)
	}
	return e
}

func equalTrees(a, b map[string]string) bool {
	if (a == nil) != (b == nil) || len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}
