package refresh

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"time"

	"github.com/calldir/calldir/shard"
	"github.com/calldir/calldir/shard/channel"
	"github.com/calldir/calldir/shard/outfs"
	"github.com/calldir/calldir/validate/verifier/plan"
)

// State is what the app keeps in its App Group container across launches.
type State struct {
	Stored  map[int]string // build ID per extension number, only after a load that succeeded
	Highest uint64         // the highest pointer sequence trusted (rollback)
	Boot    uint64         // the device's boot the stored IDs belong to (Device.Boot)
	// Jobs are, per extension, the last complete load the app asked for:
	// what a request the app did not start (the user switching the
	// extension on) loads.
	Jobs map[int]Request
	// Served is, per extension, its request counter when the app's own
	// last request ended.
	Served map[int]uint64
}

// NewState is an app's state before its first refresh.
func NewState() *State {
	return &State{Stored: map[int]string{}, Jobs: map[int]Request{}, Served: map[int]uint64{}}
}

// File is one checked file of a request, in the client's container.
type File struct {
	Path   string
	Kind   plan.OpKind // block, identify, remove-block, remove-identify
	SHA256 string
}

// Request is one reloadExtension: the extension, whether the app asks
// isIncremental (a delta's request), and the files the extension sends.
type Request struct {
	Ext         int
	Incremental bool
	RemoveAll   bool
	Files       []File
	// Shard is the target's files, when the client has them, for a delta
	// request the system makes complete (the extension then loads these).
	Shard []File
}

// Device is the phone as the app sees it.
type Device interface {
	// Reload asks for one reload and reports whether the system ran it
	// incrementally; a nil error only when the request succeeded. An
	// *AbortError means the app is gone (killed, the power failed): the
	// refresh ends at once.
	Reload(ctx context.Context, r Request) (incremental bool, err error)
	// Boot identifies the device's current boot (iOS: kern.boottime).
	Boot() uint64
	// Enabled is the user's switch for the extension
	// (getEnabledStatusForExtension).
	Enabled(ext int) bool
	// Served is how many requests the extension has served, whoever
	// started them (a counter it keeps in the App Group).
	Served(ext int) uint64
}

// AbortError ends a refresh in the middle: the app did not survive.
type AbortError struct{ Why string }

func (e *AbortError) Error() string { return "aborted: " + e.Why }

// Client is the app's refresh of one channel.
type Client struct {
	Base       string       // the channel's URL, without the trailing slash
	HTTP       *http.Client // with the app's timeout
	Keys       []ed25519.PublicKey
	Dir        string // the container: checked files, named by their SHA-256
	Extensions []int  // the app's extensions, by manifest number
	Mutation   Mutation
}

// Result is what one refresh did.
type Result struct {
	Reached   string   // the last step begun (a Steps name)
	Trace     []string // every step begun, in order (a step of each extension once per extension)
	Sequence  uint64   // the pointer's, once decoded
	Target    string
	Payload   []byte // the pointer payload the client trusted (nil: none)
	Requests  int    // reloads asked for
	Deltas    int    // extensions brought to the target by a delta
	Completes int    // complete loads that succeeded
	Err       error  // why the refresh did not bring every extension to the target
	Aborted   bool   // the app was gone before the end
}

// Done says whether every extension now stores the target.
func (r Result) Done() bool { return r.Err == nil && !r.Aborted }

type run struct {
	c   *Client
	ctx context.Context
	res *Result
}

