package livelookup

import (
	"encoding/json"
	"fmt"
	"io"
)

// ManifestFormat and ManifestVersion identify live-lookup.json.
const (
	ManifestFormat  = "calldir-live-lookup"
	ManifestVersion = 1
)

// MaxManifestBytes bounds how much of a manifest is read.
const MaxManifestBytes = 1 << 20

// Manifest is live-lookup.json: what an export holds, from which builds,
// and the SHA-256 of every file. Field names are documented in
// docs/LIVE-LOOKUP.md; keep them stable.
type Manifest struct {
	Format        string     `json:"format"`
	FormatVersion int        `json:"format_version"`
	ToolVersion   string     `json:"tool_version"`
	KeyForms      []Form     `json:"key_forms"`
	Databases     []Database `json:"databases"`
}

// Database is one KeywordDatabase file and its PIRProcessDatabase
// configuration.
type Database struct {
	Kind    string `json:"kind"`     // "block" or "identity"
	File    string `json:"file"`     // block.binpb or identity.binpb
	BuildID string `json:"build_id"` // the calldir build it was exported from
	Numbers int64  `json:"numbers"`  // entries of the build
	Rows    int64  `json:"rows"`     // keys written: numbers × forms, less numbers without a national form
	// Keys counts the rows per key form; NoNational the numbers that have
	// no national form (their country code has no national format).
	Keys       map[Form]int64 `json:"keys"`
	NoNational int64          `json:"no_national_form,omitempty"`
	Bytes      int64          `json:"bytes"`
	SHA256     string         `json:"sha256"`
	// Identity databases: the values every row shares, the icons used and
	// the largest value written (bytes).
	Category           string `json:"category,omitempty"`
	CacheExpiryMinutes uint32 `json:"cache_expiry_minutes,omitempty"`
	Icons              int64  `json:"icons,omitempty"`
	IconsUnused        int64  `json:"icons_unused,omitempty"` // icons of numbers not in the build
	MaxValueBytes      int    `json:"max_value_bytes"`
	// Config is the PIRProcessDatabase configuration written beside it,
	// with its SHA-256 and the shard count it asks for.
	Config       string `json:"config"`
	ConfigSHA256 string `json:"config_sha256"`
	Shards       int    `json:"shards"`
}

// Files lists every file the manifest names, itself excluded.
func (m *Manifest) Files() []string {
	var fs []string
	for _, d := range m.Databases {
		fs = append(fs, d.File, d.Config)
	}
	return fs
}

// Marshal encodes the manifest as indented JSON with a final newline.
func (m *Manifest) Marshal() ([]byte, error) {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// ReadManifest decodes live-lookup.json, refusing unknown fields, an
// unknown format or version, a file past MaxManifestBytes, and a database
// whose kind or file names are not the ones an export writes.
func ReadManifest(r io.Reader) (*Manifest, error) {
	lr := &io.LimitedReader{R: r, N: MaxManifestBytes + 1}
	dec := json.NewDecoder(lr)
	dec.DisallowUnknownFields()
	var m Manifest
	err := dec.Decode(&m)
	if lr.N <= 0 {
		return nil, fmt.Errorf("manifest larger than %d bytes", MaxManifestBytes)
	}
	if err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("manifest: data after the JSON object")
	}
	if m.Format != ManifestFormat {
		return nil, fmt.Errorf("manifest: format %q, want %q", m.Format, ManifestFormat)
	}
	if m.FormatVersion != ManifestVersion {
		return nil, fmt.Errorf("manifest: format_version %d, this calldir reads %d", m.FormatVersion, ManifestVersion)
	}
	seen := map[string]bool{}
	for i, d := range m.Databases {
		file, config := filesOf(d.Kind)
		if file == "" || d.File != file || d.Config != config || seen[d.Kind] {
			return nil, fmt.Errorf("manifest: databases[%d]: kind %q with files %q and %q: want block (%s, %s) or identity (%s, %s), once each",
				i, d.Kind, d.File, d.Config, BlockFile, BlockConfigFile, IdentityFile, IdentityConfigFile)
		}
		seen[d.Kind] = true
	}
	return &m, nil
}

// filesOf returns the database and configuration file names of a kind.
func filesOf(kind string) (file, config string) {
	switch kind {
	case "block":
		return BlockFile, BlockConfigFile
	case "identity":
		return IdentityFile, IdentityConfigFile
	}
	return "", ""
}
