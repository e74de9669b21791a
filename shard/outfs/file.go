package outfs

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// A File is a file written to a path the user gave (a report, a plan,
// init's configuration). What is at the path decides how, so that a
// write never destroys what the user pointed it at:
//
//	nothing, a regular file   a temporary sibling, synced and renamed over
//	                          it: a failed run leaves the previous file
//	FIFO, device              written through (/dev/stdout, /dev/null, a
//	                          pipe to a reader): opened and streamed into,
//	                          never replaced, no temporary file
//	symlink                   followed: the rules apply to its target (a
//	                          missing target is created); the link stays
//	directory, socket         refused, nothing written
//
// Output written through before a failure cannot be taken back; a FIFO or
// device has no previous content to keep.
type File struct {
	path    string // as given, for messages
	target  string // path with symlinks followed: what is replaced
	f       *os.File
	through bool        // f is the path itself, not a temporary file
	perm    fs.FileMode // the replaced file's permissions (0644 for a new file)
	done    bool
	// noClobber: Commit links the file into place and fails if the path
	// exists by then.
	noClobber bool
}

// maxLinkHops bounds symlink chains (the kernel's ELOOP is 40).
const maxLinkHops = 40

// TargetError is a file path that cannot be written: a directory, a
// socket, a symlink loop; or, with no-clobber, a path that exists.
type TargetError struct {
	Path, Reason string
	Exists       bool // the path exists and no-clobber was asked
}

func (e *TargetError) Error() string { return fmt.Sprintf("create %s: %s", e.Path, e.Reason) }

// fileTarget follows path's symlinks to what a write replaces, and says
// whether that is a FIFO or device, written through. A descriptor path
// (/dev/stdout, /proc/self/fd/N) is written through whatever it names.
func fileTarget(path string, noClobber bool) (target string, through bool, err error) {
	target = path
	for hops := 0; ; hops++ {
		if _, ok := fdPath(target); ok && !noClobber {
			return target, true, nil
		}
		fi, err := os.Lstat(target)
		if errors.Is(err, fs.ErrNotExist) {
			return target, false, nil // created by the rename
		}
		if err != nil {
			return "", false, fmt.Errorf("create %s: %w", path, unwrapPathError(err))
		}
		if noClobber {
			return "", false, &TargetError{Path: path, Reason: "exists", Exists: true}
		}
		switch m := fi.Mode(); {
		case m.IsRegular():
			return target, false, nil
		case m&fs.ModeSymlink != 0:
			if hops == maxLinkHops {
				return "", false, &TargetError{Path: path, Reason: "too many levels of symbolic links"}
			}
			link, err := os.Readlink(target)
			if err != nil {
				return "", false, fmt.Errorf("create %s: %w", path, unwrapPathError(err))
			}
			target = linkTarget(target, link)
		case m.IsDir():
			return "", false, &TargetError{Path: path, Reason: "is a directory; want a file path"}
		case m&fs.ModeSocket != 0:
			return "", false, &TargetError{Path: path, Reason: "is a socket; want a file, a FIFO or a device"}
		case m&(fs.ModeNamedPipe|fs.ModeDevice|fs.ModeCharDevice) != 0:
			return target, true, nil
		default:
			return "", false, &TargetError{Path: path, Reason: fmt.Sprintf("is %s; want a file, a FIFO or a device", FileType(m))}
		}
	}
}

// CreateFile opens path for writing by the rules above. With noClobber an
// existing path is refused instead (a *TargetError with Exists), when the
// file is opened and again at Commit, which links the file into place
// rather than renaming it over whatever appeared there meanwhile.
func CreateFile(path string, noClobber bool) (*File, error) {
	target, through, err := fileTarget(path, noClobber)
	if err != nil {
		return nil, err
	}
	o := &File{path: path, target: target, through: through, perm: 0o644, noClobber: noClobber}
	if fd, ok := fdPath(target); ok && through {
		// The descriptor itself, duplicated: its offset and O_APPEND are
		// kept (a shell's >> log), and nothing is reopened or replaced.
		f, err := dupFD(fd, path)
		if err != nil {
			return nil, fmt.Errorf("open %s: %w", path, err)
		}
		o.f = f
		return o, nil
	}
	if through {
		// O_WRONLY alone: no O_CREATE or O_TRUNC, so a path that changed
		// since the Lstat is not made a regular file. A FIFO blocks here
		// until a reader opens it, as a shell's > does.
		f, err := os.OpenFile(target, os.O_WRONLY, 0)
		if err != nil {
			return nil, fmt.Errorf("open %s: %w", path, unwrapPathError(err))
		}
		o.f = f
		return o, nil
	}
	if fi, err := os.Stat(target); err == nil {
		o.perm = fi.Mode().Perm() // a private file stays private
	}
	// The temporaries a killed run left beside the file go first.
	RemoveStaleTemps(target)
	f, err := os.CreateTemp(filepath.Dir(target), TempPrefix(target))
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", path, unwrapPathError(err))
	}
	o.f = f
	return o, nil
}

func (o *File) Write(p []byte) (int, error) { return o.f.Write(p) }

