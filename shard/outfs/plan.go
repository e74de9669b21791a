package outfs

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// A Plan is what one run reads and writes, declared before any work:
// Check refuses a write that is, contains or is inside anything else the
// run reads or writes, comparing resolved paths and file identity (device
// and inode, so a hard link, a symlink or a bind mount is seen through),
// not spelling. Paths "" and "-" (stdin, stdout) are not files and are
// skipped.
type Plan struct {
	decls []*Decl
}

type declKind int

const (
	kindRead    declKind = iota // a file read, never written
	kindReadDir                 // a directory read (a build), never written
	kindScratch                 // a directory the run makes working files in
	kindOutput                  // a directory output, replaced as a whole
	kindFile                    // a file written (a report)
	kindInto                    // a directory files are added to (explore's plans)
)

// A Decl is one declared path.
type Decl struct {
	Role, Path string
	kind       declKind
	mayBe      *Output // a read that may be this output itself (--base replaced by --out)
	out        *Output // the output a kindOutput declares
}

// Read declares a path the run reads (an input list, a configuration, a
// base build, a plan).
func (p *Plan) Read(role, path string) *Decl {
	return p.add(&Decl{Role: role, Path: path, kind: kindRead})
}

// ReadDir declares a directory the run reads (a base build, icons): no
// write may lie inside it either.
func (p *Plan) ReadDir(role, path string) *Decl {
	return p.add(&Decl{Role: role, Path: path, kind: kindReadDir})
}

// Scratch declares a directory the run makes working files in (--temp-dir):
// it may hold outputs, but may not be inside one.
func (p *Plan) Scratch(role, path string) *Decl {
	return p.add(&Decl{Role: role, Path: path, kind: kindScratch})
}

// WriteFile declares a file the run writes (a report, a plan, a kept
// database).
func (p *Plan) WriteFile(role, path string) *Decl {
	return p.add(&Decl{Role: role, Path: path, kind: kindFile})
}

// WriteInto declares a directory the run adds files to (explore's plans,
// bench's work): it may not be, contain or lie inside another path of the
// run, nor be or lie inside a calldir output.
func (p *Plan) WriteInto(role, dir string) *Decl {
	return p.add(&Decl{Role: role, Path: dir, kind: kindInto})
}

// MayBe lets a read be output o itself: a build read as --base and
// replaced as --out. It may still not be inside o or contain it.
func (d *Decl) MayBe(o *Output) *Decl {
	d.mayBe = o
	return d
}

func (p *Plan) add(d *Decl) *Decl {
	p.decls = append(p.decls, d)
	return d
}

func (d *Decl) skipped() bool { return d.Path == "" || d.Path == "-" }

func (d *Decl) writes() bool { return d.kind == kindOutput || d.kind == kindFile || d.kind == kindInto }

// How one declared path lies relative to another.
const (
	Same     = "is"
	Inside   = "is inside"
	Contains = "contains"
)

// OverlapError is a write that is, contains or lies inside another
// declared path: Path How Other ("--rejects c.toml is --config c.toml").
// Replaced is set when Other is an output replaced as a whole.
type OverlapError struct {
	Role, Path           string
	How                  string // Same, Inside or Contains
	OtherRole, OtherPath string
	BothWrite            bool // both paths are written
	Replaced             bool // Other is a directory output, replaced as a whole
}

func (e *OverlapError) Error() string {
	s := fmt.Sprintf("%s %s %s %s %s", e.Role, e.Path, e.How, e.OtherRole, e.OtherPath)
	switch {
	case e.How == Inside && e.Replaced:
		return s + ", which is replaced as a whole: it would be deleted"
	case e.How == Same && e.BothWrite:
		return s + ": one would be lost"
	case e.How == Same:
		return fmt.Sprintf("%s %s is the %s %s: writing it would destroy it", e.Role, e.Path, e.OtherRole, e.OtherPath)
	}
	return s + ": refusing to write one inside the other"
}

// place is a declared path, resolved.
type place struct {
	d   *Decl
	abs string   // absolute, symlinks resolved as far as it exists
	id  fileID   // the path's own identity; zero when it does not exist
	up  []fileID // the identities of its existing ancestors
	dev bool     // a character device or FIFO: written through, never replaced
}

// Check refuses, before any work, every declared write that is, contains
// or is inside another declared path (a *OverlapError), and every output
// that may not be replaced (a *ForeignError, a mount point).
func (p *Plan) Check() error {
	var places []place
	for _, d := range p.decls {
		if d.skipped() {
			continue
		}
		pl, err := resolve(d)
		if err != nil {
			return err
		}
		places = append(places, pl)
	}
	for i, a := range places {
		for j, b := range places {
			if i == j || !a.d.writes() || (b.d.writes() && j < i) {
				continue
			}
			if err := overlap(a, b); err != nil {
				return err
			}
		}
	}
	for _, pl := range places {
		if pl.d.writes() || pl.d.kind == kindScratch {
			if err := insideOutput(pl); err != nil {
				return err
			}
		}
	}
	for _, d := range p.decls {
		if d.kind == kindOutput && !d.skipped() {
			if err := d.out.check(); err != nil {
				return err
			}
		}
	}
	return nil
}

// InsideOutputError is a write inside a directory output calldir made
// (a build, a delta, an export) that the run does not replace: a file
// added there, or one replaced, makes it fail validation.
type InsideOutputError struct {
	Role, Path string
	Output     string // the output's directory
	Kind       string // its kind: "build"
	Is         bool   // the path is the output itself (files would be added to it)
}

