package outfs

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Temporary siblings of an output or a file are named
// ".NAME.calldir-tmp-OWNER-RANDOM" (and "….old" while swapping on systems
// without an atomic exchange): unmistakably calldir's, so that a later run
// removes those of a process that died (kill -9, power loss) and never
// those of one still running.
const tempMark = ".calldir-tmp-"

// TempPrefix is the os.CreateTemp/MkdirTemp pattern of this process's
// temporary siblings of path (an output directory or a file).
func TempPrefix(path string) string {
	return tempBase(path) + tempMark + self + "-"
}

// tempBase is the first part of a temporary sibling's name: the path's
// base name with a dot before it, and '*' (which os.CreateTemp would take
// for the place of its random part) as '_'.
func tempBase(path string) string {
	return "." + strings.ReplaceAll(filepath.Base(path), "*", "_")
}

// IsTemp reports whether a name is one of calldir's temporaries: a
// temporary sibling of any output or file.
func IsTemp(name string) bool {
	return strings.HasPrefix(name, ".") && strings.Contains(name, tempMark)
}

// RemoveStaleTemps removes the temporary siblings of path (an output
// directory or a file) left by calldir processes that are no longer
// running, and returns their names.
func RemoveStaleTemps(path string) ([]string, error) {
	parent := filepath.Dir(path)
	ents, err := os.ReadDir(parent)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	prefix := tempBase(path) + tempMark
	var removed []string
	for _, e := range ents {
		rest, ok := strings.CutPrefix(e.Name(), prefix)
		if !ok {
			continue
		}
		tok, _, ok := strings.Cut(rest, "-")
		if !ok || !OwnerGone(tok) {
			continue
		}
		if _, err := os.Lstat(path); strings.HasSuffix(e.Name(), ".old") && errors.Is(err, os.ErrNotExist) {
			continue // the previous output, moved aside by a swap that did not finish: keep it
		}
		if err := os.RemoveAll(filepath.Join(parent, e.Name())); err != nil {
			return removed, fmt.Errorf("remove stale temporary %s: %w", e.Name(), err)
		}
		removed = append(removed, e.Name())
	}
	return removed, nil
}

// Scratch files are a process's own working files (spill runs, key sets):
// made in a directory the run declared as scratch, named with the
// caller's pattern (which carries the owner token), removed when done.

// CreateScratch makes a scratch file in dir (empty: os.TempDir()) named
// by pattern, as os.CreateTemp does.
func CreateScratch(dir, pattern string) (*os.File, error) {
	return os.CreateTemp(dir, pattern)
}

// RemoveScratch removes a scratch file this process made; a file already
// gone is not an error.
func RemoveScratch(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// ScratchDir makes a private directory under os.TempDir() for a run's
// working files (a replay's database, a doctor's copy), named with prefix
// and this process's owner token; remove deletes it and everything in it.
func ScratchDir(prefix string) (dir string, remove func(), err error) {
	dir, err = os.MkdirTemp("", prefix+self+"-")
	if err != nil {
		return "", nil, fmt.Errorf("create scratch directory: %w", err)
	}
	return dir, func() { os.RemoveAll(dir) }, nil
}

// RemoveStale removes the regular files in dir (empty: os.TempDir()) whose
// names ownerOf maps to the owner token of a process that is gone, and
// returns how many it removed. Anything else is kept.
func RemoveStale(dir string, ownerOf func(name string) (string, bool)) (removed int, err error) {
	if dir == "" {
		dir = os.TempDir()
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return 0, err
	}
	var errs []error
	for _, e := range ents {
		tok, ok := ownerOf(e.Name())
		if !ok || !e.Type().IsRegular() || !OwnerGone(tok) {
			continue
		}
		if err := RemoveScratch(filepath.Join(dir, e.Name())); err != nil {
			errs = append(errs, err)
			continue
		}
		removed++
	}
	return removed, errors.Join(errs...)
}
