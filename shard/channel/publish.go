package channel

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/calldir/calldir/shard"
	"github.com/calldir/calldir/shard/outfs"
	"github.com/calldir/calldir/validate"
)

// Defaults of publish's options.
const (
	DefaultRetain  = 5                  // deltas from the last 5 targets
	DefaultExpires = 7 * 24 * time.Hour // a pointer is trusted for a week
)

// PublishOptions tune Publish.
type PublishOptions struct {
	Dir  string // the channel directory, made if missing
	Name string // the channel's name; "" keeps the current one, or takes the directory's base name
	Key  ed25519.PrivateKey
	// Retain is how many of the last published targets get a delta to the
	// new one (and stay offered as its bases); 0 offers the target alone.
	Retain  int
	Expires time.Duration // how long after Now the pointer is trusted
	// Now is the publish time; zero means the clock. Tests and fleet
	// simulations set it so that pointers are reproducible.
	Now time.Time
	// Sequence is the new pointer's sequence; 0 means one above the
	// highest published. A sequence at or below that is refused.
	Sequence uint64
	// MaxShrink is the fraction of the current target's entries the new
	// target may drop.
	MaxShrink   float64
	Chunk       int // most entries per delta request
	ToolVersion string
	// KeepHistory keeps every build and delta ever published instead of
	// removing those no live pointer offers: a staging channel whose every
	// pointers/N.json stays servable, as calldir fleet replays them.
	KeepHistory bool
	// Step, when set, is called as each step of a publish completes
	// ("locked", "validated", "build", "delta", "history", "pointer",
	// "cleaned"): tests stop or kill a publish there.
	Step func(step string)
}

// Result is what one publish did.
type Result struct {
	Pointer     *Pointer
	Previous    *Pointer // the pointer replaced; nil for a new channel
	Resigned    bool     // the target was already the channel's: only the pointer is new
	BuildAdded  bool     // builds/<target>/ was written by this publish
	DeltasAdded int      // deltas written by this publish
	Removed     []string // channel-relative directories no pointer offers any more, removed
	// Kept are directories no longer offered that could not be proved
	// calldir's, or not removed, with why: left alone.
	Kept []string
}

// SequenceError is a publish that would not raise the sequence.
type SequenceError struct {
	Dir     string
	Given   uint64 // the sequence asked for
	Highest uint64 // the highest the channel has published
}

// MaxSequenceJump is how far above the highest published sequence an
// explicit one may go: a typo such as 9999999999 would leave no sequence
// to publish the next pointer with (TUF's fast-forward attack, by
// mistake), and devices that trusted it refuse every lower one.
const MaxSequenceJump = 1000

func (e *SequenceError) Error() string {
	if e.Given > MaxSequence {
		return fmt.Sprintf("publish %s: sequence %d is above the largest, %d", e.Dir, e.Given, uint64(MaxSequence))
	}
	if e.Given > e.Highest+MaxSequenceJump {
		return fmt.Sprintf("publish %s: sequence %d is more than %d above %d, the highest the channel has published: devices that took it would refuse every lower sequence, so the channel could not step back (give at most %d)",
			e.Dir, e.Given, MaxSequenceJump, e.Highest, e.Highest+MaxSequenceJump)
	}
	return fmt.Sprintf("publish %s: sequence %d is not above %d, the highest the channel has published: devices would refuse it as a rollback", e.Dir, e.Given, e.Highest)
}

// InvalidBuildError is a build that fails validate: it is never published.
type InvalidBuildError struct {
	Dir      string
	Findings []validate.Finding
}

func (e *InvalidBuildError) Error() string {
	msg := fmt.Sprintf("publish: build %s fails validate with %d finding(s)", e.Dir, len(e.Findings))
	for i, f := range e.Findings {
		if i == 3 {
			msg += fmt.Sprintf("; … and %d more (run calldir validate %s)", len(e.Findings)-3, e.Dir)
			break
		}
		msg += "; " + f.String()
	}
	return msg
}

