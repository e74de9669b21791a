package outfs

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
)

// A cache is read-write state calldir keeps between runs (downloaded
// sources): a directory marked like an output, its manifest listing every
// file, so that nothing in it is replaced or removed unless the directory
// is provably calldir's. Its files are added immutably (an Addition) and
// removed by name only when the manifest lists them (RemoveListed); the
// manifest itself is replaced with WriteFile. Whoever holds LockCache's
// lock is the only writer.

// LockCache locks the cache directory dir (LockDir) and proves it of kind
// m: nothing there, an empty directory, or m's manifest listing every
// file (Inspect). With create, a missing directory is made first;
// without, a missing one is returned unlocked with st.Exists false and a
// no-op unlock. On an error nothing is locked.
func LockCache(dir string, m *Mark, create bool) (st *State, unlock func() error, err error) {
	if _, err := os.Lstat(dir); errors.Is(err, fs.ErrNotExist) {
		if !create {
			return &State{Path: dir}, func() error { return nil }, nil
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, nil, fmt.Errorf("create %s: %w", dir, unwrapPathError(err))
		}
	}
	// Locking someone else's directory (an advisory lock on a read-only
	// open) harms nothing; what is in it is judged under the lock.
	unlock, err = LockDir(dir)
	if err != nil {
		return nil, nil, err
	}
	st, err = Inspect(dir, m)
	if err != nil {
		unlock()
		return nil, nil, err
	}
	return st, unlock, nil
}

// An Addition is an immutable file streamed into a directory calldir
// owns, whose name is known only once it is written (a content-addressed
// file named by its hash): written to a temporary sibling (calldir's
// mark, this process's owner token), then synced and linked to its name
// by Commit, as AddFile does. A reader never sees a partial file and
// nothing is replaced.
type Addition struct {
	dir  string
	f    *os.File
	done bool
}

// NewAddition starts a file in dir; stem names its temporary
// (".STEM.calldir-tmp-OWNER-RANDOM"), and the temporaries dead processes
// left under that stem are removed first.
func NewAddition(dir, stem string) (*Addition, error) {
	p := filepath.Join(dir, stem)
	if _, err := RemoveStaleTemps(p); err != nil {
		return nil, err
	}
	f, err := os.CreateTemp(dir, TempPrefix(p))
	if err != nil {
		return nil, fmt.Errorf("create temporary file in %s: %w", dir, unwrapPathError(err))
	}
	return &Addition{dir: dir, f: f}, nil
}

func (a *Addition) Write(p []byte) (int, error) { return a.f.Write(p) }

// ReadAt reads back what was written, to check it before Commit.
func (a *Addition) ReadAt(p []byte, off int64) (int, error) { return a.f.ReadAt(p, off) }

// Commit syncs the file, makes it read-only (0444: it never changes) and
// links it to dir/name if nothing has that name. A file of that name
// with the same bytes is kept and the addition dropped; different bytes
// are an *ImmutableError. The temporary is removed either way.
func (a *Addition) Commit(name string) error {
	a.done = true
	tmp := a.f.Name()
	defer os.Remove(tmp)
	p := filepath.Join(a.dir, name)
	err := a.f.Chmod(0o444)
	if err == nil {
		err = a.f.Sync()
	}
	if cerr := a.f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("add %s: %w", p, err)
	}
	if err := os.Link(tmp, p); err != nil {
		if !errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("add %s: %w", p, unwrapPathError(err))
		}
		same, serr := sameFile(tmp, p)
		if serr != nil {
			return fmt.Errorf("add %s: %w", p, serr)
		}
		if !same {
			return &ImmutableError{p}
		}
		return nil
	}
	return syncDir(a.dir)
}

// Discard drops an uncommitted addition; a no-op after Commit.
func (a *Addition) Discard() {
	if a == nil || a.done {
		return
	}
	a.done = true
	a.f.Close()
	os.Remove(a.f.Name())
}

// sameFile compares two regular files' bytes, streaming.
func sameFile(a, b string) (bool, error) {
	fa, err := os.Open(a)
	if err != nil {
		return false, err
	}
	defer fa.Close()
	fb, err := os.Open(b)
	if err != nil {
		return false, err
	}
	defer fb.Close()
	if fi, err := fb.Stat(); err != nil || !fi.Mode().IsRegular() {
		return false, err
	}
	bufA, bufB := make([]byte, 64<<10), make([]byte, 64<<10)
	for {
		na, ea := io.ReadFull(fa, bufA)
		nb, eb := io.ReadFull(fb, bufB)
		if !bytes.Equal(bufA[:na], bufB[:nb]) {
			return false, nil
		}
		// Equal reads are both full (neither file ended) or both short
		// (both ended).
		endA := ea == io.EOF || ea == io.ErrUnexpectedEOF
		if ea != nil && !endA {
			return false, ea
		}
		if eb != nil && eb != io.EOF && eb != io.ErrUnexpectedEOF {
			return false, eb
		}
		if endA {
			return true, nil
		}
	}
}

// RemoveListed removes the file name from the cache directory dir of kind
// m, provided dir is provably calldir's (Inspect) and its manifest lists
// name as a regular file. A listed name that is not there is not an
// error. The caller holds the cache's lock and rewrites the manifest
// afterwards: a listed file that is missing keeps the directory provable,
// an unlisted one would not.
func RemoveListed(dir string, m *Mark, name string) error {
	st, err := Inspect(dir, m)
	if err != nil {
		return err
	}
	if st.Contents == nil || !slices.Contains(st.Files, name) || path.Clean(name) != name || name == m.Manifest {
		return &ForeignError{filepath.Join(dir, name), "its " + m.Kind + "'s manifest does not list it"}
	}
	// Inspect has refused a listed name that is not a regular file.
	p := filepath.Join(dir, filepath.FromSlash(name))
	if err := os.Remove(p); errors.Is(err, fs.ErrNotExist) {
		return nil
	} else if err != nil {
		return fmt.Errorf("remove %s: %w", p, unwrapPathError(err))
	}
	return syncDir(filepath.Dir(p))
}
