package outfs

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
)

// A Mark is how calldir recognises a directory output it made: a manifest
// file of its own format that lists every other file of the directory. A
// manifest.json alone proves nothing (web apps have one); the directory
// must hold nothing the manifest does not list.
type Mark struct {
	Kind     string // for messages: "build", "delta", "Live Caller ID Lookup export"
	Manifest string // the manifest's file name
	// Read decodes a manifest and returns what the output lists and holds;
	// an error means the file is not this kind's manifest.
	Read func(r io.Reader) (*Contents, error)
}

// Contents is what an output's manifest says it holds.
type Contents struct {
	Files []string // slash paths relative to the output, besides the manifest
	// Counts are the numbers the output holds per list ("block",
	// "identify"), for the empty and shrink guards.
	Counts map[string]int64
	Value  any // the decoded manifest
}

var (
	marksMu sync.Mutex
	marks   []*Mark
)

// Register makes a kind of output known, so that an output of one kind is
// never replaced by another's. The packages that define the formats
// register them from init.
func Register(m *Mark) {
	marksMu.Lock()
	defer marksMu.Unlock()
	marks = append(marks, m)
}

func known() []*Mark {
	marksMu.Lock()
	defer marksMu.Unlock()
	return append([]*Mark(nil), marks...)
}

// ForeignError is a path holding something calldir did not make, or not
// of the kind it would write there: it is never replaced.
type ForeignError struct {
	Path   string
	Reason string
}

func (e *ForeignError) Error() string {
	return fmt.Sprintf("refusing to replace %s: %s", e.Path, e.Reason)
}

// State is what an output path holds.
type State struct {
	Path   string
	Exists bool // a directory is there (empty or an output)
	Mark   *Mark
	*Contents
}

// Count is the numbers the output holds in list ("block"); -1 when it is
// not an output.
func (s *State) Count(list string) int64 {
	if s == nil || s.Contents == nil {
		return -1
	}
	return s.Counts[list]
}

// Inspect reads what is at an output path and says whether calldir may
// replace it with an output of kind want: nothing, an empty directory, or
// a directory calldir made of that kind whose manifest lists every other
// entry. Anything else (a file, a symlink, someone else's directory, a
// build where a delta goes) is a *ForeignError naming what proves it.
func Inspect(dir string, want *Mark) (*State, error) {
	st := &State{Path: dir}
	fi, err := os.Lstat(dir)
	if errors.Is(err, os.ErrNotExist) {
		return st, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", dir, unwrapPathError(err))
	}
	if fi.Mode()&fs.ModeSymlink != 0 {
		return nil, &ForeignError{dir, "it is a symbolic link (give the directory it points to)"}
	}
	if !fi.IsDir() {
		return nil, &ForeignError{dir, "it exists and is not a directory"}
	}
	st.Exists = true
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", dir, unwrapPathError(err))
	}
	names := map[string]bool{}
	for _, e := range ents {
		names[e.Name()] = true
	}
	var found []*Mark
	for _, m := range known() {
		if names[m.Manifest] {
			found = append(found, m)
		}
	}
	switch {
	case len(ents) == 0:
		return st, nil
	case len(found) > 1:
		var ms []string
		for _, m := range found {
			ms = append(ms, m.Manifest)
		}
		return nil, &ForeignError{dir, "it holds more than one of " + strings.Join(ms, ", ")}
	case len(found) == 0:
		return nil, &ForeignError{dir, fmt.Sprintf("a non-empty directory that is not a calldir %s (no %s)", want.Kind, want.Manifest)}
	}
	m := found[0]
	if m != want {
		return nil, &ForeignError{dir, fmt.Sprintf("it is a calldir %s, not a %s", m.Kind, want.Kind)}
	}
	c, err := readManifest(dir, m)
	if err != nil {
		return nil, err
	}
	listed := map[string]bool{m.Manifest: true}
	for _, f := range c.Files {
		listed[path.Clean(f)] = true
	}
	if err := checkListed(dir, "", listed); err != nil {
		return nil, err
	}
	st.Mark, st.Contents = m, c
	return st, nil
}