// ShrinkError is a new target holding too many fewer entries than the
// channel's current one.
type ShrinkError struct {
	Build      string // the new build's directory
	Current    string // the current target's build_id
	Prev, Next int64  // entries
	MaxShrink  float64
}

func (e *ShrinkError) Error() string {
	return fmt.Sprintf("publish: build %s holds %d entries, %d fewer than the %d of the channel's current target %.12s… (%.1f%%, more than %g%% may not be dropped)",
		e.Build, e.Next, e.Prev-e.Next, e.Prev, e.Current, 100*float64(e.Prev-e.Next)/float64(e.Prev), e.MaxShrink*100)
}

// Publish makes build the channel's target: see the package comment for
// the steps and their order. It holds the channel's lock from reading the
// current pointer to replacing it.
func Publish(ctx context.Context, build string, o PublishOptions) (*Result, error) {
	if len(o.Key) != ed25519.PrivateKeySize {
		return nil, errors.New("publish: no signing key")
	}
	if o.Expires <= 0 {
		return nil, fmt.Errorf("publish: expiry %s: want a positive duration", o.Expires)
	}
	step := func(s string) {
		if o.Step != nil {
			o.Step(s)
		}
	}
	now := o.Now
	if now.IsZero() {
		now = time.Now()
	}
	now = now.UTC().Truncate(time.Second)
	dir, err := filepath.Abs(o.Dir)
	if err != nil {
		return nil, err
	}
	var reads outfs.Plan
	reads.ReadDir("BUILD", build)
	if err := reads.Check(); err != nil {
		return nil, err
	}
	// The channel itself may not lie inside a calldir output (a build, a
	// delta, another channel): the same check as for any directory files
	// are added to, made on its parent, where the channel is added.
	var where outfs.Plan
	where.WriteInto("channel", filepath.Dir(dir))
	if err := where.Check(); err != nil {
		var ie *outfs.InsideOutputError
		if errors.As(err, &ie) {
			return nil, fmt.Errorf("publish: --channel %s would be made inside the calldir %s %s: a file written there makes it fail validate; put the channel elsewhere", dir, ie.Kind, ie.Output)
		}
		return nil, err
	}
	if _, err := inspectChannel(dir); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create %s: %w", dir, err)
	}
	unlock, err := outfs.LockDir(dir)
	if err != nil {
		return nil, err
	}
	defer unlock()
	step("locked")
	// Proved again under the lock: another publisher may have changed it.
	highest, err := inspectChannel(dir)
	if err != nil {
		return nil, err
	}
	if err := removeStaleTemps(dir); err != nil {
		return nil, err
	}
	pub := o.Key.Public().(ed25519.PublicKey)
	cur, err := currentPointer(dir, pub)
	if err != nil {
		return nil, err
	}
	res := &Result{Previous: cur}

	name := o.Name
	switch {
	case cur != nil && name == "":
		name = cur.Channel
	case cur != nil && name != cur.Channel:
		return nil, fmt.Errorf("publish %s: the channel is named %q, not %q", dir, cur.Channel, name)
	case name == "":
		name = filepath.Base(dir)
	}
	if err := CheckName(name); err != nil {
		return nil, fmt.Errorf("publish %s: channel name: %w", dir, err)
	}
	last := highest
	if cur != nil {
		last = max(last, cur.Sequence)
	}
	seq := last + 1
	if o.Sequence != 0 {
		seq = o.Sequence
	}
	if seq <= last || seq > MaxSequence || seq-last > MaxSequenceJump {
		return nil, &SequenceError{Dir: dir, Given: seq, Highest: last}
	}
	if cur != nil && now.Before(cur.Published) {
		return nil, fmt.Errorf("publish %s: publish time %s is before %s, when the current pointer (sequence %d) was published: time may not go backwards (check --now or this machine's clock)",
			dir, now.Format(time.RFC3339), cur.Published.UTC().Format(time.RFC3339), cur.Sequence)
	}

	m, mb, err := validBuild(ctx, build)
	if err != nil {
		return nil, err
	}
	id := m.BuildID
	step("validated")
	p := &Pointer{
		Format: PointerFormat, FormatVersion: PointerVersion, Channel: name,
		Sequence: seq, Published: now, Expires: now.Add(o.Expires).Truncate(time.Second), Target: id,
	}
	if cur != nil && cur.Target == id {
		// The same target again: a new sequence and expiry over the same
		// offers, each manifest checked against the hash signed before.
		if err := checkOffers(dir, cur); err != nil {
			return nil, err
		}
		p.Builds, p.Deltas = cur.Builds, cur.Deltas
		res.Resigned = true
	} else {
		if err := addTarget(ctx, dir, build, m, mb, cur, o, p, res, step); err != nil {
			return nil, err
		}
	}
	file, _, err := Sign(o.Key, p)
	if err != nil {
		return nil, err
	}
	hist := filepath.Join(dir, PointersDir)
	if err := os.MkdirAll(hist, 0o755); err != nil {
		return nil, fmt.Errorf("create %s: %w", hist, err)
	}
	if err := outfs.AddFile(hist, HistoryName(seq), file); err != nil {
		return nil, err
	}
	step("history")
	f, err := outfs.CreateFile(filepath.Join(dir, PointerName), false)
	if err != nil {
		return nil, err
	}
	_, err = f.Write(file)
	if err := f.Commit(err); err != nil {
		return nil, err
	}
	res.Pointer = p
	step("pointer")
	if !o.KeepHistory {
		removeUnoffered(dir, p, cur, res)
	}
	step("cleaned")
	return res, nil
}

