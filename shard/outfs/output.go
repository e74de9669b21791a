package outfs

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// An Output is a directory output (a build, a delta, an export), replaced
// as a whole: written into a temporary sibling (a Stage), then put in
// place by Commit.
type Output struct {
	decl *Decl
	Path string // absolute and clean
	Mark *Mark
	// Guard, when set, is called by Commit with what the path holds,
	// immediately before the swap and while its parent directory is
	// locked: an error refuses the swap. The empty and shrink guards go
	// here, so that two runs serialize their compare-and-swap.
	Guard func(prev *State) error
	// State is what the path held when the plan was checked.
	State *State
}

// Output declares a directory output of kind m at path.
func (p *Plan) Output(role, path string, m *Mark) *Output {
	abs, err := filepath.Abs(path)
	if err != nil {
		abs = filepath.Clean(path)
	}
	o := &Output{Path: abs, Mark: m}
	o.decl = p.add(&Decl{Role: role, Path: path, kind: kindOutput, out: o})
	return o
}

// MountPointError is an output path that is a mount point: it cannot be
// replaced by a rename.
type MountPointError struct{ Path string }

func (e *MountPointError) Error() string {
	return fmt.Sprintf("refusing to replace %s: it is a mount point, which a rename cannot replace (give a directory inside it)", e.Path)
}

// inspectPath is the output's path as given, for messages, without
// trailing separators: "link/" names the symlink link, which the swap would
// replace, not the directory it points to (Lstat of "link/" follows it).
func (o *Output) inspectPath() string {
	p := strings.TrimRight(o.decl.Path, string(filepath.Separator))
	if p == "" {
		return o.decl.Path // "/" itself
	}
	return p
}

// check inspects what the output path holds now.
func (o *Output) check() error {
	st, err := Inspect(o.inspectPath(), o.Mark)
	if err != nil {
		return err
	}
	if st.Exists && isMountPoint(o.Path) {
		return &MountPointError{o.decl.Path}
	}
	o.State = st
	return nil
}

// A Stage is an output being written: a private temporary sibling of the
// output's path, named with calldir's mark and owner token.
type Stage struct {
	Out  *Output
	Dir  string // where to write the output's files
	done bool
}

// Stage removes the temporaries dead calldir processes left beside the
// output and makes a new one to write the output into.
func (o *Output) Stage() (*Stage, error) {
	if _, err := RemoveStaleTemps(o.Path); err != nil {
		return nil, err
	}
	parent := filepath.Dir(o.Path)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return nil, fmt.Errorf("create %s: %w", parent, err)
	}
	tmp, err := os.MkdirTemp(parent, TempPrefix(o.Path))
	if err != nil {
		return nil, fmt.Errorf("create temporary directory: %w", err)
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		os.RemoveAll(tmp)
		return nil, err
	}
	return &Stage{Out: o, Dir: tmp}, nil
}

// Abort removes a stage that will not be committed; a no-op after Commit.
func (s *Stage) Abort() {
	if s != nil && !s.done {
		s.done = true
		os.RemoveAll(s.Dir)
	}
}

// Commit puts every stage in place of its output, in the order given,
// only once every one is ready: each stage's tree is synced, the outputs'
// parent directories are locked (flock, so that runs writing the same
// outputs serialize; no file is created for it), each output is inspected
// again and its Guard run, and only then are the outputs swapped, each
// with one atomic exchange where the system has one. Any refusal leaves
// every output as it was and removes every stage. A crash between two
// swaps leaves outputs whose manifests name different builds.
func Commit(stages ...*Stage) (err error) {
	defer func() {
		for _, s := range stages {
			s.Abort()
		}
	}()
	for _, s := range stages {
		if err := syncTree(s.Dir); err != nil {
			return err
		}
	}
	unlock, err := lockParents(stages)
	if err != nil {
		return err
	}
	defer unlock()
	states := make([]*State, len(stages))
	for i, s := range stages {
		st, err := Inspect(s.Out.inspectPath(), s.Out.Mark)
		if err != nil {
			return err
		}
		if s.Out.Guard != nil {
			if err := s.Out.Guard(st); err != nil {
				return err
			}
		}
		states[i] = st
	}
	for i, s := range stages {
		if err := s.swap(states[i]); err != nil {
			return err
		}
	}
	return nil
}

