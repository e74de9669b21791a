package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A treeState records every entry under a directory: its type, mode, the
// SHA-256 of a regular file's bytes, a symlink's target. Comparing two
// states proves a run left every pre-existing file byte-identical and
// replaced no symlink, FIFO or directory by something else.
type treeState map[string]string

// snapshotTree records every entry under dir (dir itself included, as ".").
// Special files (FIFOs, sockets, devices) are recorded by type only: reading
// a FIFO would block.
func snapshotTree(t *testing.T, dir string) treeState {
	t.Helper()
	st := treeState{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		switch m := fi.Mode(); {
		case m.IsRegular():
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			s := sha256.Sum256(b)
			st[rel] = fmt.Sprintf("file %v %s", m.Perm(), hex.EncodeToString(s[:]))
		case m&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			st[rel] = "symlink -> " + target
		case m.IsDir():
			st[rel] = fmt.Sprintf("dir %v", m.Perm())
		default:
			st[rel] = "special " + m.Type().String()
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// assertSameTree fails unless dir is exactly as before: no entry changed,
// none gone, none added. Entries named in extra may be new (the outputs
// the run was asked to write).
func assertSameTree(t *testing.T, dir string, before treeState, extra ...string) {
	t.Helper()
	after := snapshotTree(t, dir)
	allowed := func(rel string) bool {
		for _, x := range extra {
			if rel == x || strings.HasPrefix(rel, x+string(filepath.Separator)) {
				return true
			}
		}
		return false
	}
	for rel, b := range before {
		if a, ok := after[rel]; !ok {
			t.Errorf("%s: gone (was %s)", rel, b)
		} else if a != b {
			t.Errorf("%s: changed: %s, was %s", rel, a, b)
		}
	}
	for rel, a := range after {
		if _, ok := before[rel]; !ok && !allowed(rel) {
			t.Errorf("%s: new entry %s", rel, a)
		}
	}
}