// currentPointer reads channel.json and checks it with pub: a channel is
// only ever extended by the key that signed it. nil when there is none.
func currentPointer(dir string, pub ed25519.PublicKey) (*Pointer, error) {
	path := filepath.Join(dir, PointerName)
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	data, err := shard.ReadRegular(root, PointerName, MaxPointerBytes)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	p, _, err := Open(data, []ed25519.PublicKey{pub})
	if err != nil {
		return nil, fmt.Errorf("%s: the current pointer does not verify with this key (%s): %w", path, KeyID(pub)[:16], err)
	}
	return p, nil
}

// validBuild validates the build directory and reads its manifest's bytes.
func validBuild(ctx context.Context, dir string) (*shard.Manifest, []byte, error) {
	rep, err := validate.Build(ctx, dir)
	if err != nil {
		return nil, nil, fmt.Errorf("publish: %w", err)
	}
	if len(rep.Findings) > 0 {
		return nil, nil, &InvalidBuildError{Dir: dir, Findings: rep.Findings}
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, nil, err
	}
	defer root.Close()
	mb, err := shard.ReadRegular(root, shard.ManifestName, shard.MaxManifestBytes)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", dir, err)
	}
	m, err := shard.ReadManifest(bytes.NewReader(mb))
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", dir, err)
	}
	if shard.BuildID(m.Shards) != m.BuildID {
		return nil, nil, fmt.Errorf("%s: manifest build_id does not match its shards: changed since it was validated", dir)
	}
	return m, mb, nil
}