// Refresh runs Steps once at time now.
func (c *Client) Refresh(ctx context.Context, now time.Time, st *State, dev Device) (res Result) {
	r := &run{c: c, ctx: ctx, res: &res}
	step := func(name string) {
		if res.Reached != name {
			res.Trace = append(res.Trace, name)
		}
		res.Reached = name
	}
	fail := func(err error) Result {
		res.Err = fmt.Errorf("%s: %w", res.Reached, err)
		var ab *AbortError
		res.Aborted = errors.As(err, &ab)
		return res
	}

	step("reboot")
	if st.Boot != dev.Boot() {
		clear(st.Stored)
		st.Boot = dev.Boot()
	}

	step("enabled")
	for _, ext := range c.Extensions {
		if !dev.Enabled(ext) {
			delete(st.Stored, ext)
		}
	}
	step("foreign")
	for _, ext := range c.Extensions {
		if dev.Served(ext) != st.Served[ext] {
			delete(st.Stored, ext)
			st.Served[ext] = dev.Served(ext)
		}
	}

	step("fetch")
	env, err := r.get(channel.PointerName, channel.MaxPointerBytes)
	if err != nil {
		return fail(err)
	}
	step("signature")
	var p *channel.Pointer
	var payload []byte
	if c.Mutation == SkipSignature {
		_, payload, err = channel.Decode(env)
		if err == nil {
			p, err = channel.ReadPointer(bytes.NewReader(payload))
		}
	} else {
		p, payload, err = channel.Open(env, c.Keys)
	}
	if err != nil {
		return fail(err)
	}
	res.Sequence, res.Target = p.Sequence, p.Target
	step("freeze")
	if !p.Expires.After(now) {
		return fail(fmt.Errorf("pointer %d expired at %s (now %s)", p.Sequence, p.Expires.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339)))
	}
	step("rollback")
	if p.Sequence < st.Highest {
		return fail(fmt.Errorf("pointer %d is below the highest trusted, %d", p.Sequence, st.Highest))
	}
	st.Highest, res.Payload = p.Sequence, payload

	step("choose")
	var delta *shard.DeltaManifest
	var deltaOffer channel.DeltaOffer
	if d, ok := c.pickDelta(p, st); ok {
		deltaOffer = d
		step("download")
		b, err := r.get(d.ManifestPath(), d.ManifestBytes)
		if err == nil {
			err = checkSum(b, d.ManifestSHA256, d.ManifestBytes)
			if err != nil {
				err = fmt.Errorf("%s: %w", d.ManifestPath(), err)
			}
		}
		if err == nil {
			delta, err = shard.ReadDeltaManifest(bytes.NewReader(b))
		}
		if err != nil {
			return fail(err)
		}
		if delta.Format != "calldir-delta" || delta.FormatVersion != 1 || delta.Target != p.Target {
			delta = nil // not a delta this client knows: complete loads
		}
	}
	type plan struct {
		ext       int
		delta     *shard.DeltaExt
		unchanged bool
	}
	var plans []plan
	needBuild := false
	for _, ext := range c.Extensions {
		stored, ok := st.Stored[ext]
		if ok && stored == p.Target {
			continue
		}
		pl := plan{ext: ext}
		if delta != nil && (ok && stored == delta.Base || c.Mutation == AnyBase) {
			pl.unchanged = true
			for i := range delta.Extensions {
				if x := &delta.Extensions[i]; x.Extension == ext {
					pl.unchanged = false
					if x.Mode == shard.ModeIncremental {
						pl.delta = x
					}
				}
			}
		}
		if !pl.unchanged && pl.delta == nil && c.Mutation != NoFallback {
			needBuild = true
		}
		plans = append(plans, pl)
	}

	if res.Reached != "download" {
		step("download")
	}
	deltaFiles := map[int][]Request{}
	for _, pl := range plans {
		if pl.delta == nil {
			continue
		}
		reqs, err := r.deltaRequests(deltaOffer, pl.delta)
		if err != nil {
			return fail(err)
		}
		deltaFiles[pl.ext] = reqs
	}
	var build map[int][]File
	if needBuild {
		if build, err = r.buildFiles(p); err != nil {
			return fail(err)
		}
	}

	var firstErr error
	for _, pl := range plans {
		if pl.unchanged {
			step("store")
			st.Stored[pl.ext] = p.Target
			continue
		}
		step("clear")
		delete(st.Stored, pl.ext)
		if c.Mutation == StoreEarly {
			st.Stored[pl.ext] = p.Target
		}
		done := false
		if pl.delta != nil {
			step("delta")
			reqs := deltaFiles[pl.ext]
			for i, rq := range reqs {
				rq.Shard = build[pl.ext]
				res.Requests++
				inc, err := dev.Reload(ctx, rq)
				var ab *AbortError
				if errors.As(err, &ab) { // the app is gone: it records nothing
					return fail(err)
				}
				st.Served[pl.ext] = dev.Served(pl.ext)
				if err != nil {
					firstErr = errors.Join(firstErr, fmt.Errorf("extension %d: delta request %d of %d: %w", pl.ext, i+1, len(reqs), err))
					break
				}
				if !inc { // made complete: the shard was loaded, if the job had one; load it to be sure
					break
				}
				done = i == len(reqs)-1
			}
			if done {
				res.Deltas++
			}
		}
		if !done && c.Mutation != NoFallback {
			step("complete")
			if build == nil {
				if build, err = r.buildFiles(p); err != nil {
					return fail(err)
				}
			}
			rq := Request{Ext: pl.ext, Files: build[pl.ext]}
			st.Jobs[pl.ext] = rq
			res.Requests++
			_, err := dev.Reload(ctx, rq)
			var ab *AbortError
			switch {
			case errors.As(err, &ab):
				return fail(err)
			case err != nil:
				firstErr = errors.Join(firstErr, fmt.Errorf("extension %d: complete load: %w", pl.ext, err))
			default:
				done = true
				res.Completes++
			}
			if !errors.As(err, &ab) {
				st.Served[pl.ext] = dev.Served(pl.ext)
			}
		}
		if done {
			step("store")
			st.Stored[pl.ext] = p.Target
		} else if firstErr == nil {
			firstErr = fmt.Errorf("extension %d: not loaded", pl.ext)
		}
	}
	if firstErr != nil {
		return fail(firstErr)
	}
	step("store")
	return res
}

