package shard

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// Build is a build directory read into memory, every shard verified.
type Build struct {
	Dir      string
	Manifest *Manifest
	Exts     map[int]*ExtEntries // by extension number
}

// ExtEntries are one extension's entries, in ascending order.
type ExtEntries struct {
	Kind    Kind
	Info    ShardInfo
	Numbers []int64
	Labels  []string // identify: the label of each number
}

// OpenBuildRoot opens a build (or delta) directory as an os.Root: every
// reader of a build opens its files through it, so that neither a manifest
// naming "../x" nor a file replaced by a symlink leading out of the
// directory can make calldir read (and print, or copy into a delta) a file
// elsewhere.
func OpenBuildRoot(dir string) (*os.Root, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("%s: not a build directory: %w", dir, causeErr(err))
	}
	return root, nil
}

// ReadManifestFile reads and decodes dir/manifest.json through an os.Root
// of dir, and checks its build_id against its shards.
func ReadManifestFile(dir string) (*Manifest, error) {
	root, err := OpenBuildRoot(dir)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	return ReadManifestIn(root)
}

// ReadManifestIn is ReadManifestFile for a build already opened as root.
func ReadManifestIn(root *os.Root) (*Manifest, error) {
	dir := root.Name()
	f, err := OpenFileIn(root, ManifestName)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s: not a build directory: %w", dir, causeErr(errors.Unwrap(err)))
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	m, err := ReadManifest(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	if got := BuildID(m.Shards); m.BuildID != got {
		return nil, fmt.Errorf("%s: manifest build_id %.12s… does not match its shards (%.12s…): edited or damaged; run calldir validate", dir, m.BuildID, got)
	}
	return m, nil
}

// LoadBuild reads a build directory: its manifest and every shard, each
// verified by the shard reader, against the manifest's count and against
// its SHA-256. Every file is opened through an os.Root of dir.
func LoadBuild(dir string) (*Build, error) {
	root, err := OpenBuildRoot(dir)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	m, err := ReadManifestIn(root)
	if err != nil {
		return nil, err
	}
	b := &Build{Dir: dir, Manifest: m, Exts: map[int]*ExtEntries{}}
	for _, s := range m.Shards {
		if _, dup := b.Exts[s.Extension]; dup {
			return nil, fmt.Errorf("%s: extension %d has more than one shard", dir, s.Extension)
		}
		kind, err := ParseKind(s.Kind)
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %w", dir, s.File, err)
		}
		e := &ExtEntries{Kind: kind, Info: s}
		if err := readShardEntries(root, s, e); err != nil {
			return nil, err
		}
		b.Exts[s.Extension] = e
	}
	return b, nil
}

// readShardEntries reads one shard of a build into e.
func readShardEntries(root *os.Root, s ShardInfo, e *ExtEntries) error {
	e.Numbers = make([]int64, 0, s.Count)
	return EachInShard(root, s, func(n int64, label string) error {
		e.Numbers = append(e.Numbers, n)
		if e.Kind == KindIdentify {
			e.Labels = append(e.Labels, label)
		}
		return nil
	})
}

// EachInShard streams the shard s of the build opened as root, calling fn
// with each number and its label ("" in a blocking shard), and checks the
// entry count and the SHA-256 the manifest gives, hashing the bytes as
// they are read: fn sees the records before the hash is known, so a
// caller that must not act on a replaced shard keeps what fn did
// provisional until EachInShard returns nil.
func EachInShard(root *os.Root, s ShardInfo, fn func(number int64, label string) error) error {
	_, err := ReadShardIn(root, s, fn)
	return err
}

// ReadShardIn is EachInShard returning the shard's header too, valid
// only when the error is nil; fn may be nil to verify the shard alone.
func ReadShardIn(root *os.Root, s ShardInfo, fn func(number int64, label string) error) (Header, error) {
	path := filepath.Join(root.Name(), s.File)
	f, err := OpenFileIn(root, s.File)
	if err != nil {
		return Header{}, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return Header{}, err
	}
	h := sha256.New()
	rd, err := NewReader(io.TeeReader(f, h), st.Size())
	if err != nil {
		return Header{}, fmt.Errorf("%s: %w", path, err)
	}
	if int64(rd.Header().Count) != s.Count {
		return Header{}, fmt.Errorf("%s: %d entries, the manifest says %d", path, rd.Header().Count, s.Count)
	}
	labels := rd.Labels()
	for {
		rec, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return Header{}, fmt.Errorf("%s: %w", path, err)
		}
		if fn == nil {
			continue
		}
		label := ""
		if labels != nil {
			label = labels[rec.Label]
		}
		if err := fn(rec.Number, label); err != nil {
			return Header{}, err
		}
	}
	if sum := hex.EncodeToString(h.Sum(nil)); sum != s.SHA256 {
		return Header{}, fmt.Errorf("%s: SHA-256 %.12s…, the manifest says %.12s…: replaced or damaged; run calldir validate", path, sum, s.SHA256)
	}
	return rd.Header(), nil
}

// HashFile returns the SHA-256 of the file name inside root, opened
// through the root (OpenFileIn) so that a name or symlink leading out of
// the directory is refused.
func HashFile(root *os.Root, name string) (string, error) {
	f, err := OpenFileIn(root, name)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("%s: %w", filepath.Join(root.Name(), name), err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// causeErr is an error without the *os.PathError's operation and path,
// which the caller's message already names.
func causeErr(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
