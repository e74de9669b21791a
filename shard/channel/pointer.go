package channel

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/calldir/calldir/shard"
)

// The channel's layout and the pointer's format. docs/CHANNEL.md documents
// every field; keep them stable.
const (
	PointerName = "channel.json" // the signed pointer, at the channel's root
	BuildsDir   = "builds"       // builds/<build_id>/
	DeltasDir   = "deltas"       // deltas/<base>-<target>/
	PointersDir = "pointers"     // pointers/<sequence>.json, every pointer published

	PointerFormat  = "calldir-channel"
	PointerVersion = 1
	// PayloadType is the DSSE payloadType of a pointer: an
	// application-specific media type, covered by the signature.
	PayloadType = "application/vnd.calldir.channel+json"

	// MaxPointerBytes bounds channel.json (and each pointers/ file): a
	// pointer offering a dozen builds and deltas is about 3 KiB, so 1 MiB
	// only stops a hostile or endless one.
	MaxPointerBytes = 1 << 20
	// MaxSequence is the largest sequence: ten digits, the width of the
	// pointers/ file names, so that their lexical order is numeric order
	// (one publish a second for 300 years), and a value every JSON reader,
	// JavaScript's included, holds exactly.
	MaxSequence = 9_999_999_999
	// MaxOffers bounds the builds and deltas one pointer lists.
	MaxOffers = 1000
	// maxName bounds the channel's name, in bytes.
	maxName = 200
)

// Pointer is the payload of channel.json: what the channel offers now.
type Pointer struct {
	Format        string `json:"format"`         // PointerFormat
	FormatVersion int    `json:"format_version"` // PointerVersion
	Channel       string `json:"channel"`        // the channel's name (an app pins it)
	// Sequence grows by at least one with every publish; a device keeps the
	// highest it trusted and refuses a lower one (rollback).
	Sequence  uint64    `json:"sequence"`
	Published time.Time `json:"published"` // RFC 3339, UTC, whole seconds
	// Expires is when a device stops trusting this pointer (freeze): a
	// channel nobody re-publishes goes stale instead of serving one old
	// build forever.
	Expires time.Time `json:"expires"`
	Target  string    `json:"target"` // build_id a device should hold
	// Builds are the builds offered, newest first: Builds[0] is the target,
	// the rest are the bases of Deltas (what devices may still hold).
	Builds []BuildOffer `json:"builds"`
	// Deltas each turn a base of Builds into the target.
	Deltas []DeltaOffer `json:"deltas"`
}

// BuildOffer is one build of the channel, at builds/<ID>/.
type BuildOffer struct {
	ID             string `json:"id"`              // build_id, 64 hex digits
	ManifestSHA256 string `json:"manifest_sha256"` // of builds/<ID>/manifest.json
	ManifestBytes  int64  `json:"manifest_bytes"`  // its size: a download limit
}

// DeltaOffer is one delta of the channel, at deltas/<Base>-<Target>/.
type DeltaOffer struct {
	Base           string `json:"base"`            // build_id it applies to
	Target         string `json:"target"`          // build_id it yields: the pointer's target
	ManifestSHA256 string `json:"manifest_sha256"` // of its delta.json
	ManifestBytes  int64  `json:"manifest_bytes"`
}

// BuildPath is the slash path of build id's directory in a channel.
func BuildPath(id string) string { return BuildsDir + "/" + id }

// DeltaPath is the slash path of the delta from base to target.
func DeltaPath(base, target string) string { return DeltasDir + "/" + base + "-" + target }

// HistoryName is the file name of the pointer of sequence seq in pointers/.
func HistoryName(seq uint64) string { return fmt.Sprintf("%010d.json", seq) }

// ManifestPath is the slash path of the offer's build manifest.
func (b BuildOffer) ManifestPath() string { return path.Join(BuildPath(b.ID), shard.ManifestName) }

// ManifestPath is the slash path of the offer's delta manifest.
func (d DeltaOffer) ManifestPath() string {
	return path.Join(DeltaPath(d.Base, d.Target), shard.DeltaManifestName)
}

// Marshal encodes the pointer as the signed payload: compact JSON, times
// in whole UTC seconds.
func (p *Pointer) Marshal() ([]byte, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	q := *p
	q.Published, q.Expires = p.Published.UTC(), p.Expires.UTC()
	return json.Marshal(&q)
}

