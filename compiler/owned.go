package compiler

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/calldir/calldir/compiler/sortx"
	"github.com/calldir/calldir/shard"
	"github.com/calldir/calldir/shard/livelookup"
)

// An output directory (a build or a delta) is replaced only when calldir
// can prove it made it: see OutputState. The proof is the directory's own
// content, read without following any link: a manifest that parses as
// calldir's format and lists every other entry. A manifest.json alone
// proves nothing (web apps have one).

// ForeignOutputError is an --out path that holds something calldir did not
// make: it is never replaced.
type ForeignOutputError struct {
	Path   string
	Reason string
}

func (e *ForeignOutputError) Error() string {
	return fmt.Sprintf("refusing to replace %s: %s", e.Path, e.Reason)
}

// OutputState is what an output path holds now.
type OutputState struct {
	Build *shard.Manifest      // the build there, if it is one
	Delta *shard.DeltaManifest // the delta there, if it is one
	Live  *livelookup.Manifest // the Live Caller ID Lookup export there, if it is one
}

// kindName names the kind of output a manifest file marks.
func kindName(manifest string) string {
	switch manifest {
	case shard.ManifestName:
		return "build"
	case shard.DeltaManifestName:
		return "delta"
	}
	return "Live Caller ID Lookup export"
}

// found is the manifest name of the output the state holds, or "".
func (s *OutputState) found() string {
	switch {
	case s.Build != nil:
		return shard.ManifestName
	case s.Delta != nil:
		return shard.DeltaManifestName
	case s.Live != nil:
		return livelookup.ManifestName
	}
	return ""
}

// Entries is the number of entries of the build at the path, or -1 when
// it holds none.
func (s *OutputState) Entries() int64 {
	if s.Build == nil {
		return -1
	}
	return s.Build.Totals.Entries
}

// InspectOutput reads what is at an output path and says whether calldir
// may replace it with an output whose manifest is named manifest
// (shard.ManifestName for a build, shard.DeltaManifestName for a delta,
// livelookup.ManifestName for a Live Caller ID Lookup export):
// nothing, an empty directory, or a directory calldir made of that kind,
// whose manifest lists every other entry. Anything else (a file, a
// symlink, a directory of someone else's, a build where a delta goes) is a
// *ForeignOutputError naming the first entry that proves it.
func InspectOutput(dir, manifest string) (*OutputState, error) {
	st, err := inspectOutput(dir)
	if err != nil {
		return nil, err
	}
	if f := st.found(); f != "" && f != manifest {
		return nil, &ForeignOutputError{dir, fmt.Sprintf("it is a calldir %s, not a %s", kindName(f), kindName(manifest))}
	}
	return st, nil
}

func inspectOutput(dir string) (*OutputState, error) {
	st := &OutputState{}
	fi, err := os.Lstat(dir)
	if errors.Is(err, os.ErrNotExist) {
		return st, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", dir, unwrapPathError(err))
	}
	if fi.Mode()&fs.ModeSymlink != 0 {
		return nil, &ForeignOutputError{dir, "it is a symbolic link (give the directory it points to)"}
	}
	if !fi.IsDir() {
		return nil, &ForeignOutputError{dir, "it exists and is not a directory"}
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", dir, unwrapPathError(err))
	}
	if len(ents) == 0 {
		return st, nil
	}
	names := map[string]fs.DirEntry{}
	for _, e := range ents {
		names[e.Name()] = e
	}
	_, isBuild := names[shard.ManifestName]
	_, isDelta := names[shard.DeltaManifestName]
	_, isLive := names[livelookup.ManifestName]
	var listed map[string]bool
	switch {
	case isBuild && isDelta, isBuild && isLive, isDelta && isLive:
		return nil, &ForeignOutputError{dir, fmt.Sprintf("it holds more than one of %s, %s and %s", shard.ManifestName, shard.DeltaManifestName, livelookup.ManifestName)}
	case isLive:
		listed, err = readOwnedManifest(dir, livelookup.ManifestName, func(f *os.File) (_ []string, err error) {
			if st.Live, err = livelookup.ReadManifest(f); err != nil {
				return nil, err
			}
			return st.Live.Files(), nil
		})
	case isBuild:
		listed, err = readOwnedManifest(dir, shard.ManifestName, func(f *os.File) (files []string, err error) {
			if st.Build, err = shard.ReadManifest(f); err != nil {
				return nil, err
			}
			for _, s := range st.Build.Shards {
				files = append(files, s.File)
			}
			return files, nil
		})
	case isDelta:
		listed, err = readOwnedManifest(dir, shard.DeltaManifestName, func(f *os.File) (files []string, err error) {
			if st.Delta, err = shard.ReadDeltaManifest(f); err != nil {
				return nil, err
			}
			for _, x := range st.Delta.Extensions {
				for _, r := range x.Requests {
					for _, f := range r.Files {
						files = append(files, path.Clean(f.File))
					}
				}
			}
			return files, nil
		})
	default:
		return nil, &ForeignOutputError{dir, fmt.Sprintf("a non-empty directory that is not a calldir build (no %s)", shard.ManifestName)}
	}
	if err != nil {
		return nil, err
	}
	if err := checkListed(dir, "", listed); err != nil {
		return nil, err
	}
	return st, nil
}