// pickDelta is the delta offered from a stored ID (the first extension's
// that has one), or with AnyBase any delta.
func (c *Client) pickDelta(p *channel.Pointer, st *State) (channel.DeltaOffer, bool) {
	for _, ext := range c.Extensions {
		id, ok := st.Stored[ext]
		if !ok || id == p.Target {
			continue
		}
		for _, d := range p.Deltas {
			if d.Base == id {
				return d, true
			}
		}
	}
	if c.Mutation == AnyBase && len(p.Deltas) > 0 {
		for _, ext := range c.Extensions {
			if st.Stored[ext] != p.Target {
				return p.Deltas[0], true
			}
		}
	}
	return channel.DeltaOffer{}, false
}

// deltaRequests downloads and checks one extension's request files.
func (r *run) deltaRequests(d channel.DeltaOffer, x *shard.DeltaExt) ([]Request, error) {
	var out []Request
	for _, req := range x.Requests {
		rq := Request{Ext: x.Extension, Incremental: true, RemoveAll: req.RemoveAll}
		for _, f := range req.Files {
			kind, err := opKind(f.Op, x.Kind)
			if err != nil {
				return nil, err
			}
			local, err := r.fetchChecked(path.Join(channel.DeltaPath(d.Base, d.Target), f.File), f.File, f.SHA256, -1)
			if err != nil {
				return nil, err
			}
			rq.Files = append(rq.Files, File{Path: local, Kind: kind, SHA256: f.SHA256})
		}
		out = append(out, rq)
	}
	return out, nil
}

