//go:build unix

package outfs

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func TestTempPrefixIsTemp(t *testing.T) {
	prefix := TempPrefix("/some/dir/build")
	if want := ".build" + tempMark + Self() + "-"; prefix != want {
		t.Errorf("TempPrefix = %q, want %q", prefix, want)
	}
	for _, tc := range []struct {
		name string
		want bool
	}{
		{prefix + "123456", true},
		{".r.txt" + tempMark + "1.2-3", true},
		{prefix + "123456.old", true},
		{"build" + tempMark + "1-2", false}, // no leading dot
		{".build.tmp", false},
		{"build", false},
		{"", false},
	} {
		if got := IsTemp(tc.name); got != tc.want {
			t.Errorf("IsTemp(%q) = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestOwner(t *testing.T) {
	if pid, ok := OwnerPID(Self()); !ok || pid != os.Getpid() {
		t.Errorf("OwnerPID(Self()) = %d, %v; want %d", pid, ok, os.Getpid())
	}
	if Owner(os.Getpid()) != Self() {
		t.Errorf("Owner(getpid) = %q, Self() = %q", Owner(os.Getpid()), Self())
	}
	dead := deadOwner(t)
	deadPID, ok := OwnerPID(dead)
	if !ok {
		t.Fatalf("OwnerPID(%q) does not parse", dead)
	}
	for _, tc := range []struct {
		tok  string
		gone bool
	}{
		{Self(), false},
		{dead, true},
		{Owner(1), false}, // init is running
		{"", false},
		{"abc", false},
		{Owner(0), false},
		{Owner(-5), false},
		{"0" + dead, false},                   // not how a PID is written
		{strconv.Itoa(deadPID) + ".1", false}, // another namespace
	} {
		if got := OwnerGone(tc.tok); got != tc.gone {
			t.Errorf("OwnerGone(%q) = %v, want %v", tc.tok, got, tc.gone)
		}
	}
	if myNS != "" {
		if tok := strconv.Itoa(deadPID); OwnerGone(tok) {
			t.Errorf("OwnerGone(%q): a token without the namespace proved gone", tok)
		}
	}
}

func TestRemoveStaleTemps(t *testing.T) {
	dead := deadOwner(t)
	for _, tc := range []struct {
		name       string
		outExists  bool
		removed    []string // of the names below
		keptAlways []string
	}{
		{name: "output there", outExists: true, removed: []string{".out" + tempMark + dead + "-1", ".out" + tempMark + dead + "-2", ".out" + tempMark + dead + "-3.old"}},
		{name: "output missing", removed: []string{".out" + tempMark + dead + "-1", ".out" + tempMark + dead + "-2"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := t.TempDir()
			out := filepath.Join(d, "out")
			if tc.outExists {
				mustWriteFile(t, out, "kept")
			}
			all := []string{
				".out" + tempMark + dead + "-1",     // a dead run's file
				".out" + tempMark + dead + "-2/",    // a dead run's stage
				".out" + tempMark + dead + "-3.old", // a dead run's previous output, moved aside
				".out" + tempMark + Self() + "-4",   // this run's
				".out" + tempMark + Owner(1) + "-5", // a live run's
				".out" + tempMark + "0" + dead + "-6",
				".out" + tempMark + "x-7",
				".out" + tempMark + dead,                         // no random part
				".other" + tempMark + dead + "-8",                // another path's
				".out.bak" + tempMark + dead + "-9",              // another path's
				"out" + tempMark + dead + "-10",                  // not a temporary
				".out.backup",                                    // the user's
				strings.TrimPrefix(tempMark, ".") + dead + "-11", // not a temporary
			}
			for _, name := range all {
				if dir, ok := strings.CutSuffix(name, "/"); ok {
					mustWriteFile(t, filepath.Join(d, dir, "a"), "partial")
				} else {
					mustWriteFile(t, filepath.Join(d, name), "x")
				}
			}
			removed, err := RemoveStaleTemps(out)
			must(t, err)
			slices.Sort(removed)
			if !slices.Equal(removed, tc.removed) {
				t.Errorf("RemoveStaleTemps removed %q, want %q", removed, tc.removed)
			}
			for _, name := range all {
				name = strings.TrimSuffix(name, "/")
				_, err := os.Lstat(filepath.Join(d, name))
				gone := errors.Is(err, os.ErrNotExist)
				if want := slices.Contains(tc.removed, name); gone != want {
					t.Errorf("%s: gone %v, want %v", name, gone, want)
				}
			}
			if tc.outExists && mustRead(t, out) != "kept" {
				t.Errorf("%s changed", out)
			}
		})
	}
	if removed, err := RemoveStaleTemps(filepath.Join(t.TempDir(), "missing", "out")); err != nil || removed != nil {
		t.Errorf("RemoveStaleTemps in a missing directory = %q, %v", removed, err)
	}
}

// CreateFile and AddFile remove their dead runs' temporaries too.
func TestCreateFileRemovesStaleTemps(t *testing.T) {
	d := t.TempDir()
	p := filepath.Join(d, "r.txt")
	stale := filepath.Join(d, ".r.txt"+tempMark+deadOwner(t)+"-1")
	mustWriteFile(t, stale, "partial")
	must(t, WriteFile(p, []byte("new")))
	noTemps(t, d)
}

func TestRemoveStale(t *testing.T) {
	d := t.TempDir()
	dead := deadOwner(t)
	ownerOf := func(name string) (string, bool) {
		rest, ok := strings.CutPrefix(name, ".keys-")
		if !ok {
			return "", false
		}
		tok, _, ok := strings.Cut(rest, "-")
		return tok, ok
	}
	files := map[string]bool{ // name to whether it goes
		".keys-" + dead + "-1":   true,
		".keys-" + dead + "-2":   true,
		".keys-" + Self() + "-3": false,
		".keys-" + dead:          false, // ownerOf refuses it
		"keys-" + dead + "-4":    false,
		"notes.txt":              false,
	}
	for name := range files {
		mustWriteFile(t, filepath.Join(d, name), "x")
	}
	mustMkdir(t, filepath.Join(d, ".keys-"+dead+"-5")) // not a regular file
	files[".keys-"+dead+"-5"] = false
	n, err := RemoveStale(d, ownerOf)
	must(t, err)
	if n != 2 {
		t.Errorf("RemoveStale removed %d, want 2", n)
	}
	for name, goes := range files {
		_, err := os.Lstat(filepath.Join(d, name))
		if gone := errors.Is(err, os.ErrNotExist); gone != goes {
			t.Errorf("%s: gone %v, want %v", name, gone, goes)
		}
	}
	if _, err := RemoveStale(filepath.Join(d, "missing"), ownerOf); err == nil {
		t.Error("RemoveStale in a missing directory: nil error")
	}
}

func TestScratchDir(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	dir, remove, err := ScratchDir("calldir-test-")
	must(t, err)
	if filepath.Dir(dir) != tmp || !strings.HasPrefix(filepath.Base(dir), "calldir-test-"+Self()+"-") {
		t.Errorf("ScratchDir = %s, want calldir-test-%s-… in %s", dir, Self(), tmp)
	}
	mustWriteFile(t, filepath.Join(dir, "sub", "a"), "x")
	remove()
	if _, err := os.Lstat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s after remove: %v", dir, err)
	}
}

func TestScratchFiles(t *testing.T) {
	d := t.TempDir()
	f, err := CreateScratch(d, ".spill-"+Self()+"-*")
	must(t, err)
	f.Close()
	if filepath.Dir(f.Name()) != d {
		t.Errorf("CreateScratch made %s outside %s", f.Name(), d)
	}
	must(t, RemoveScratch(f.Name()))
	must(t, RemoveScratch(f.Name())) // already gone
	if _, err := os.Lstat(f.Name()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s after RemoveScratch: %v", f.Name(), err)
	}
}