// readOwnedManifest opens dir/name, refusing anything but a regular file,
// and decodes it with read, which returns the files the manifest lists:
// those and the manifest itself are the directory's own files.
func readOwnedManifest(dir, name string, read func(*os.File) ([]string, error)) (map[string]bool, error) {
	p := filepath.Join(dir, name)
	fi, err := os.Lstat(p)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", dir, unwrapPathError(err))
	}
	if !fi.Mode().IsRegular() {
		return nil, &ForeignOutputError{dir, fmt.Sprintf("its %s is not a regular file", name)}
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", dir, unwrapPathError(err))
	}
	defer f.Close()
	files, err := read(f)
	if err != nil {
		return nil, &ForeignOutputError{dir, fmt.Sprintf("its %s is not a calldir manifest (%v)", name, err)}
	}
	listed := map[string]bool{name: true}
	for _, file := range files {
		listed[file] = true
	}
	return listed, nil
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
				return &ForeignOutputError{dir, fmt.Sprintf("%s is a directory its manifest does not list", rel)}
			}
			if err := checkListed(dir, rel, listed); err != nil {
				return err
			}
		case t.IsRegular():
			switch {
			case listed[rel]:
			case isOwnTemp(e.Name()): // removed with the directory
			default:
				return &ForeignOutputError{dir, fmt.Sprintf("%s is not a file its manifest lists", rel)}
			}
		default:
			return &ForeignOutputError{dir, fmt.Sprintf("%s is %s, not a file calldir writes", rel, shard.FileType(t))}
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

// isOwnTemp reports whether a file inside an output is a temporary
// writeFileSync leaves when interrupted ("manifest.json.tmp").
func isOwnTemp(name string) bool {
	return name == shard.ManifestName+".tmp" || name == shard.DeltaManifestName+".tmp" || name == livelookup.ManifestName+".tmp"
}

// Temporary siblings of an output are named
// ".NAME.calldir-tmp-OWNER-RANDOM" (and "….old" while swapping on systems
// without an atomic exchange), OWNER being sortx.Owner: the PID of the
// process that made them, and on Linux its PID namespace. They are
// unmistakably calldir's, so that a later run removes those of a process
// that died (kill -9, power loss) and never those of one still running.
const tmpMark = ".calldir-tmp-"

// TempPrefix is the os.CreateTemp/MkdirTemp pattern of the temporary
// sibling of path (an output directory or a report file).
func TempPrefix(path string) string {
	return "." + filepath.Base(path) + tmpMark + sortx.Owner(os.Getpid()) + "-"
}

// RemoveStaleTemps removes the temporary siblings of dir (an output
// directory or a report file) left by calldir processes that are no longer
// running, and returns their names.
func RemoveStaleTemps(dir string) ([]string, error) {
	parent := filepath.Dir(dir)
	ents, err := os.ReadDir(parent)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	prefix := "." + filepath.Base(dir) + tmpMark
	var removed []string
	for _, e := range ents {
		rest, ok := strings.CutPrefix(e.Name(), prefix)
		if !ok {
			continue
		}
		tok, _, ok := strings.Cut(rest, "-")
		if !ok || !sortx.OwnerGone(tok) {
			continue
		}
		if _, err := os.Lstat(dir); strings.HasSuffix(e.Name(), ".old") && errors.Is(err, os.ErrNotExist) {
			continue // the previous output, moved aside by a swap that did not finish: keep it
		}
		if err := os.RemoveAll(filepath.Join(parent, e.Name())); err != nil {
			return removed, fmt.Errorf("remove stale temporary %s: %w", e.Name(), err)
		}
		removed = append(removed, e.Name())
	}
	return removed, nil
}