// lockParents locks the parent directory of every stage's output, each
// once and in path order.
func lockParents(stages []*Stage) (func(), error) {
	var parents []string
	for _, s := range stages {
		parents = append(parents, filepath.Dir(s.Out.Path))
	}
	slices.Sort(parents)
	parents = slices.Compact(parents)
	var unlocks []func() error
	unlock := func() {
		for _, u := range slices.Backward(unlocks) {
			u()
		}
	}
	seen := map[fileID]bool{}
	for _, p := range parents {
		if fi, err := os.Stat(p); err == nil {
			if id := identity(fi); id.ok() {
				if seen[id] {
					continue // one directory by two names: flock twice would deadlock
				}
				seen[id] = true
			}
		}
		u, err := LockDir(p)
		if err != nil {
			unlock()
			return nil, err
		}
		unlocks = append(unlocks, u)
	}
	return unlock, nil
}

// swap puts the stage in place of its output, which holds st.
func (s *Stage) swap(st *State) error {
	dir, parent := s.Out.Path, filepath.Dir(s.Out.Path)
	switch {
	case !st.Exists:
		if err := os.Rename(s.Dir, dir); err != nil {
			return fmt.Errorf("rename %s: %w", s.Out.decl.Path, err)
		}
		s.done = true
		return syncDir(parent)
	case st.Mark == nil:
		// An empty directory is the user's (perhaps their working
		// directory): it is filled in place, the manifest last, and keeps
		// its identity.
		if err := s.fill(); err != nil {
			return fmt.Errorf("write %s: %w", s.Out.decl.Path, err)
		}
		return nil
	}
	swapped, err := exchange(s.Dir, dir)
	if err != nil {
		return fmt.Errorf("replace %s: %w", s.Out.decl.Path, err)
	}
	if swapped { // the stage now holds the previous output
		if err := syncDir(parent); err != nil {
			return err
		}
		s.done = true
		return os.RemoveAll(s.Dir)
	}
	old := s.Dir + ".old"
	if err := renameAside(s.Dir, dir, old); err != nil {
		return fmt.Errorf("replace %s: %w", s.Out.decl.Path, err)
	}
	s.done = true
	if err := syncDir(parent); err != nil {
		return err
	}
	return os.RemoveAll(old)
}

// fill moves the stage's entries into the (empty) output directory, the
// manifest last, and removes the stage.
func (s *Stage) fill() error {
	ents, err := os.ReadDir(s.Dir)
	if err != nil {
		return err
	}
	slices.SortStableFunc(ents, func(a, b fs.DirEntry) int {
		return boolCmp(a.Name() == s.Out.Mark.Manifest, b.Name() == s.Out.Mark.Manifest)
	})
	for _, e := range ents {
		if err := os.Rename(filepath.Join(s.Dir, e.Name()), filepath.Join(s.Out.Path, e.Name())); err != nil {
			return err
		}
		if e.Name() == s.Out.Mark.Manifest {
			if err := syncDir(s.Out.Path); err != nil {
				return err
			}
		}
	}
	s.done = true
	return os.Remove(s.Dir)
}

func boolCmp(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}

// syncTree syncs dir and every directory below it (the files were synced
// as they were written).
func syncTree(dir string) error {
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return syncDir(p)
		}
		return nil
	})
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, errSyncUnsupported) {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}

// RemoveOutput removes a whole output directory calldir made, of kind m:
// Inspect proves it again (its manifest lists every entry), it is renamed
// to a temporary name carrying this process's owner token, so that a run
// killed here leaves only a temporary RemoveStaleTemps clears, and then
// removed. Anything Inspect cannot prove calldir's is a *ForeignError and
// stays as it is.
func RemoveOutput(path string, m *Mark) error {
	st, err := Inspect(path, m)
	if err != nil {
		return err
	}
	if !st.Exists {
		return nil
	}
	if st.Mark == nil {
		return &ForeignError{path, "an empty directory calldir would not leave"}
	}
	tmp := filepath.Join(filepath.Dir(path), TempPrefix(path)+"removed")
	if err := os.Rename(path, tmp); err != nil {
		return fmt.Errorf("remove %s: %w", path, unwrapPathError(err))
	}
	if err := os.RemoveAll(tmp); err != nil {
		return fmt.Errorf("remove %s: %w", path, unwrapPathError(err))
	}
	return nil
}
