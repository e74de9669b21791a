package shard

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
)

// ManifestName is the file that describes a build directory. It is written
// last, so its presence means the build is complete.
const ManifestName = "manifest.json"

// ManifestFormat and ManifestVersion identify the manifest schema.
const (
	ManifestFormat  = "calldir-build"
	ManifestVersion = 1
)

// Manifest describes a build directory: how it was made, from what, and
// every shard in it. Field names are the JSON schema documented in
// docs/FORMAT.md; keep them stable.
type Manifest struct {
	Format        string        `json:"format"`
	FormatVersion int           `json:"format_version"`
	ToolVersion   string        `json:"tool_version"`
	Created       string        `json:"created,omitempty"` // only when SOURCE_DATE_EPOCH is set
	BuildID       string        `json:"build_id"`          // see BuildID
	Base          string        `json:"base,omitempty"`    // build_id of the --base build
	Options       BuildOptions  `json:"options"`
	Inputs        []InputStats  `json:"inputs"`
	Patterns      []PatternInfo `json:"patterns,omitempty"`
	Shards        []ShardInfo   `json:"shards"`
	Totals        Totals        `json:"totals"`
}

// PatternInfo reports what one pattern or range contributed.
type PatternInfo struct {
	Pattern     string `json:"pattern"`
	Source      string `json:"source"`
	Line        int64  `json:"line,omitempty"`
	First       int64  `json:"first"`
	Last        int64  `json:"last"`
	Size        int64  `json:"size"`        // numbers in the range
	Allowlisted int64  `json:"allowlisted"` // of them, removed by the allowlist
	Entries     int64  `json:"entries"`     // size - allowlisted: in the build
}

// BuildOptions are the options that shaped the output.
type BuildOptions struct {
	Kind        string `json:"kind"`
	Region      string `json:"region"`
	Accept      string `json:"accept"`
	MaxPerShard int    `json:"max_per_shard"`
	Format      string `json:"format,omitempty"`
	Column      string `json:"column,omitempty"`
	LabelColumn string `json:"label_column,omitempty"`
	Label       string `json:"label,omitempty"`
}

// InputStats describes one input file and what became of its lines.
type InputStats struct {
	Path   string `json:"path"`
	Role   string `json:"role"` // "source" or "allow"
	SHA256 string `json:"sha256"`
	Bytes  int64  `json:"bytes"`
	Format string `json:"format"` // text, csv, tsv (+gzip)
	// Region is the default region this input was read with when it is
	// not Options.Region (its own region: a [[source]]'s or
	// "PATH;region=XX"); empty means Options.Region. Manifests written
	// before calldir recorded it lack it whatever the input's region was.
	Region     string           `json:"region,omitempty"`
	Lines      int64            `json:"lines"` // candidate lines: accepted + rejected
	Accepted   int64            `json:"accepted"`
	Rejected   int64            `json:"rejected"`
	Reasons    map[string]int64 `json:"rejected_by_reason,omitempty"`
	Extensions int64            `json:"extensions_dropped,omitempty"`
	// Sources only: what became of the accepted numbers.
	Duplicates  int64            `json:"duplicates"`                // repeats within this source
	Across      int64            `json:"duplicates_across_sources"` // also in an earlier source
	Allowlisted int64            `json:"allowlisted"`               // removed by the allowlist
	Entries     int64            `json:"entries"`                   // numbers this source brought into the build
	Patterns    int64            `json:"patterns,omitempty"`        // accepted lines that were patterns or ranges
	ByCountry   map[string]int64 `json:"by_country,omitempty"`      // entries per country calling code
}

// ShardInfo describes one shard file. Extension is the 1-based extension
// (one load request) the shard is meant for.
type ShardInfo struct {
	File      string `json:"file"`
	Kind      string `json:"kind"`
	Extension int    `json:"extension"`
	Count     int64  `json:"count"`
	First     int64  `json:"first"`
	Last      int64  `json:"last"`
	Labels    int    `json:"labels,omitempty"`
	SHA256    string `json:"sha256"`
	Size      int64  `json:"size"`
	// Resplit marks a shard whose extension overflowed its --base range and
	// was split: devices must load it completely, not by delta.
	Resplit bool `json:"resplit,omitempty"`
}

// Totals sums up the build.
type Totals struct {
	Lines          int64 `json:"lines"`
	Accepted       int64 `json:"accepted"`
	Rejected       int64 `json:"rejected"`
	Duplicates     int64 `json:"duplicates"`
	Allowlisted    int64 `json:"allowlisted"`
	LabelConflicts int64 `json:"label_conflicts,omitempty"`
	Entries        int64 `json:"entries"`
	Shards         int   `json:"shards"`
}

// BuildID identifies a build by its content: the SHA-256 of one line per
// shard ("extension kind count first last sha256"), in manifest order. Two
// builds with the same entries in the same extensions have the same ID,
// whatever their inputs' paths or the tool version; a device stores the ID
// of the build it loaded and applies only deltas whose base is that ID.
func BuildID(shards []ShardInfo) string {
	h := sha256.New()
	for _, s := range shards {
		fmt.Fprintf(h, "%d %s %d %d %d %s\n", s.Extension, s.Kind, s.Count, s.First, s.Last, s.SHA256)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Marshal encodes the manifest as indented JSON with a final newline.
func (m *Manifest) Marshal() ([]byte, error) {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// MaxManifestBytes bounds how much of a manifest file is read: a hostile or
// damaged one cannot make a reader allocate without limit.
const MaxManifestBytes = 64 << 20

// ReadManifest decodes a manifest, refusing unknown fields, an unknown
// format or version, and anything past MaxManifestBytes.
func ReadManifest(r io.Reader) (*Manifest, error) {
	var m Manifest
	if err := decodeStrict(r, "manifest", &m); err != nil {
		return nil, err
	}
	if err := checkFormat("manifest", m.Format, ManifestFormat, m.FormatVersion, ManifestVersion); err != nil {
		return nil, err
	}
	return &m, nil
}

// decodeStrict decodes one JSON object of at most MaxManifestBytes into v,
// refusing unknown fields and anything after the object; what names the
// document in errors.
func decodeStrict(r io.Reader, what string, v any) error {
	lr := &io.LimitedReader{R: r, N: MaxManifestBytes + 1}
	dec := json.NewDecoder(lr)
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	// The limit lets one byte past MaxManifestBytes through to detect an
	// oversized file, so check it whether or not decoding succeeded: a
	// value of exactly MaxManifestBytes+1 bytes decodes.
	if lr.N <= 0 {
		return fmt.Errorf("%s larger than %d bytes", what, MaxManifestBytes)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return fmt.Errorf("%s: data after the JSON object", what)
	}
	return nil
}

// checkFormat refuses a document of another format or version.
func checkFormat(what, format, want string, version, wantVersion int) error {
	if format != want {
		return fmt.Errorf("%s: format %q, want %q", what, format, want)
	}
	if version != wantVersion {
		return fmt.Errorf("%s: format_version %d, this calldir reads %d", what, version, wantVersion)
	}
	return nil
}
