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
// GitHub output; never rename them. What each one means is its Help
// (kinds.go), the one description the CLI and docs/CLI.md print.
type Kind string

const (
	KindManifest     Kind = "manifest"
	KindPathEscape   Kind = "path-escape"
	KindMissingShard Kind = "missing-shard"
	KindStrayFile    Kind = "stray-file"
	KindHeader       Kind = "header"
	KindSize         Kind = "size"
	KindChecksum     Kind = "checksum"
	KindHash         Kind = "sha256"
	KindOrder        Kind = "order"
	KindDuplicate    Kind = "duplicate"
	KindRange        Kind = "range"
	KindLabel        Kind = "label"
	KindMismatch     Kind = "manifest-mismatch"
	KindOverlap      Kind = "overlap"
	KindCap          Kind = "cap"
	KindTotals       Kind = "totals"
	KindReject       Kind = "reject"
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