// buildFiles downloads and checks the target's manifest and shards: the
// files of each extension's complete load, in manifest order.
func (r *run) buildFiles(p *channel.Pointer) (map[int][]File, error) {
	var offer *channel.BuildOffer
	for i := range p.Builds {
		if p.Builds[i].ID == p.Target {
			offer = &p.Builds[i]
		}
	}
	if offer == nil {
		return nil, fmt.Errorf("the pointer does not offer its target %.12s…", p.Target)
	}
	b, err := r.get(offer.ManifestPath(), offer.ManifestBytes)
	if err == nil {
		if err = checkSum(b, offer.ManifestSHA256, offer.ManifestBytes); err != nil {
			err = fmt.Errorf("%s: %w", offer.ManifestPath(), err)
		}
	}
	if err != nil {
		return nil, err
	}
	m, err := shard.ReadManifest(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	if m.BuildID != p.Target {
		return nil, fmt.Errorf("manifest of build %.12s…, the pointer's target is %.12s…", m.BuildID, p.Target)
	}
	out := map[int][]File{}
	for _, s := range m.Shards {
		kind := plan.OpBlock
		if s.Kind == shard.KindIdentify.String() {
			kind = plan.OpIdentify
		}
		local, err := r.fetchChecked(path.Join(channel.BuildPath(p.Target), s.File), s.File, s.SHA256, s.Size)
		if err != nil {
			return nil, err
		}
		out[s.Extension] = append(out[s.Extension], File{Path: local, Kind: kind, SHA256: s.SHA256})
	}
	return out, nil
}

// maxFile bounds a shard or request file without a size in its manifest.
const maxFile = 1 << 30

// fetchChecked downloads rel unless the container holds a file of that
// SHA-256 already, checks it and keeps it under its SHA-256.
func (r *run) fetchChecked(rel, name, sum string, size int64) (string, error) {
	if !filepath.IsLocal(name) || len(sum) != 64 {
		return "", fmt.Errorf("%s: not a file of the channel (name %q, sha256 %q)", rel, name, sum)
	}
	if _, err := hex.DecodeString(sum); err != nil {
		return "", fmt.Errorf("%s: sha256 %q is not hex", rel, sum)
	}
	local := filepath.Join(r.c.Dir, sum)
	if _, err := os.Stat(local); err == nil {
		return local, nil
	}
	limit := size
	if limit < 0 {
		limit = maxFile
	}
	b, err := r.get(rel, limit)
	if err != nil {
		return "", err
	}
	if err := checkSum(b, sum, size); err != nil {
		return "", fmt.Errorf("%s: %w", rel, err)
	}
	f, err := outfs.CreateFile(local, false)
	if err != nil {
		return "", err
	}
	_, werr := f.Write(b)
	if err := f.Commit(werr); err != nil {
		return "", err
	}
	return local, nil
}

// get downloads one file of the channel, at most limit bytes.
func (r *run) get(rel string, limit int64) ([]byte, error) {
	req, err := http.NewRequestWithContext(r.ctx, http.MethodGet, r.c.Base+"/"+rel, nil)
	if err != nil {
		return nil, err
	}
	resp, err := r.c.HTTP.Do(req)
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", rel, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("get %s: %s", rel, resp.Status)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", rel, err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("get %s: larger than %d bytes", rel, limit)
	}
	return b, nil
}

// checkSum checks a download against its signed size (-1: none) and
// SHA-256.
func checkSum(b []byte, sum string, size int64) error {
	if size >= 0 && int64(len(b)) != size {
		return fmt.Errorf("%d bytes, signed size %d", len(b), size)
	}
	h := sha256.Sum256(b)
	if got := hex.EncodeToString(h[:]); got != sum {
		return fmt.Errorf("SHA-256 %.12s…, signed %.12s…", got, sum)
	}
	return nil
}

// opKind maps a delta file's op to the plan op the extension performs.
func opKind(op, kind string) (plan.OpKind, error) {
	ident := kind == shard.KindIdentify.String()
	switch op {
	case shard.OpRemoveBlock:
		return plan.OpRemoveBlock, nil
	case shard.OpRemoveIdentify:
		return plan.OpRemoveIdentify, nil
	case shard.OpAddBlock, shard.OpComplete, shard.OpAddIdentify:
		if ident || op == shard.OpAddIdentify {
			return plan.OpIdentify, nil
		}
		return plan.OpBlock, nil
	}
	return "", fmt.Errorf("delta op %q unknown", op)
}

// InOrder says whether a trace follows Steps: the steps before clear once
// each in the list's order, then for each extension its steps from clear
// on in the list's order (store may come alone, for an extension a delta
// leaves unchanged).
func InOrder(trace []string) bool {
	index := map[string]int{}
	for i, s := range Steps {
		index[s.Name] = i
	}
	clearAt := index["clear"]
	last := -1
	for _, name := range trace {
		i, ok := index[name]
		switch {
		case !ok:
			return false
		case i > last:
		case last >= clearAt && (i == clearAt || name == "store"):
		default:
			return false
		}
		last = i
	}
	return true
}
