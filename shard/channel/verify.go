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
	"strings"
	"time"

	"github.com/calldir/calldir/shard"
	"github.com/calldir/calldir/shard/outfs"
	"github.com/calldir/calldir/validate"
)

// Finding kinds of a channel, besides validate's own for its builds and
// deltas. The string values are part of the JSON and GitHub output, and of
// the verdicts in fixtures/channel; never rename them.
const (
	KindMissing      validate.Kind = "missing-file"  // a file the pointer names is absent
	KindEnvelope     validate.Kind = "envelope"      // channel.json is not a DSSE envelope of a pointer
	KindSignature    validate.Kind = "signature"     // no trusted key signed it: payload or signature changed, or another key
	KindPointer      validate.Kind = "pointer"       // the signed payload is not a valid pointer
	KindExpired      validate.Kind = "expired"       // past its expiry: a frozen channel
	KindRollback     validate.Kind = "rollback"      // sequence below the lowest still trusted
	KindChannelName  validate.Kind = "channel-name"  // the pointer of another channel
	KindManifestHash validate.Kind = "manifest-hash" // a manifest differs from the SHA-256 the pointer signed
	KindBuildID      validate.Kind = "build-id"      // a manifest of another build than the pointer says
	KindFetch        validate.Kind = "fetch"         // a file that could not be downloaded
	KindNotRegular   validate.Kind = "not-regular"   // a file the channel offers is a FIFO, device or directory
	KindBuildKind    validate.Kind = "build-kind"    // the builds a pointer offers are not all of one kind
)

// VerifyOptions are what an app knows before it trusts a pointer.
type VerifyOptions struct {
	Keys []ed25519.PublicKey // the pinned keys: any one may sign
	Now  time.Time           // the time expiry is judged against; zero: the clock
	// MinSequence is the highest sequence the app trusted before: a
	// pointer below it is a rollback.
	MinSequence uint64
	Channel     string // the channel's name the app expects; "" skips the check
}

// Report is the outcome of checking a channel.
type Report struct {
	Source    string             `json:"source"`
	Channel   string             `json:"channel,omitempty"`
	Sequence  uint64             `json:"sequence,omitempty"`
	Target    string             `json:"target,omitempty"`
	Published *time.Time         `json:"published,omitempty"`
	Expires   *time.Time         `json:"expires,omitempty"`
	Builds    int                `json:"builds"`  // builds offered and checked
	Deltas    int                `json:"deltas"`  // deltas offered and checked
	Shards    int                `json:"shards"`  // shards read in full
	Entries   int64              `json:"entries"` // records read in them
	Findings  []validate.Finding `json:"findings"`
}

