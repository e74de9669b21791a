package shard

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/calldir/calldir/shard/outfs"
)

// A build directory (or a delta directory, or a replay plan's directory) is
// read through an os.Root, never by joining paths: a manifest that names
// "../../etc/shadow", or a shard replaced by a symlink to a file outside the
// directory, is refused instead of followed. Symlinks that stay inside the
// directory still work.

// PathError is a file that cannot be opened inside the directory that must
// hold it: missing, not a regular file, or leading outside the directory
// (a ".." path, an absolute path or a symlink).
type PathError struct {
	Dir  string // the directory the file must stay inside
	Name string // the file as named, relative to Dir
	Msg  string // what is wrong, for people
	Err  error  // the underlying error, if any
}

func (e *PathError) Error() string { return e.Path() + ": " + e.Msg }

func (e *PathError) Unwrap() error { return e.Err }

// Path is the file as the user would write it: Dir joined with Name, not
// cleaned when Name leads outside Dir, so that the ".." stay visible.
func (e *PathError) Path() string {
	if filepath.IsLocal(e.Name) {
		return filepath.Join(e.Dir, e.Name)
	}
	if filepath.IsAbs(e.Name) {
		return e.Name
	}
	return e.Dir + string(filepath.Separator) + e.Name
}

// OpenFileIn opens the regular file name inside root for reading. A name
// with ".." or an absolute name, a symlink leading outside root, and
// anything but a regular file (a FIFO would block the reader; a directory
// is no shard) are refused with a *PathError naming root.Name() and name.
func OpenFileIn(root *os.Root, name string) (*os.File, error) {
	dir := root.Name()
	fail := func(msg string, err error) (*os.File, error) {
		return nil, &PathError{Dir: dir, Name: name, Msg: msg, Err: err}
	}
	if !filepath.IsLocal(name) {
		return fail("refused: the path leads outside "+dir, nil)
	}
	// Stat before Open: it follows symlinks only inside root, and it tells a
	// FIFO apart without opening (and blocking on) it.
	fi, err := root.Stat(name)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return fail("missing", err)
		}
		if li, lerr := root.Lstat(name); lerr == nil && li.Mode()&fs.ModeSymlink != 0 {
			return fail("refused: a symlink leading outside "+dir, err)
		}
		return fail("cannot open inside "+dir+": "+causeText(err), err)
	}
	if !fi.Mode().IsRegular() {
		return fail("refused: "+FileType(fi.Mode())+", not a regular file", nil)
	}
	f, err := openNoWait(root, name)
	if err != nil {
		return fail("cannot open inside "+dir+": "+causeText(err), err)
	}
	return f, nil
}

// OpenIn opens the shard name inside root (see OpenFileIn) and reads its
// header and label table. Errors name the file as root.Name() joined with
// name.
func OpenIn(root *os.Root, name string) (*File, error) {
	f, err := OpenFileIn(root, name)
	if err != nil {
		return nil, err
	}
	return newFile(f, filepath.Join(root.Name(), name))
}

// FileType names a file's type, with its article, for messages that
// refuse it: "a symbolic link", "a named pipe (FIFO)", ...
func FileType(m fs.FileMode) string { return outfs.FileType(m) }

// causeText is an error without the *os.PathError's operation and path,
// which the caller's message already names.
func causeText(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}