// ReadPointer decodes a payload strictly: no unknown field, nothing after
// the object, at most MaxPointerBytes; then Validate.
func ReadPointer(r io.Reader) (*Pointer, error) {
	lr := &io.LimitedReader{R: r, N: MaxPointerBytes + 1}
	dec := json.NewDecoder(lr)
	dec.DisallowUnknownFields()
	var p Pointer
	err := dec.Decode(&p)
	if lr.N <= 0 {
		return nil, fmt.Errorf("pointer larger than %d bytes", MaxPointerBytes)
	}
	if err != nil {
		return nil, fmt.Errorf("pointer: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("pointer: data after the JSON object")
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return &p, nil
}

// Validate refuses a pointer an app would refuse: unknown format, a
// sequence out of range, times out of order, an ID that is not a build_id,
// a target it does not offer, a delta to another build, a duplicate.
func (p *Pointer) Validate() error {
	var bad []string
	badf := func(format string, a ...any) { bad = append(bad, fmt.Sprintf(format, a...)) }
	if p.Format != PointerFormat {
		badf("format %q, want %q", clip(p.Format), PointerFormat)
	}
	if p.FormatVersion != PointerVersion {
		badf("format_version %d, this calldir reads %d", p.FormatVersion, PointerVersion)
	}
	if err := CheckName(p.Channel); err != nil {
		badf("channel: %v", err)
	}
	if p.Sequence < 1 || p.Sequence > MaxSequence {
		badf("sequence %d outside 1..%d", p.Sequence, uint64(MaxSequence))
	}
	if p.Published.IsZero() || p.Expires.IsZero() {
		badf("published and expires are required")
	} else if !p.Expires.After(p.Published) {
		badf("expires %s is not after published %s", p.Expires.UTC().Format(time.RFC3339), p.Published.UTC().Format(time.RFC3339))
	}
	if !IsBuildID(p.Target) {
		badf("target %q is not a build_id (64 lowercase hex digits)", clip(p.Target))
	}
	if len(p.Builds)+len(p.Deltas) > MaxOffers {
		badf("%d builds and deltas, more than %d", len(p.Builds)+len(p.Deltas), MaxOffers)
	}
	builds := map[string]bool{}
	for i, b := range p.Builds {
		if !IsBuildID(b.ID) {
			badf("builds[%d].id %q is not a build_id", i, clip(b.ID))
		}
		if builds[b.ID] {
			badf("builds[%d]: build %.12s… offered twice", i, b.ID)
		}
		builds[b.ID] = true
		if msg := hashProblem(b.ManifestSHA256, b.ManifestBytes); msg != "" {
			badf("builds[%d]: %s", i, msg)
		}
	}
	if len(p.Builds) == 0 || p.Builds[0].ID != p.Target {
		badf("builds[0] must be the target build")
	}
	deltas := map[string]bool{}
	for i, d := range p.Deltas {
		switch {
		case !IsBuildID(d.Base) || !IsBuildID(d.Target):
			badf("deltas[%d]: base and target must be build_ids", i)
		case d.Target != p.Target:
			badf("deltas[%d] leads to %.12s…, not to the target", i, d.Target)
		case d.Base == d.Target:
			badf("deltas[%d] leads from the target to itself", i)
		case !builds[d.Base]:
			badf("deltas[%d]: its base %.12s… is not offered in builds", i, d.Base)
		case deltas[d.Base]:
			badf("deltas[%d]: a second delta from %.12s…", i, d.Base)
		}
		deltas[d.Base] = true
		if msg := hashProblem(d.ManifestSHA256, d.ManifestBytes); msg != "" {
			badf("deltas[%d]: %s", i, msg)
		}
	}
	if len(bad) > 0 {
		return &PointerError{Problems: bad}
	}
	return nil
}

// PointerError is a payload that is not a valid pointer.
type PointerError struct{ Problems []string }

func (e *PointerError) Error() string { return "pointer: " + strings.Join(e.Problems, "; ") }

func hashProblem(sum string, n int64) string {
	if !isHex(sum, 64) {
		return fmt.Sprintf("manifest_sha256 %q is not 64 lowercase hex digits", clip(sum))
	}
	if n < 1 || n > shard.MaxManifestBytes {
		return fmt.Sprintf("manifest_bytes %d outside 1..%d", n, shard.MaxManifestBytes)
	}
	return ""
}

// IsBuildID reports whether s has the form of a build_id: the lowercase
// hex SHA-256 shard.BuildID makes. Only such names become paths.
func IsBuildID(s string) bool { return isHex(s, 64) }

func isHex(s string, n int) bool {
	if len(s) != n || strings.ToLower(s) != s {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}

// CheckName refuses a channel name an app could not compare safely: empty,
// longer than 200 bytes, invalid UTF-8 or holding control characters.
func CheckName(name string) error {
	switch {
	case name == "":
		return errors.New("empty name")
	case len(name) > maxName:
		return fmt.Errorf("name of %d bytes, more than %d", len(name), maxName)
	case !utf8.ValidString(name):
		return errors.New("name is not valid UTF-8")
	case strings.IndexFunc(name, unicode.IsControl) >= 0:
		return fmt.Errorf("name %q holds a control character", name)
	}
	return nil
}

// clip shortens a hostile value for a message.
func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}
