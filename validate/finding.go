// Package validate checks calldir artifacts the way CI needs: every problem
// is collected as a typed Finding (kind, file, shard, line or index, number)
// rather than stopping at the first, so one run shows everything wrong with
// a build directory or a raw list.
package validate

import (
	"cmp"
	"fmt"
	"slices"
)

// Kind classifies a finding. The string values are part of the JSON and
// GitHub output; never rename them.
type Kind string

const (
	KindManifest     Kind = "manifest"          // manifest unreadable, unknown format or version, schema violation
	KindPathEscape   Kind = "path-escape"       // a shard path that leaves the build directory
	KindMissingShard Kind = "missing-shard"     // named in the manifest, absent on disk
	KindStrayFile    Kind = "stray-file"        // present on disk, not in the manifest
	KindHeader       Kind = "header"            // shard header unreadable or inconsistent
	KindSize         Kind = "size"              // shard truncated or extended
	KindChecksum     Kind = "checksum"          // shard body CRC-32C mismatch: damaged
	KindHash         Kind = "sha256"            // file differs from the manifest's SHA-256
	KindOrder        Kind = "order"             // not strictly ascending (CallKit error 3)
	KindDuplicate    Kind = "duplicate"         // equal to the previous number (CallKit error 4)
	KindRange        Kind = "range"             // zero, negative or above CallKit's maximum
	KindLabel        Kind = "label"             // bad label or label index
	KindMismatch     Kind = "manifest-mismatch" // manifest count, range, size or kind differs from the shard
	KindOverlap      Kind = "overlap"           // two shards of a kind overlap or are out of order
	KindCap          Kind = "cap"               // an extension's load above 1,999,999 entries (error 5)
	KindTotals       Kind = "totals"            // manifest totals differ from the shards
	KindReject       Kind = "reject"            // a raw-list line that does not compile
)

// Finding is one problem. Index is the 0-based record index inside Shard,
// when the problem has one.
type Finding struct {
	Kind    Kind   `json:"kind"`
	File    string `json:"file"`
	Shard   string `json:"shard,omitempty"`
	Line    int64  `json:"line,omitempty"`
	Index   *int64 `json:"index,omitempty"`
	Number  int64  `json:"number,omitempty"`
	Reason  string `json:"reason,omitempty"`
	Raw     string `json:"raw,omitempty"`
	Message string `json:"message"`
}

func (f Finding) String() string {
	loc := f.File
	if f.Line > 0 {
		loc = fmt.Sprintf("%s:%d", loc, f.Line)
	}
	if f.Index != nil {
		loc = fmt.Sprintf("%s: record %d", loc, *f.Index)
		if f.Number != 0 {
			loc = fmt.Sprintf("%s (+%d)", loc, f.Number)
		}
	}
	return fmt.Sprintf("%s: %s: %s", loc, f.Kind, f.Message)
}

func idx(i int64) *int64 { return &i }

// Sort orders findings by file, line, index, kind, for stable output.
func Sort(fs []Finding) {
	slices.SortStableFunc(fs, func(a, b Finding) int {
		ai, bi := int64(-1), int64(-1)
		if a.Index != nil {
			ai = *a.Index
		}
		if b.Index != nil {
			bi = *b.Index
		}
		return cmp.Or(cmp.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line), cmp.Compare(ai, bi), cmp.Compare(a.Kind, b.Kind))
	})
}
