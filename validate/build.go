package validate

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/calldir/calldir/shard"
)

// BuildReport is the outcome of checking a build directory.
type BuildReport struct {
	Dir        string    `json:"dir"`
	Shards     int       `json:"shards"`     // shards read in full
	Entries    int64     `json:"entries"`    // records read
	Extensions int       `json:"extensions"` // distinct extensions in the manifest
	Findings   []Finding `json:"findings"`
}

// shardState is what one manifest entry turned out to be on disk.
type shardState struct {
	info shard.ShardInfo
	hdr  shard.Header
	read bool // read in full without a finding
}

// Build checks a build directory: the manifest's schema and version, every
// shard's header, body, order, checksum and labels against the manifest,
// the per-request cap of each extension, totals, and files that are in one
// but not the other. All reads go through an os.Root, so no path in a
// hostile manifest can reach outside dir. The error is only for a directory
// that cannot be opened at all.
func Build(ctx context.Context, dir string) (*BuildReport, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	r := &BuildReport{Dir: dir, Findings: []Finding{}}
	add := func(f Finding) { r.Findings = append(r.Findings, f) }
	display := func(name string) string { return filepath.Join(dir, name) }

	mf, err := shard.OpenRegular(root, shard.ManifestName)
	if err != nil {
		add(Finding{Kind: KindManifest, File: display(shard.ManifestName), Message: "cannot open the manifest: " + errText(err) + " (not a calldir build?)"})
		return r, nil
	}
	m, err := shard.ReadManifest(mf)
	mf.Close()
	if err != nil {
		// The finding's kind already says "manifest".
		add(Finding{Kind: KindManifest, File: display(shard.ManifestName), Message: strings.TrimPrefix(err.Error(), "manifest: ")})
		return r, nil
	}

	claimed := map[string]bool{shard.ManifestName: true}
	states := make([]*shardState, 0, len(m.Shards))
	allRead := true
	exts := map[int]int64{}
	for i, s := range m.Shards {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		st := &shardState{info: s}
		states = append(states, st)
		canonical := fmt.Sprintf("%s-%04d.shard", s.Kind, s.Extension)
		if bad := schemaProblems(s); bad != "" {
			add(Finding{Kind: KindManifest, File: display(shard.ManifestName), Shard: s.File, Message: fmt.Sprintf("shards[%d]: %s", i, bad)})
			allRead = false
			continue
		}
		if !filepath.IsLocal(s.File) || strings.ContainsAny(s.File, `/\`) {
			add(Finding{Kind: KindPathEscape, File: display(shard.ManifestName), Shard: s.File, Message: fmt.Sprintf("shards[%d] names %q: shard paths must be plain file names inside the build directory (expected %s)", i, s.File, canonical)})
			claimed[canonical] = true // the file it should name is accounted for by this finding
			allRead = false
			continue
		}
		if claimed[s.File] {
			add(Finding{Kind: KindManifest, File: display(shard.ManifestName), Shard: s.File, Message: fmt.Sprintf("shards[%d]: %s listed twice", i, s.File)})
			allRead = false
			continue
		}
		claimed[s.File] = true
		r.Findings = append(r.Findings, checkShard(root, display(s.File), st)...)
		if st.read {
			r.Shards++
			r.Entries += int64(st.hdr.Count)
		} else {
			allRead = false
		}
		exts[s.Extension] += int64(st.hdr.Count)
	}
	r.Extensions = len(exts)

	strays, err := strayFiles(root, claimed)
	if err != nil {
		return nil, err
	}
	for _, name := range strays {
		add(Finding{Kind: KindStrayFile, File: display(name), Message: "file not listed in the manifest"})
	}
	r.Findings = append(r.Findings, crossChecks(m, states, exts, allRead, display)...)
	// A build_id that does not match the shards is reported on its own only:
	// any other finding already explains an edited manifest.
	if id := shard.BuildID(m.Shards); m.BuildID != id && len(r.Findings) == 0 {
		add(Finding{Kind: KindManifest, File: display(shard.ManifestName), Message: fmt.Sprintf("build_id %q does not match the shards listed (%s): devices would apply the wrong deltas", clip(m.BuildID), id)})
	}
	Sort(r.Findings)
	return r, nil
}

// schemaProblems returns what is wrong with a manifest entry's fields.
func schemaProblems(s shard.ShardInfo) string {
	var bad []string
	if s.File == "" {
		bad = append(bad, "empty file name")
	}
	if _, err := shard.ParseKind(s.Kind); err != nil {
		bad = append(bad, err.Error())
	}
	if s.Extension < 1 {
		bad = append(bad, fmt.Sprintf("extension %d (want 1 or more)", s.Extension))
	}
	if s.Count < 0 || s.Size < 0 || s.Labels < 0 {
		bad = append(bad, fmt.Sprintf("negative count, size or labels (%d, %d, %d)", s.Count, s.Size, s.Labels))
	}
	if b, err := hex.DecodeString(s.SHA256); err != nil || len(b) != sha256.Size {
		bad = append(bad, fmt.Sprintf("sha256 %q is not 64 hex digits", clip(s.SHA256)))
	}
	return strings.Join(bad, "; ")
}

func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}

// checkShard reads one shard in full and returns its findings: one per root
// cause, the most specific one first.
func checkShard(root *os.Root, file string, st *shardState) []Finding {
	s := st.info
	one := func(k Kind, index *int64, number int64, msg string) []Finding {
		return []Finding{{Kind: k, File: file, Shard: s.File, Index: index, Number: number, Message: msg}}
	}
	f, err := shard.OpenRegular(root, s.File)
	if errors.Is(err, fs.ErrNotExist) {
		return one(KindMissingShard, nil, 0, "listed in the manifest, missing on disk")
	}
	if err != nil {
		return one(KindPathEscape, nil, 0, "cannot open inside the build directory: "+errText(err))
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return one(KindHeader, nil, 0, errText(err))
	}
	if !fi.Mode().IsRegular() {
		return one(KindPathEscape, nil, 0, "not a regular file")
	}
	size := fi.Size()
	var hb [shard.HeaderSize]byte
	if _, err := f.ReadAt(hb[:], 0); err != nil {
		return one(KindSize, nil, 0, fmt.Sprintf("file is %d bytes, shorter than the %d-byte header", size, shard.HeaderSize))
	}
	h := &st.hdr
	if err := h.UnmarshalBinary(hb[:]); err != nil {
		return one(KindHeader, nil, 0, err.Error())
	}
	if h.FileSize() != uint64(size) {
		return sizeFinding(one, h, size)
	}
	// A manifest that disagrees with the header is one finding; the records
	// are still checked, since the header agrees with the file.
	var out []Finding
	if m := mismatches(s, h, size); m != "" {
		out = one(KindMismatch, nil, 0, m)
	}
	// The body checksum is computed independently of the record walk, so a
	// record-level anomaly can be told apart from plain damage.
	crc := crc32.New(crc32.MakeTable(crc32.Castagnoli))
	if _, err := io.Copy(crc, io.NewSectionReader(f, shard.HeaderSize, size-shard.HeaderSize)); err != nil {
		return one(KindHeader, nil, 0, errText(err))
	}
	damaged := crc.Sum32() != h.BodyCRC
	sum := sha256.New()
	rd, err := shard.NewReader(io.TeeReader(io.NewSectionReader(f, 0, size), sum), size)
	if err != nil {
		if damaged {
			return append(out, one(KindChecksum, nil, 0, "body damaged (CRC-32C mismatch): "+err.Error())...)
		}
		return append(out, one(KindLabel, nil, 0, err.Error())...)
	}
	for {
		_, err := rd.Next()
		if err == nil {
			continue
		}
		if errors.Is(err, io.EOF) {
			break
		}
		var fe *shard.FormatError
		if !errors.As(err, &fe) {
			return append(out, one(KindHeader, nil, 0, errText(err))...)
		}
		var at *int64
		if fe.Index >= 0 {
			at = idx(fe.Index)
		}
		if damaged {
			return append(out, one(KindChecksum, at, fe.Number, fmt.Sprintf("body damaged (CRC-32C %08x, header says %08x); first bad record: %s: %s", crc.Sum32(), h.BodyCRC, fe.Field, fe.Msg))...)
		}
		return append(out, one(recordKind(fe.Field), at, fe.Number, fe.Field+": "+fe.Msg)...)
	}
	st.read = true
	if len(out) > 0 {
		return out
	}
	if got := hex.EncodeToString(sum.Sum(nil)); got != s.SHA256 {
		return one(KindHash, nil, 0, fmt.Sprintf("SHA-256 %s, manifest says %s: the file was replaced after the build", got, s.SHA256))
	}
	return nil
}

func recordKind(field string) Kind {
	switch field {
	case "order":
		return KindOrder
	case "duplicate":
		return KindDuplicate
	case "range":
		return KindRange
	case "label index", "padding", "label table":
		return KindLabel
	case "truncated", "size":
		return KindSize
	case "checksum":
		return KindChecksum
	}
	return KindHeader // first/last in the header differ from the body
}

// sizeFinding reports a file whose size differs from its header's, with the
// index of the first record it lacks when it is truncated.
func sizeFinding(one func(Kind, *int64, int64, string) []Finding, h *shard.Header, size int64) []Finding {
	want := h.FileSize()
	if uint64(size) > want {
		return one(KindSize, nil, 0, fmt.Sprintf("%d bytes, header says %d: %d trailing bytes", size, want, uint64(size)-want))
	}
	rs := uint64(h.Kind.RecordSize())
	recStart := want - h.Count*rs
	var at *int64
	if uint64(size) >= recStart {
		at = idx(int64((uint64(size) - recStart) / rs))
	}
	return one(KindSize, at, 0, fmt.Sprintf("truncated: %d bytes, header says %d (%d records)", size, want, h.Count))
}

// mismatches compares a manifest entry with its shard's header.
func mismatches(s shard.ShardInfo, h *shard.Header, size int64) string {
	var d []string
	if s.Kind != h.Kind.String() {
		d = append(d, fmt.Sprintf("kind %s, shard is %s", s.Kind, h.Kind))
	}
	if s.Count != int64(h.Count) {
		d = append(d, fmt.Sprintf("count %d, shard has %d", s.Count, h.Count))
	}
	if s.First != h.First || s.Last != h.Last {
		d = append(d, fmt.Sprintf("range %d..%d, shard has %d..%d", s.First, s.Last, h.First, h.Last))
	}
	if s.Size != size {
		d = append(d, fmt.Sprintf("size %d, file has %d", s.Size, size))
	}
	if s.Labels != int(h.LabelCount) {
		d = append(d, fmt.Sprintf("labels %d, shard has %d", s.Labels, h.LabelCount))
	}
	if len(d) == 0 {
		return ""
	}
	return "manifest says " + strings.Join(d, "; ")
}

// strayFiles lists top-level entries that nothing in the manifest claims.
// Temporary files of an interrupted writer (".name.tmp-…") count too.
func strayFiles(root *os.Root, claimed map[string]bool) ([]string, error) {
	d, err := root.Open(".")
	if err != nil {
		return nil, err
	}
	defer d.Close()
	ents, err := d.ReadDir(-1)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range ents {
		if !claimed[e.Name()] {
			out = append(out, e.Name())
		}
	}
	return out, nil
}

// crossChecks compares shards with each other and with the totals: shards
// of one kind must be in ascending, non-overlapping order (no duplicates
// within a kind), and each extension's load must fit one request.
func crossChecks(m *shard.Manifest, states []*shardState, exts map[int]int64, allRead bool, display func(string) string) []Finding {
	var out []Finding
	last := map[shard.Kind]*shardState{}
	for _, st := range states {
		if !st.read || st.hdr.Count == 0 {
			continue
		}
		if prev := last[st.hdr.Kind]; prev != nil && st.hdr.First <= prev.hdr.Last {
			out = append(out, Finding{Kind: KindOverlap, File: display(st.info.File), Shard: st.info.File, Index: idx(0), Number: st.hdr.First,
				Message: fmt.Sprintf("starts at %d, not above %s's last number %d: duplicates or disorder across %s shards", st.hdr.First, prev.info.File, prev.hdr.Last, st.hdr.Kind)})
		}
		last[st.hdr.Kind] = st
	}
	for ext, n := range exts {
		if n > shard.MaxEntriesPerRequest {
			out = append(out, Finding{Kind: KindCap, File: display(shard.ManifestName),
				Message: fmt.Sprintf("extension %d loads %d entries (blocking + identification) in one request, above CallKit's %d: error %d", ext, n, shard.MaxEntriesPerRequest, shard.ErrorMaximumEntriesExceeded)})
		}
	}
	if allRead {
		var entries int64
		for _, st := range states {
			entries += int64(st.hdr.Count)
		}
		if entries != m.Totals.Entries || len(states) != m.Totals.Shards {
			out = append(out, Finding{Kind: KindTotals, File: display(shard.ManifestName),
				Message: fmt.Sprintf("totals say %d entries in %d shards, the shards hold %d in %d", m.Totals.Entries, m.Totals.Shards, entries, len(states))})
		}
	}
	return out
}

func errText(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}