// readManifest opens dir's manifest, refusing anything but a regular
// file, and decodes it.
func readManifest(dir string, m *Mark) (*Contents, error) {
	p := filepath.Join(dir, m.Manifest)
	fi, err := os.Lstat(p)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", dir, unwrapPathError(err))
	}
	if !fi.Mode().IsRegular() {
		return nil, &ForeignError{dir, fmt.Sprintf("its %s is not a regular file", m.Manifest)}
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", dir, unwrapPathError(err))
	}
	defer f.Close()
	c, err := m.Read(f)
	if err != nil {
		return nil, &ForeignError{dir, fmt.Sprintf("its %s is not a calldir manifest (%v)", m.Manifest, err)}
	}
	return c, nil
}

// checkListed walks dir/sub: every regular file must be listed (or be one
// of calldir's own temporaries), every directory must hold listed files
// only; links and special files are never calldir's.
func checkListed(dir, sub string, listed map[string]bool) error {
	ents, err := os.ReadDir(filepath.Join(dir, filepath.FromSlash(sub)))
	if err != nil {
		return fmt.Errorf("%s: %w", dir, unwrapPathError(err))
	}
	for _, e := range ents {
		rel := path.Join(sub, e.Name())
		switch t := e.Type(); {
		case t.IsDir():
			if !hasListedUnder(listed, rel) {
				return &ForeignError{dir, fmt.Sprintf("%s is a directory its manifest does not list", rel)}
			}
			if err := checkListed(dir, rel, listed); err != nil {
				return err
			}
		case t.IsRegular():
			if !listed[rel] && !IsTemp(e.Name()) {
				return &ForeignError{dir, fmt.Sprintf("%s is not a file its manifest lists", rel)}
			}
		default:
			return &ForeignError{dir, fmt.Sprintf("%s is %s, not a file calldir writes", rel, FileType(t))}
		}
	}
	return nil
}

func hasListedUnder(listed map[string]bool, dir string) bool {
	for f := range listed {
		if strings.HasPrefix(f, dir+"/") {
			return true
		}
	}
	return false
}

// FileType names a file's type, with its article, for messages that
// refuse it: "a symbolic link", "a named pipe (FIFO)", ...
func FileType(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeSymlink != 0:
		return "a symbolic link"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe (FIFO)"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeDevice != 0:
		return "a device"
	case m.IsRegular():
		return "a regular file"
	}
	return "a special file (" + m.Type().String() + ")"
}

// unwrapPathError drops an *fs.PathError's path, which the caller's
// message already names.
func unwrapPathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %w", pe.Op, pe.Err)
	}
	return err
}

// A FileMark is how calldir recognises a single file it made (a kept
// SQLite database): Prove returns an error when the file is not one.
type FileMark struct {
	Kind  string // for messages: "calldir model database"
	Prove func(f *os.File) error
}

// InspectFile says whether calldir may replace the file at p, made as m:
// nothing there, or a regular file m proves calldir's. A symlink, a
// directory, a special file or a foreign file is a *ForeignError.
func InspectFile(p string, m *FileMark) (exists bool, err error) {
	fi, err := os.Lstat(p)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("%s: %w", p, unwrapPathError(err))
	}
	if !fi.Mode().IsRegular() {
		return false, &ForeignError{p, fmt.Sprintf("it is %s, not a %s", FileType(fi.Mode()), m.Kind)}
	}
	f, err := os.Open(p)
	if err != nil {
		return false, fmt.Errorf("%s: %w", p, unwrapPathError(err))
	}
	defer f.Close()
	if err := m.Prove(f); err != nil {
		return false, &ForeignError{p, fmt.Sprintf("it is not a %s (%v)", m.Kind, err)}
	}
	return true, nil
}