// Verify checks the channel in dir the way an app does, collecting
// findings: the envelope and its signature by one of the pinned keys (and
// nothing of the payload is trusted before), the pointer's format, its
// expiry, its sequence against MinSequence, its name; then every build it
// offers (its manifest's SHA-256 against the pointer, then validate's
// checks of every shard) and every delta (the same, then validate's delta
// checks: base + delta is exactly the target). The error is for a
// directory that cannot be read at all.
func Verify(ctx context.Context, dir string, o VerifyOptions) (*Report, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("verify-channel: %w", err)
	}
	defer root.Close()
	now := o.Now
	if now.IsZero() {
		now = time.Now()
	}
	r := &Report{Source: dir, Findings: []validate.Finding{}}
	display := func(rel string) string { return filepath.Join(dir, filepath.FromSlash(rel)) }
	add := func(k validate.Kind, rel, format string, a ...any) {
		r.Findings = append(r.Findings, validate.Finding{Kind: k, File: display(rel), Message: fmt.Sprintf(format, a...)})
	}

	data, err := shard.ReadRegular(root, PointerName, MaxPointerBytes)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		add(KindMissing, PointerName, "no %s: not a release channel, or its pointer was removed", PointerName)
		return r, nil
	case err != nil:
		add(KindEnvelope, PointerName, "cannot read the pointer: %v", err)
		return r, nil
	}
	p, _, err := Open(data, o.Keys)
	if err != nil {
		var ee *EnvelopeError
		var se *SignatureError
		k := KindPointer
		switch {
		case errors.As(err, &ee):
			k = KindEnvelope
		case errors.As(err, &se):
			k = KindSignature
		}
		// The kind already says "envelope" or "signature": the message
		// is the reason alone.
		add(k, PointerName, "%s", strings.TrimPrefix(err.Error(), string(k)+": "))
		return r, nil
	}
	r.Channel, r.Sequence, r.Target = p.Channel, p.Sequence, p.Target
	r.Published, r.Expires = &p.Published, &p.Expires
	if !now.Before(p.Expires) {
		add(KindExpired, PointerName, "expired at %s (now %s): a channel nobody re-published, or an old pointer served again", p.Expires.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	if p.Sequence < o.MinSequence {
		add(KindRollback, PointerName, "sequence %d is below %d, the lowest still trusted: an older pointer served again", p.Sequence, o.MinSequence)
	}
	if o.Channel != "" && p.Channel != o.Channel {
		add(KindChannelName, PointerName, "the pointer of channel %q, not of %q", p.Channel, o.Channel)
	}

	good := map[string]bool{} // builds that passed every check
	var kind, kindOf string   // the first build's kind, and its ID
	for _, b := range p.Builds {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		r.Builds++
		mb, ok := offered(root, b.ManifestPath(), b.ManifestSHA256, b.ManifestBytes, add)
		if !ok {
			continue
		}
		m, err := shard.ReadManifest(bytes.NewReader(mb))
		if err == nil {
			if kind == "" {
				kind, kindOf = m.Options.Kind, b.ID
			} else if m.Options.Kind != kind {
				add(KindBuildKind, b.ManifestPath(), "a %s build, offered with %.12s…, a %s build: a channel carries one kind", m.Options.Kind, kindOf, kind)
			}
		}
		if err == nil && !regularFiles(root, BuildPath(b.ID), buildFiles(m), add) {
			continue
		}
		rep, err2 := validate.Build(ctx, display(BuildPath(b.ID)))
		if err2 != nil {
			return nil, err2
		}
		r.Findings = append(r.Findings, rep.Findings...)
		r.Shards += rep.Shards
		r.Entries += rep.Entries
		if err == nil && m.BuildID != b.ID {
			add(KindBuildID, b.ManifestPath(), "the manifest is of build %.12s…, the pointer offers it as %.12s…", m.BuildID, b.ID)
			continue
		}
		good[b.ID] = err == nil && len(rep.Findings) == 0
	}
	loaded := map[string]*shard.Build{}
	load := func(id string) *shard.Build {
		if !good[id] {
			return nil
		}
		if b, ok := loaded[id]; ok {
			return b
		}
		b, err := shard.LoadBuild(display(BuildPath(id)))
		if err != nil {
			b = nil // validate found nothing; a change since shows in the delta's own checks
		}
		loaded[id] = b
		return b
	}
	for _, d := range p.Deltas {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		r.Deltas++
		db, ok := offered(root, d.ManifestPath(), d.ManifestSHA256, d.ManifestBytes, add)
		if !ok {
			continue
		}
		if dm, err := shard.ReadDeltaManifest(bytes.NewReader(db)); err == nil && !regularFiles(root, DeltaPath(d.Base, d.Target), deltaFiles(dm), add) {
			continue
		}
		base, target := load(d.Base), load(d.Target)
		if base == nil || target == nil {
			base, target = nil, nil // the delta's own files are still checked
		}
		rep, err := validate.Delta(ctx, display(DeltaPath(d.Base, d.Target)), base, target)
		if err != nil {
			return nil, err
		}
		r.Findings = append(r.Findings, rep.Findings...)
	}
	validate.Sort(r.Findings)
	return r, nil
}

// offered reads a manifest the pointer offers and checks it against the
// signed SHA-256; on a problem it adds the finding and returns false.
func offered(root *os.Root, rel, sum string, size int64, add func(validate.Kind, string, string, ...any)) ([]byte, bool) {
	b, err := shard.ReadRegular(root, filepath.FromSlash(rel), shard.MaxManifestBytes)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		add(KindMissing, rel, "offered by the pointer, absent")
		return nil, false
	case err != nil:
		add(KindManifestHash, rel, "cannot read: %v", err)
		return nil, false
	}
	if got := sha256Hex(b); got != sum || int64(len(b)) != size {
		add(KindManifestHash, rel, "SHA-256 %.12s… (%d bytes), the pointer signed %.12s… (%d bytes): the manifest was changed", got, len(b), sum, size)
		return nil, false
	}
	return b, true
}

// regularFiles checks that each file a manifest names, under rel, is a
// regular file before validate opens it: a FIFO there would block the
// open for good. A missing file or a bad name is left to validate.
func regularFiles(root *os.Root, rel string, files []listed, add func(validate.Kind, string, string, ...any)) bool {
	ok := true
	for _, f := range files {
		p := joinRel(rel, f.File)
		if !filepath.IsLocal(filepath.FromSlash(f.File)) {
			continue
		}
		fi, err := root.Lstat(filepath.FromSlash(p))
		if err != nil || fi.Mode().IsRegular() || fi.Mode()&fs.ModeSymlink != 0 && statRegular(root, p) {
			continue
		}
		add(KindNotRegular, p, "%s, not a regular file: not opened", outfs.FileType(fi.Mode()))
		ok = false
	}
	return ok
}

func statRegular(root *os.Root, rel string) bool {
	fi, err := root.Stat(filepath.FromSlash(rel))
	return err != nil || fi.Mode().IsRegular()
}