// SetPerm sets the permissions the file gets at Commit (a private key:
// 0600); until then the temporary file is private to its owner.
func (o *File) SetPerm(perm fs.FileMode) { o.perm = perm }

// Commit ends the file: a temporary file is synced and renamed over the
// target, provided the target is still nothing or a regular file; a
// written-through file is closed. werr is an earlier write error, which
// discards the temporary file.
func (o *File) Commit(werr error) error {
	o.done = true
	err := werr
	if o.through {
		if cerr := o.f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("write %s: %w", o.path, err)
		}
		return nil
	}
	if err == nil {
		err = o.f.Chmod(o.perm)
	}
	if err == nil {
		err = o.f.Sync()
	}
	if cerr := o.f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		// The path was checked when the file was opened; a FIFO or a
		// directory put there since is not replaced either.
		if fi, lerr := os.Lstat(o.target); lerr == nil && !fi.Mode().IsRegular() {
			err = fmt.Errorf("%s is now %s, not replaced", o.target, FileType(fi.Mode()))
		}
	}
	if err == nil && o.noClobber {
		// Linked, not renamed: a file that appeared at the path since it
		// was checked is refused, never replaced (a key pair).
		if err = os.Link(o.f.Name(), o.target); errors.Is(err, fs.ErrExist) {
			err = &TargetError{Path: o.path, Reason: "exists; not overwritten", Exists: true}
		}
		os.Remove(o.f.Name())
	} else if err == nil {
		err = os.Rename(o.f.Name(), o.target)
	}
	if err == nil {
		err = syncDir(filepath.Dir(o.target))
	}
	if err != nil {
		os.Remove(o.f.Name())
		return fmt.Errorf("write %s: %w", o.path, err)
	}
	return nil
}

// Discard drops an uncommitted file: the temporary file is removed, a
// written-through one closed. It is a no-op after Commit.
func (o *File) Discard() {
	if o == nil || o.done {
		return
	}
	o.done = true
	o.f.Close()
	if !o.through {
		os.Remove(o.f.Name())
	}
}

// WriteFile writes data to path by the rules of File.
func WriteFile(path string, data []byte) error {
	f, err := CreateFile(path, false)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	return f.Commit(err)
}

// WriteNew writes a new file inside a stage (or a scratch directory): it
// must not exist; the file is synced before it is closed.
func WriteNew(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", filepath.Base(path), err)
	}
	return nil
}

// ImmutableError is a file added to a directory of immutable files whose
// name is taken by different content.
type ImmutableError struct{ Path string }

func (e *ImmutableError) Error() string {
	return fmt.Sprintf("add %s: a different file of that name exists; files here are never replaced", e.Path)
}

// AddFile appends one immutable file to a directory calldir owns (a
// release channel's content-addressed files): written to a temporary
// sibling, synced, and linked to its name only if nothing has that name,
// so that a reader never sees a partial file and nothing is replaced.
// Adding a file that exists with the same bytes is a no-op.
func AddFile(dir, name string, data []byte) error {
	path := filepath.Join(dir, name)
	if old, err := os.ReadFile(path); err == nil {
		if bytes.Equal(old, data) {
			return nil
		}
		return &ImmutableError{path}
	}
	f, err := os.CreateTemp(dir, TempPrefix(path))
	if err != nil {
		return fmt.Errorf("add %s: %w", path, unwrapPathError(err))
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	_, err = f.Write(data)
	if err == nil {
		err = f.Chmod(0o644)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("add %s: %w", path, err)
	}
	if err := os.Link(tmp, path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			if old, rerr := os.ReadFile(path); rerr == nil && bytes.Equal(old, data) {
				return nil
			}
			return &ImmutableError{path}
		}
		return fmt.Errorf("add %s: %w", path, unwrapPathError(err))
	}
	return syncDir(dir)
}

// ClearFile prepares path for a file that calldir makes in place (a kept
// SQLite database, built where it will stay): nothing may be there, or a
// file m proves calldir's; that file and its companions (path+suffix:
// "-journal", "-wal", "-shm") are removed. A companion beside a file that
// is not there is someone else's and refuses the path.
func ClearFile(path string, m *FileMark, companions ...string) error {
	exists, err := CheckClear(path, m, companions...)
	if err != nil {
		return err
	}
	if !exists {
		return nil
	}
	for _, suf := range append([]string{""}, companions...) {
		if err := RemoveScratch(path + suf); err != nil {
			return err
		}
	}
	return nil
}

// CheckClear is ClearFile's check without the removal: it says whether
// calldir's file is there.
func CheckClear(path string, m *FileMark, companions ...string) (exists bool, err error) {
	exists, err = InspectFile(path, m)
	if err != nil {
		return false, err
	}
	for _, suf := range companions {
		fi, err := os.Lstat(path + suf)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return false, fmt.Errorf("%s: %w", path+suf, unwrapPathError(err))
		}
		if !exists || !fi.Mode().IsRegular() {
			return false, &ForeignError{path + suf, fmt.Sprintf("it is %s beside no %s", FileType(fi.Mode()), m.Kind)}
		}
	}
	return exists, nil
}