func (e *InsideOutputError) Error() string {
	where := "is inside"
	if e.Is {
		where = "is"
	}
	return fmt.Sprintf("%s %s %s the calldir %s %s: a file written there makes it fail validation", e.Role, e.Path, where, e.Kind, e.Output)
}

// insideOutput refuses a write lying inside a directory that is a calldir
// output: each ancestor holding a registered manifest that decodes as one.
func insideOutput(pl place) error {
	start := filepath.Dir(pl.abs)
	if pl.d.kind == kindInto {
		start = pl.abs // its files go inside it
	}
	for dir := start; ; dir = filepath.Dir(dir) {
		for _, m := range known() {
			fi, err := os.Lstat(filepath.Join(dir, m.Manifest))
			if err != nil || !fi.Mode().IsRegular() {
				continue
			}
			if _, err := readManifest(dir, m); err == nil {
				return &InsideOutputError{Role: pl.d.Role, Path: pl.d.Path, Output: dir, Kind: m.Kind, Is: dir == pl.abs}
			}
		}
		if filepath.Dir(dir) == dir {
			return nil
		}
	}
}

// overlap checks write a against b.
func overlap(a, b place) error {
	if a.dev || b.dev {
		return nil // /dev/null or a pipe twice: written through, nothing is replaced
	}
	how := relation(a, b)
	if how == "" {
		return nil
	}
	if how == Same && b.d.mayBe != nil && b.d.mayBe.decl == a.d {
		return nil
	}
	if b.d.kind == kindScratch && how == Inside {
		return nil // outputs inside the scratch directory are fine
	}
	if b.d.kind == kindRead && how == Inside {
		return nil // a file read is no directory: its own open says so
	}
	e := &OverlapError{Role: a.d.Role, Path: a.d.Path, How: how, OtherRole: b.d.Role, OtherPath: b.d.Path, BothWrite: b.d.writes()}
	if how == Contains { // said from the inner path
		e = &OverlapError{Role: b.d.Role, Path: b.d.Path, How: Inside, OtherRole: a.d.Role, OtherPath: a.d.Path, BothWrite: b.d.writes(), Replaced: a.d.kind == kindOutput}
	} else if how == Inside {
		e.Replaced = b.d.kind == kindOutput
	}
	return e
}

// relation says how a lies relative to b: Same, Inside, Contains or "".
func relation(a, b place) string {
	switch {
	case a.abs == b.abs || a.id.ok() && a.id == b.id:
		return Same
	case within(a.abs, b.abs) || b.id.ok() && hasID(a.up, b.id):
		return Inside
	case within(b.abs, a.abs) || a.id.ok() && hasID(b.up, a.id):
		return Contains
	}
	return ""
}

func hasID(ids []fileID, id fileID) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

// within reports whether path lies strictly below dir (both absolute,
// clean).
func within(path, dir string) bool {
	rel, err := filepath.Rel(dir, path)
	return err == nil && rel != "." && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

func resolve(d *Decl) (place, error) {
	abs, err := ResolvePath(d.Path)
	if err != nil {
		return place{}, err
	}
	pl := place{d: d, abs: abs}
	if _, ok := fdPath(d.Path); ok {
		pl.dev = true // a descriptor: written through
	}
	if fi, err := os.Stat(d.Path); err == nil {
		pl.id = identity(fi)
		pl.dev = fi.Mode()&(fs.ModeCharDevice|fs.ModeNamedPipe) != 0
	}
	for dir := filepath.Dir(abs); ; dir = filepath.Dir(dir) {
		if fi, err := os.Stat(dir); err == nil {
			pl.up = append(pl.up, identity(fi))
		}
		if filepath.Dir(dir) == dir {
			break
		}
	}
	return pl, nil
}

// linkTarget is where the symlink at path, reading link, points: a
// relative link is taken from the directory the symlink really is in
// (its parent resolved, as the kernel does), not from its spelling.
func linkTarget(path, link string) string {
	if filepath.IsAbs(link) {
		return filepath.Clean(link)
	}
	dir := filepath.Dir(path)
	if r, err := filepath.EvalSymlinks(dir); err == nil {
		dir = r
	}
	return filepath.Join(dir, link)
}

// ResolvePath makes p absolute with symbolic links resolved, as far as it
// exists: the part that does not exist yet is appended as written, and a
// dangling symlink is followed to the path it would create.
func ResolvePath(p string) (string, error) {
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", err
	}
	rest := ""
	hops := 0
	for cur := abs; ; {
		r, err := filepath.EvalSymlinks(cur)
		if err == nil {
			return filepath.Join(r, rest), nil
		}
		if !errors.Is(err, os.ErrNotExist) {
			// A loop or a /proc link that is not a path: compare as
			// written, and by identity.
			return abs, nil
		}
		if fi, lerr := os.Lstat(cur); lerr == nil && fi.Mode()&fs.ModeSymlink != 0 && hops < maxLinkHops {
			if link, lerr := os.Readlink(cur); lerr == nil {
				cur, hops = linkTarget(cur, link), hops+1
				continue
			}
		}
		parent := filepath.Dir(cur)
		if parent == cur {
			return abs, nil
		}
		rest = filepath.Join(filepath.Base(cur), rest)
		cur = parent
	}
}
