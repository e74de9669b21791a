package main

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"github.com/calldir/calldir/compiler"
	"io/fs"
	"os"
	"path/filepath"
)

// An outFile is a file written to a path the user gave (compile --rejects
// and --conflicts, init's FILE). What is at the path decides how, so that
// a report never destroys what the user pointed it at:
//
//	nothing, a regular file   a temporary sibling, synced and renamed over
//	                          it: a failed run leaves the previous file
//	FIFO, device              written through (/dev/stdout, /dev/null, a
//	                          pipe to a reader): opened and streamed into,
//	                          never replaced, no temporary file
//	symlink                   followed: the rules apply to its target (a
//	                          missing target is created); the link stays
//	directory, socket         refused (exit 2), nothing written
//
// Write-through output streamed before a failure cannot be taken back; a
// FIFO or device has no previous content to keep.
type outFile struct {
	path    string // as given, for messages
	target  string // path with symlinks followed: what is replaced
	f       *os.File
	through bool // f is the path itself, not a temporary file
	done    bool
}

// maxLinkHops bounds symlink chains (the kernel's ELOOP is 40).
const maxLinkHops = 40

// createOut opens path for writing by the rules above. With noClobber an
// existing path is refused instead (init without --force).
func createOut(path string, noClobber bool) (*outFile, error) {
	o := &outFile{path: path, target: path}
	for hops := 0; ; hops++ {
		fi, err := os.Lstat(o.target)
		if errors.Is(err, fs.ErrNotExist) {
			break // created by the rename
		}
		if err != nil {
			return nil, fmt.Errorf("create %s: %w", path, err)
		}
		if noClobber {
			return nil, usagef("%s exists; pass --force to overwrite it", path)
		}
		switch m := fi.Mode(); {
		case m.IsRegular():
		case m&fs.ModeSymlink != 0:
			if hops == maxLinkHops {
				return nil, usagef("create %s: too many levels of symbolic links", path)
			}
			link, err := os.Readlink(o.target)
			if err != nil {
				return nil, fmt.Errorf("create %s: %w", path, err)
			}
			if !filepath.IsAbs(link) {
				link = filepath.Join(filepath.Dir(o.target), link)
			}
			o.target = link
			continue
		case m.IsDir():
			return nil, usagef("create %s: is a directory; want a file path", path)
		case m&fs.ModeSocket != 0:
			return nil, usagef("create %s: is a socket; want a file, a FIFO or a device", path)
		case m&(fs.ModeNamedPipe|fs.ModeDevice|fs.ModeCharDevice) != 0:
			// O_WRONLY alone: no O_CREATE or O_TRUNC, so a path that
			// changed since the Lstat is not made a regular file. A FIFO
			// blocks here until a reader opens it, as a shell's > does.
			f, err := os.OpenFile(o.target, os.O_WRONLY, 0)
			if err != nil {
				return nil, fmt.Errorf("open %s: %w", path, err)
			}
			o.f, o.through = f, true
			return o, nil
		default:
			return nil, usagef("create %s: is a %v file; want a file, a FIFO or a device", path, m.Type())
		}
		break
	}
	// The temporary is named like an output's (calldir's mark and owner),
	// and the temporaries a killed run left beside the report go first.
	compiler.RemoveStaleTemps(o.target)
	f, err := os.CreateTemp(filepath.Dir(o.target), compiler.TempPrefix(o.target))
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", path, err)
	}
	o.f = f
	return o, nil
}

func (o *outFile) Write(p []byte) (int, error) { return o.f.Write(p) }

// commit ends the file: a temporary file is synced and renamed over the
// target, provided the target is still nothing or a regular file; a
// written-through file is closed. werr is an earlier write error, which
// discards the temporary file.
func (o *outFile) commit(werr error) error {
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
		err = o.f.Chmod(0o644)
	}
	if err == nil {
		err = o.f.Sync()
	}
	if cerr := o.f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		// The path was checked when the report was opened; a FIFO or a
		// directory put there since is not replaced either.
		if fi, lerr := os.Lstat(o.target); lerr == nil && !fi.Mode().IsRegular() {
			err = fmt.Errorf("%s is now a %v file, not replaced", o.target, fi.Mode().Type())
		}
	}
	if err == nil {
		err = os.Rename(o.f.Name(), o.target)
	}
	if err != nil {
		os.Remove(o.f.Name())
		return fmt.Errorf("write %s: %w", o.path, err)
	}
	return nil
}

// discard drops an uncommitted file: the temporary file is removed, a
// written-through one closed. It is a no-op after commit.
func (o *outFile) discard() {
	if o == nil || o.done {
		return
	}
	o.done = true
	o.f.Close()
	if !o.through {
		os.Remove(o.f.Name())
	}
}

// csvReport streams CSV rows to an outFile; commit ends it, discard drops
// it.
type csvReport struct {
	out *outFile
	bw  *bufio.Writer
	w   *csv.Writer
}

func newCSVReport(path string, header ...string) (*csvReport, error) {
	out, err := createOut(path, false)
	if err != nil {
		return nil, err
	}
	r := &csvReport{out: out, bw: bufio.NewWriterSize(out, 64<<10)}
	r.w = csv.NewWriter(r.bw)
	r.w.Write(header)
	return r, nil
}

func (r *csvReport) add(fields ...string) { r.w.Write(fields) }

func (r *csvReport) commit() error {
	if r == nil {
		return nil
	}
	r.w.Flush()
	err := r.w.Error()
	if err == nil {
		err = r.bw.Flush()
	}
	return r.out.commit(err)
}

func (r *csvReport) discard() {
	if r != nil {
		r.out.discard()
	}
}
