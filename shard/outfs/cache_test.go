package outfs

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func mustAddition(t *testing.T, dir, data string) *Addition {
	t.Helper()
	a, err := NewAddition(dir, "body")
	must(t, err)
	_, err = a.Write([]byte(data))
	must(t, err)
	return a
}

func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	must(t, err)
	var ns []string
	for _, e := range ents {
		ns = append(ns, e.Name())
	}
	return ns
}

func TestAddition(t *testing.T) {
	dir := t.TempDir()
	a := mustAddition(t, dir, "one")
	if ns := dirNames(t, dir); len(ns) != 1 || !IsTemp(ns[0]) || !strings.HasPrefix(ns[0], ".body"+tempMark+self+"-") {
		t.Fatalf("while written: %q, want one temporary of this process", ns)
	}
	b := make([]byte, 3)
	if n, err := a.ReadAt(b, 0); n != 3 || string(b) != "one" {
		t.Errorf("ReadAt: %q %v", b[:n], err)
	}
	must(t, a.Commit("f"))
	if got := mustRead(t, filepath.Join(dir, "f")); got != "one" {
		t.Errorf("f holds %q", got)
	}
	if m := mustStat(t, filepath.Join(dir, "f")).Mode().Perm(); m != 0o444 {
		t.Errorf("mode %v, want 0444", m)
	}
	// The same bytes again: kept, no error; others: refused, kept.
	must(t, mustAddition(t, dir, "one").Commit("f"))
	err := mustAddition(t, dir, "two").Commit("f")
	var ie *ImmutableError
	if !errors.As(err, &ie) || mustRead(t, filepath.Join(dir, "f")) != "one" {
		t.Errorf("different bytes: %v, f %q", err, mustRead(t, filepath.Join(dir, "f")))
	}
	err = mustAddition(t, dir, "on").Commit("f") // a prefix is not the same file
	if !errors.As(err, &ie) {
		t.Errorf("a shorter file: %v", err)
	}
	d := mustAddition(t, dir, "dropped")
	d.Discard()
	d.Discard()
	if ns := dirNames(t, dir); !slices.Equal(ns, []string{"f"}) {
		t.Errorf("left %q, want f alone", ns)
	}
}

func TestSameFile(t *testing.T) {
	dir := t.TempDir()
	big := strings.Repeat("x", 200<<10)
	for _, tc := range []struct {
		a, b string
		same bool
	}{
		{"", "", true},
		{big, big, true},
		{big, big + "y", false},
		{big + "y", big, false},
		{big[:len(big)-1] + "z", big, false},
	} {
		pa, pb := filepath.Join(dir, "a"), filepath.Join(dir, "b")
		must(t, os.WriteFile(pa, []byte(tc.a), 0o644))
		must(t, os.WriteFile(pb, []byte(tc.b), 0o644))
		if got, err := sameFile(pa, pb); got != tc.same || err != nil {
			t.Errorf("sameFile(%d bytes, %d bytes) = %v, %v", len(tc.a), len(tc.b), got, err)
		}
	}
}

func TestLockCache(t *testing.T) {
	root := t.TempDir()
	missing := filepath.Join(root, "a", "cache")
	st, unlock, err := LockCache(missing, testMark, false)
	must(t, err)
	must(t, unlock())
	if st.Exists {
		t.Error("a missing cache exists")
	}
	if _, err := os.Stat(missing); !errors.Is(err, os.ErrNotExist) {
		t.Error("made without create")
	}
	st, unlock, err = LockCache(missing, testMark, true)
	must(t, err)
	must(t, unlock())
	if !st.Exists || st.Contents != nil || !mustStat(t, missing).IsDir() {
		t.Errorf("created: %+v", st)
	}

	foreign := filepath.Join(root, "foreign")
	mustWriteFile(t, filepath.Join(foreign, "notes.txt"), "mine")
	var fe *ForeignError
	if _, _, err := LockCache(foreign, testMark, true); !errors.As(err, &fe) {
		t.Errorf("a foreign directory: %v", err)
	}
	link := filepath.Join(root, "link")
	mustSymlink(t, missing, link)
	if _, _, err := LockCache(link, testMark, true); !errors.As(err, &fe) {
		t.Errorf("a symlink: %v", err)
	}

	cache := filepath.Join(root, "cache")
	mustOutput(t, cache, testMark, map[string]string{"a": "1"}, nil)
	st, unlock, err = LockCache(cache, testMark, true)
	must(t, err)
	defer unlock()
	if st.Mark != testMark || !slices.Equal(st.Files, []string{"a"}) {
		t.Errorf("state %+v", st)
	}
}

func TestRemoveListed(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cache")
	mustOutput(t, dir, testMark, map[string]string{"a": "1", "b": "2"}, nil)
	// b listed and gone is not an error; a listed and there is removed.
	must(t, os.Remove(filepath.Join(dir, "b")))
	must(t, RemoveListed(dir, testMark, "b"))
	must(t, RemoveListed(dir, testMark, "a"))
	if _, err := os.Stat(filepath.Join(dir, "a")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a still there: %v", err)
	}
	var fe *ForeignError
	for _, name := range []string{"c", testMark.Manifest, "../x", "sub/../a"} {
		if err := RemoveListed(dir, testMark, name); !errors.As(err, &fe) {
			t.Errorf("remove %q: %v, want refused", name, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, testMark.Manifest)); err != nil {
		t.Error("the manifest was removed")
	}
	// In a directory that is not provably calldir's, nothing is removed.
	mustWriteFile(t, filepath.Join(dir, "stranger"), "x")
	mustWriteFile(t, filepath.Join(dir, "a"), "1")
	if err := RemoveListed(dir, testMark, "a"); !errors.As(err, &fe) || mustRead(t, filepath.Join(dir, "a")) != "1" {
		t.Errorf("foreign directory: %v", err)
	}
}