// addTarget puts build into the channel as the new target with a delta
// from each of the last o.Retain targets, and fills p's offers.
func addTarget(ctx context.Context, dir, build string, m *shard.Manifest, mb []byte, cur *Pointer, o PublishOptions, p *Pointer, res *Result, step func(string)) error {
	id := m.BuildID
	if cur != nil {
		if err := checkShrink(dir, build, cur, m, o.MaxShrink); err != nil {
			return err
		}
	}
	tdir := filepath.Join(dir, filepath.FromSlash(BuildPath(id)))
	if fi, err := os.Lstat(tdir); err == nil {
		// Published before: it keeps the files it was first published
		// with, and is validated as it is, since it becomes the target.
		if _, err := proveOutput(dir, BuildsDir, id, fs.FileInfoToDirEntry(fi)); err != nil {
			return err
		}
		if _, _, err := validBuild(ctx, tdir); err != nil {
			return err
		}
	} else if err := copyOutput(dir, BuildPath(id), build, shard.BuildMark, buildFiles(m), mb); err != nil {
		return err
	} else {
		res.BuildAdded = true
	}
	step("build")
	offer, err := buildOffer(dir, id)
	if err != nil {
		return err
	}
	p.Builds = []BuildOffer{offer}
	p.Deltas = []DeltaOffer{}
	if cur == nil || o.Retain <= 0 {
		return nil
	}
	var bases []BuildOffer
	for _, b := range cur.Builds {
		if b.ID != id && len(bases) < o.Retain {
			bases = append(bases, b)
		}
	}
	if len(bases) == 0 {
		return nil
	}
	target, err := shard.LoadBuild(tdir)
	if err != nil {
		return err
	}
	scratch, remove, err := outfs.ScratchDir("calldir-publish-")
	if err != nil {
		return err
	}
	defer remove()
	for _, b := range bases {
		if err := ctx.Err(); err != nil {
			return err
		}
		d, added, err := addDelta(ctx, dir, scratch, b, target, o)
		if err != nil {
			return err
		}
		if added {
			res.DeltasAdded++
		}
		p.Builds = append(p.Builds, b)
		p.Deltas = append(p.Deltas, d)
		step("delta")
	}
	return nil
}

// checkShrink refuses a target of another kind than the current one, or
// holding more than maxShrink fewer entries.
func checkShrink(dir, build string, cur *Pointer, m *shard.Manifest, maxShrink float64) error {
	cm, err := readManifest(dir, BuildPath(cur.Target))
	if err != nil {
		return fmt.Errorf("the channel's current target: %w", err)
	}
	// A blocking channel never turns into an identification one (or back):
	// the apps loading it load one kind, and a delta between kinds means
	// nothing.
	if cm.Options.Kind != m.Options.Kind {
		return fmt.Errorf("publish: build %s is a %s build, the channel's current target %.12s… a %s build: a channel carries one kind (publish it to another channel)",
			build, m.Options.Kind, cur.Target, cm.Options.Kind)
	}
	prev, next := cm.Totals.Entries, m.Totals.Entries
	if prev > 0 && next < prev && float64(prev-next)/float64(prev) > maxShrink {
		return &ShrinkError{Build: build, Current: cur.Target, Prev: prev, Next: next, MaxShrink: maxShrink}
	}
	return nil
}

// addDelta makes (or finds) the delta from the offered base to target and
// validates it: base + delta must be exactly the target.
func addDelta(ctx context.Context, dir, scratch string, b BuildOffer, target *shard.Build, o PublishOptions) (DeltaOffer, bool, error) {
	if err := checkOffer(dir, b.ManifestPath(), b.ManifestSHA256); err != nil {
		return DeltaOffer{}, false, err
	}
	base, err := shard.LoadBuild(filepath.Join(dir, filepath.FromSlash(BuildPath(b.ID))))
	if err != nil {
		return DeltaOffer{}, false, err
	}
	id := target.Manifest.BuildID
	rel := DeltaPath(b.ID, id)
	ddir := filepath.Join(dir, filepath.FromSlash(rel))
	added := false
	if fi, err := os.Lstat(ddir); err == nil {
		if _, err := proveOutput(dir, DeltasDir, b.ID+"-"+id, fs.FileInfoToDirEntry(fi)); err != nil {
			return DeltaOffer{}, false, err
		}
	} else {
		tmp := filepath.Join(scratch, b.ID)
		dm, err := computeDelta(ctx, tmp, base, target, o.Chunk, o.ToolVersion)
		if err != nil {
			return DeltaOffer{}, false, fmt.Errorf("delta from %.12s…: %w", b.ID, err)
		}
		root, err := os.OpenRoot(tmp)
		if err != nil {
			return DeltaOffer{}, false, err
		}
		dmb, err := shard.ReadRegular(root, shard.DeltaManifestName, shard.MaxManifestBytes)
		root.Close()
		if err != nil {
			return DeltaOffer{}, false, err
		}
		if err := copyOutput(dir, rel, tmp, shard.DeltaMark, deltaFiles(dm), dmb); err != nil {
			return DeltaOffer{}, false, err
		}
		added = true
	}
	rep, err := validate.Delta(ctx, ddir, base, target)
	if err != nil {
		return DeltaOffer{}, false, err
	}
	if len(rep.Findings) > 0 {
		return DeltaOffer{}, false, fmt.Errorf("publish: delta %s fails validate with %d finding(s), first: %s", ddir, len(rep.Findings), rep.Findings[0])
	}
	sum, n, err := hashFile(dir, joinRel(rel, shard.DeltaManifestName))
	if err != nil {
		return DeltaOffer{}, false, err
	}
	return DeltaOffer{Base: b.ID, Target: id, ManifestSHA256: sum, ManifestBytes: n}, added, nil
}

