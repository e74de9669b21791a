package shard

import (
	"encoding/json"
	"io"
)

// DeltaManifestName is the file that describes a delta directory.
const DeltaManifestName = "delta.json"

// DeltaFormat and DeltaVersion identify the delta manifest schema.
const (
	DeltaFormat  = "calldir-delta"
	DeltaVersion = 1
)

// Delta modes of one extension.
const (
	ModeIncremental = "incremental" // apply the requests, in order, as incremental loads
	ModeComplete    = "complete"    // load the target shard completely (new or re-split extension)
	ModeClear       = "clear"       // the extension is gone from the target: remove all
)

// Delta ops of a request file.
const (
	OpRemoveBlock    = "remove-block"
	OpRemoveIdentify = "remove-identify"
	OpAddBlock       = "add-block"
	OpAddIdentify    = "add-identify"
	OpComplete       = "complete"
)

// DeltaManifest describes how to turn the build Base into the build Target
// on a device: per extension, a mode and the incremental requests.
type DeltaManifest struct {
	Format        string       `json:"format"`
	FormatVersion int          `json:"format_version"`
	ToolVersion   string       `json:"tool_version"`
	Base          string       `json:"base"`   // build_id the delta applies to
	Target        string       `json:"target"` // build_id after it is applied
	Chunk         int          `json:"chunk"`  // most entries per request
	Extensions    []DeltaExt   `json:"extensions"`
	Summary       DeltaSummary `json:"summary"`
}

// DeltaExt is one extension's part of a delta. Unchanged extensions are
// not listed.
type DeltaExt struct {
	Extension  int            `json:"extension"`
	Kind       string         `json:"kind"`
	Mode       string         `json:"mode"`
	Added      int64          `json:"added,omitempty"`
	Removed    int64          `json:"removed,omitempty"`
	Relabelled int64          `json:"relabelled,omitempty"`
	Requests   []DeltaRequest `json:"requests,omitempty"`
}

// DeltaRequest is one load request: its files are applied in order (removals
// before additions).
type DeltaRequest struct {
	RemoveAll bool        `json:"remove_all,omitempty"`
	Files     []DeltaFile `json:"files,omitempty"`
}

// DeltaFile is one shard file of a request.
type DeltaFile struct {
	File   string `json:"file"`
	Op     string `json:"op"`
	Count  int64  `json:"count"`
	SHA256 string `json:"sha256"`
}

// DeltaSummary counts the changes, in all and per country calling code.
type DeltaSummary struct {
	Added      int64                   `json:"added"`
	Removed    int64                   `json:"removed"`
	Relabelled int64                   `json:"relabelled,omitempty"`
	ByCountry  map[string]CountryDelta `json:"by_country,omitempty"`
}

// CountryDelta counts the changes of one country calling code.
type CountryDelta struct {
	Added      int64 `json:"added,omitempty"`
	Removed    int64 `json:"removed,omitempty"`
	Relabelled int64 `json:"relabelled,omitempty"`
}

// Marshal encodes the delta manifest as compact JSON with a final newline:
// a delta is what devices download, so every byte counts.
func (d *DeltaManifest) Marshal() ([]byte, error) {
	b, err := json.Marshal(d)
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// ReadDeltaManifest decodes a delta manifest with the same limits and
// strictness as ReadManifest.
func ReadDeltaManifest(r io.Reader) (*DeltaManifest, error) {
	var d DeltaManifest
	if err := decodeStrict(r, "delta manifest", &d); err != nil {
		return nil, err
	}
	if err := checkFormat("delta manifest", d.Format, DeltaFormat, d.FormatVersion, DeltaVersion); err != nil {
		return nil, err
	}
	return &d, nil
}
