package channel

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/calldir/calldir/shard"
	"github.com/calldir/calldir/shard/outfs"
)

// A channel directory holds channel.json, builds/, deltas/, pointers/ and
// calldir's temporaries, nothing else; every build and delta in it is a
// calldir output whose manifest lists its every file. inspectChannel
// proves that before publish adds anything, and removal proves it again
// for each directory it removes, so that publish never touches a file
// calldir did not make.

// inspectChannel proves dir a channel calldir made (or an empty or missing
// directory) and returns the highest sequence in pointers/. Anything else
// is an *outfs.ForeignError naming what proves it.
func inspectChannel(dir string) (highest uint64, err error) {
	fi, err := os.Lstat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("%s: %w", dir, err)
	}
	switch {
	case fi.Mode()&fs.ModeSymlink != 0:
		return 0, &outfs.ForeignError{Path: dir, Reason: "it is a symbolic link (give the directory it points to)"}
	case !fi.IsDir():
		return 0, &outfs.ForeignError{Path: dir, Reason: "it exists and is not a directory"}
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", dir, err)
	}
	foreign := func(format string, a ...any) error {
		return &outfs.ForeignError{Path: dir, Reason: fmt.Sprintf(format, a...)}
	}
	for _, e := range ents {
		name := e.Name()
		switch {
		case outfs.IsTemp(name):
		case name == PointerName:
			if !e.Type().IsRegular() {
				return 0, foreign("its %s is %s, not a file calldir writes", name, outfs.FileType(e.Type()))
			}
			if _, err := readMarkFile(filepath.Join(dir, name)); err != nil {
				return 0, foreign("its %s is not a calldir channel pointer (%v)", name, err)
			}
		case name == BuildsDir || name == DeltasDir || name == PointersDir:
			if !e.IsDir() {
				return 0, foreign("%s is %s, not a directory", name, outfs.FileType(e.Type()))
			}
		default:
			return 0, foreign("%s is not a file calldir writes in a release channel (a non-empty directory that is not a calldir channel?)", name)
		}
	}
	if err := eachEntry(dir, BuildsDir, func(name string, e fs.DirEntry) error {
		_, err := proveOutput(dir, BuildsDir, name, e)
		return err
	}); err != nil {
		return 0, err
	}
	if err := eachEntry(dir, DeltasDir, func(name string, e fs.DirEntry) error {
		_, err := proveOutput(dir, DeltasDir, name, e)
		return err
	}); err != nil {
		return 0, err
	}
	err = eachEntry(dir, PointersDir, func(name string, e fs.DirEntry) error {
		seq, ok := historySeq(name)
		if !ok || !e.Type().IsRegular() {
			return foreign("%s/%s is not a pointer calldir wrote (want a regular file NNNNNNNNNN.json)", PointersDir, name)
		}
		highest = max(highest, seq)
		return nil
	})
	return highest, err
}

// eachEntry calls f for every entry of dir/sub but calldir's temporaries;
// a missing sub is empty.
func eachEntry(dir, sub string, f func(name string, e fs.DirEntry) error) error {
	ents, err := os.ReadDir(filepath.Join(dir, sub))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("%s: %w", filepath.Join(dir, sub), err)
	}
	for _, e := range ents {
		if outfs.IsTemp(e.Name()) {
			continue
		}
		if err := f(e.Name(), e); err != nil {
			return err
		}
	}
	return nil
}

// proveOutput proves dir/sub/name a build (sub "builds") or delta calldir
// made, named for its content, and returns its decoded manifest.
func proveOutput(dir, sub, name string, e fs.DirEntry) (any, error) {
	p := filepath.Join(dir, sub, name)
	if !e.IsDir() {
		return nil, &outfs.ForeignError{Path: p, Reason: "it is " + outfs.FileType(e.Type()) + ", not a directory calldir writes in a channel"}
	}
	mark, ok := shard.BuildMark, IsBuildID(name)
	var base, target string
	if sub == DeltasDir {
		mark = shard.DeltaMark
		base, target, ok = strings.Cut(name, "-")
		ok = ok && IsBuildID(base) && IsBuildID(target)
	}
	if !ok {
		return nil, &outfs.ForeignError{Path: p, Reason: "its name is not a build_id (or base-target of build_ids) calldir would give it"}
	}
	st, err := outfs.Inspect(p, mark)
	if err != nil {
		return nil, err
	}
	if st.Mark == nil {
		return nil, &outfs.ForeignError{Path: p, Reason: "an empty directory calldir would not leave"}
	}
	switch v := st.Value.(type) {
	case *shard.Manifest:
		if v.BuildID != name {
			return nil, &outfs.ForeignError{Path: p, Reason: fmt.Sprintf("its manifest is of build %.12s…, not of the build it is named for", v.BuildID)}
		}
	case *shard.DeltaManifest:
		if v.Base != base || v.Target != target {
			return nil, &outfs.ForeignError{Path: p, Reason: fmt.Sprintf("its delta.json leads from %.12s… to %.12s…, not as it is named", v.Base, v.Target)}
		}
	}
	return st.Value, nil
}