func buildOffer(dir, id string) (BuildOffer, error) {
	sum, n, err := hashFile(dir, joinRel(BuildPath(id), shard.ManifestName))
	if err != nil {
		return BuildOffer{}, err
	}
	return BuildOffer{ID: id, ManifestSHA256: sum, ManifestBytes: n}, nil
}

func joinRel(a, b string) string { return a + "/" + b }

// hashFile is the SHA-256 and size of a manifest in the channel.
func hashFile(dir, rel string) (string, int64, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return "", 0, err
	}
	defer root.Close()
	b, err := shard.ReadRegular(root, rel, shard.MaxManifestBytes)
	if err != nil {
		return "", 0, fmt.Errorf("%s: %w", dir, err)
	}
	return sha256Hex(b), int64(len(b)), nil
}

// checkOffer compares a manifest in the channel with the hash a pointer
// signed for it.
func checkOffer(dir, rel, want string) error {
	sum, _, err := hashFile(dir, rel)
	if err != nil {
		return err
	}
	if sum != want {
		return fmt.Errorf("%s: SHA-256 %.12s…, the current pointer signed %.12s…: the channel was changed; run calldir verify-channel", filepath.Join(dir, filepath.FromSlash(rel)), sum, want)
	}
	return nil
}

// checkOffers checks every manifest the pointer offers.
func checkOffers(dir string, p *Pointer) error {
	for _, b := range p.Builds {
		if err := checkOffer(dir, b.ManifestPath(), b.ManifestSHA256); err != nil {
			return err
		}
	}
	for _, d := range p.Deltas {
		if err := checkOffer(dir, d.ManifestPath(), d.ManifestSHA256); err != nil {
			return err
		}
	}
	return nil
}

// removeUnoffered removes the builds and deltas that neither the new
// pointer nor the one it replaced offers: a device that fetched the
// previous pointer a moment ago still finds every file it names.
func removeUnoffered(dir string, p, prev *Pointer, res *Result) {
	keep := map[string]bool{}
	for _, q := range []*Pointer{p, prev} {
		if q == nil {
			continue
		}
		for _, b := range q.Builds {
			keep[BuildPath(b.ID)] = true
		}
		for _, d := range q.Deltas {
			keep[DeltaPath(d.Base, d.Target)] = true
		}
	}
	for _, sub := range []string{BuildsDir, DeltasDir} {
		var names []string
		eachEntry(dir, sub, func(name string, _ fs.DirEntry) error {
			names = append(names, name)
			return nil
		})
		slices.Sort(names)
		for _, name := range names {
			rel := sub + "/" + name
			if keep[rel] {
				continue
			}
			if err := removeOutput(dir, sub, name); err != nil {
				res.Kept = append(res.Kept, fmt.Sprintf("%s: %v", rel, err))
				continue
			}
			res.Removed = append(res.Removed, rel)
		}
	}
}

// readManifest reads the manifest of the build at channel-relative rel.
func readManifest(dir, rel string) (*shard.Manifest, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	b, err := shard.ReadRegular(root, filepath.FromSlash(joinRel(rel, shard.ManifestName)), shard.MaxManifestBytes)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	return shard.ReadManifest(bytes.NewReader(b))
}