// historySeq parses a pointers/ file name.
func historySeq(name string) (uint64, bool) {
	digits, ok := strings.CutSuffix(name, ".json")
	if !ok || len(digits) != 10 {
		return 0, false
	}
	n, err := strconv.ParseUint(digits, 10, 64)
	return n, err == nil && n >= 1
}

func readMarkFile(path string) (*Pointer, error) {
	root, err := os.OpenRoot(filepath.Dir(path))
	if err != nil {
		return nil, err
	}
	defer root.Close()
	f, err := shard.OpenRegular(root, filepath.Base(path))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	c, err := readMark(f)
	if err != nil {
		return nil, err
	}
	return c.Value.(*Pointer), nil
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// copyOutput writes a new output at channel-relative path rel (a build or
// a delta directory) from the directory src: every file the manifest
// names, each read through an os.Root of src and checked against the
// SHA-256 its manifest gives, then the manifest, as it was read (so its
// hash is the one signed). The files go into an outfs stage that Commit
// syncs and renames in whole: a reader never sees part of it.
func copyOutput(dir, rel, src string, mark *outfs.Mark, files []listed, manifest []byte) error {
	root, err := os.OpenRoot(src)
	if err != nil {
		return err
	}
	defer root.Close()
	var p outfs.Plan
	// The channel was proved by inspectChannel under its lock; Plan.Check
	// would refuse any write inside it (its channel.json is a registered
	// mark), which is the point of the mark for every other command.
	out := p.Output(rel, filepath.Join(dir, filepath.FromSlash(rel)), mark)
	st, err := out.Stage()
	if err != nil {
		return err
	}
	defer st.Abort()
	for _, f := range files {
		if !filepath.IsLocal(f.File) {
			return fmt.Errorf("%s: manifest names %q, outside the directory", src, f.File)
		}
		data, err := shard.ReadRegular(root, f.File, maxFileBytes)
		if err != nil {
			return fmt.Errorf("%s: %w", src, err)
		}
		if got := sha256Hex(data); got != f.SHA256 {
			return fmt.Errorf("%s: %s changed: SHA-256 %.12s…, its manifest says %.12s…", src, f.File, got, f.SHA256)
		}
		to := filepath.Join(st.Dir, filepath.FromSlash(f.File))
		if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
			return err
		}
		if err := outfs.WriteNew(to, data); err != nil {
			return err
		}
	}
	if err := outfs.WriteNew(filepath.Join(st.Dir, mark.Manifest), manifest); err != nil {
		return err
	}
	return outfs.Commit(st)
}

// listed is one file a manifest names, with its SHA-256.
type listed struct{ File, SHA256 string }

// buildFiles and deltaFiles are the files a build's or a delta's manifest
// names.
func buildFiles(m *shard.Manifest) []listed {
	var out []listed
	for _, s := range m.Shards {
		out = append(out, listed{s.File, s.SHA256})
	}
	return out
}

func deltaFiles(d *shard.DeltaManifest) []listed {
	var out []listed
	for _, x := range d.Extensions {
		for _, r := range x.Requests {
			for _, f := range r.Files {
				out = append(out, listed{f.File, f.SHA256})
			}
		}
	}
	return out
}

// maxFileBytes bounds one file of a build or delta read into memory: a
// shard holds at most 1,999,999 entries, a few tens of MB with labels.
const maxFileBytes = 1 << 30

// removeOutput removes a build or delta directory of the channel once it
// is proved calldir's, by its name and manifest here and by outfs again as
// it removes it (outfs.RemoveOutput: renamed to an owned temporary first,
// so a run killed here leaves a temporary the next publish removes).
func removeOutput(dir, sub, name string) error {
	p := filepath.Join(dir, sub, name)
	fi, err := os.Lstat(p)
	if err != nil {
		return err
	}
	if _, err := proveOutput(dir, sub, name, fs.FileInfoToDirEntry(fi)); err != nil {
		return err
	}
	mark := shard.BuildMark
	if sub == DeltasDir {
		mark = shard.DeltaMark
	}
	return outfs.RemoveOutput(p, mark)
}

// removeStaleTemps removes the temporaries dead calldir processes left in
// the channel (stages of killed publishes, half-added files, removals).
func removeStaleTemps(dir string) error {
	for _, sub := range []string{"", BuildsDir, DeltasDir, PointersDir} {
		d := filepath.Join(dir, sub)
		ents, err := os.ReadDir(d)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		seen := map[string]bool{}
		for _, e := range ents {
			name := e.Name()
			if !outfs.IsTemp(name) {
				continue
			}
			// ".NAME.calldir-tmp-OWNER-RANDOM": the temporary of NAME.
			orig, _, _ := strings.Cut(strings.TrimPrefix(name, "."), ".calldir-tmp-")
			if seen[orig] {
				continue
			}
			seen[orig] = true
			if _, err := outfs.RemoveStaleTemps(filepath.Join(d, orig)); err != nil {
				return err
			}
		}
	}
	return nil
}
