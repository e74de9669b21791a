package validate

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/calldir/calldir/shard"
)

// Finding kinds of delta directories.
const (
	KindBase       Kind = "base"        // the delta's base or target is not the build given
	KindChunk      Kind = "chunk"       // a request above the delta's chunk size or CallKit's cap
	KindDeltaEntry Kind = "delta-entry" // a removal absent from the base, an addition already in it
)

// DeltaReport is the outcome of checking a delta directory.
type DeltaReport struct {
	Dir      string    `json:"dir"`
	Requests int       `json:"requests"`
	Entries  int64     `json:"entries"` // entries in the delta's files
	Findings []Finding `json:"findings"`
}

// IsDelta reports whether dir is a delta directory.
func IsDelta(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, shard.DeltaManifestName))
	return err == nil
}

// Delta checks a delta directory: its manifest; every request's files (in
// the directory, present, the SHA-256 the manifest names, readable shards,
// strictly ascending, counts) and sizes (chunk, CallKit's cap); the ops
// against each extension's mode and kind; files not listed. With the base
// build (nil to skip): the base's build_id, removals that exist in the base
// and additions absent from it (after the delta's removals), the UNIQUE
// failure a device would hit. With the target build too: the target's
// build_id, and that the base plus the delta is exactly the target.
func Delta(ctx context.Context, dir string, base, target *shard.Build) (*DeltaReport, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	r := &DeltaReport{Dir: dir, Findings: []Finding{}}
	add := func(f Finding) { r.Findings = append(r.Findings, f) }
	mpath := filepath.Join(dir, shard.DeltaManifestName)
	mf, err := shard.OpenRegular(root, shard.DeltaManifestName)
	if err != nil {
		add(Finding{Kind: KindManifest, File: mpath, Message: "cannot open the delta manifest: " + errText(err)})
		return r, nil
	}
	dm, err := shard.ReadDeltaManifest(mf)
	mf.Close()
	if err != nil {
		add(Finding{Kind: KindManifest, File: mpath, Message: strings.TrimPrefix(err.Error(), "delta manifest: ")})
		return r, nil
	}
	if dm.Chunk < 1 || dm.Chunk > shard.MaxEntriesPerRequest {
		add(Finding{Kind: KindManifest, File: mpath, Message: fmt.Sprintf("chunk %d outside 1..%d", dm.Chunk, shard.MaxEntriesPerRequest)})
	}
	if base != nil && base.Manifest.BuildID != dm.Base {
		add(Finding{Kind: KindBase, File: mpath, Message: fmt.Sprintf("delta applies to build %.12s…, the base given is %.12s… (%s)", dm.Base, base.Manifest.BuildID, base.Dir)})
		base, target = nil, nil // entry checks against the wrong base would only add noise
	}
	if target != nil && target.Manifest.BuildID != dm.Target {
		add(Finding{Kind: KindBase, File: mpath, Message: fmt.Sprintf("delta leads to build %.12s…, the target given is %.12s… (%s)", dm.Target, target.Manifest.BuildID, target.Dir)})
		target = nil
	}
	claimed := map[string]bool{shard.DeltaManifestName: true}
	result := map[int]*shard.ExtEntries{} // base + delta, per extension, when base is known
	if base != nil {
		for e, x := range base.Exts {
			result[e] = &shard.ExtEntries{Kind: x.Kind, Numbers: slices.Clone(x.Numbers), Labels: slices.Clone(x.Labels)}
		}
	}
	for _, x := range dm.Extensions {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		kind, err := shard.ParseKind(x.Kind)
		if err != nil || x.Extension < 1 {
			add(Finding{Kind: KindManifest, File: mpath, Message: fmt.Sprintf("extension %d: bad extension number or kind %q", x.Extension, x.Kind)})
			continue
		}
		cur := result[x.Extension]
		if x.Mode == shard.ModeComplete || cur == nil {
			cur = &shard.ExtEntries{Kind: kind}
		}
		for ri, req := range x.Requests {
			r.Requests++
			var total int64
			if req.RemoveAll {
				if x.Mode != shard.ModeClear && x.Mode != shard.ModeIncremental {
					add(Finding{Kind: KindManifest, File: mpath, Message: fmt.Sprintf("extension %d: remove_all in a %s extension", x.Extension, x.Mode)})
				}
				cur = &shard.ExtEntries{Kind: kind}
			}
			for _, f := range req.Files {
				claimed[f.File] = true
				display := filepath.Join(dir, filepath.FromSlash(f.File))
				if bad := opProblem(x.Mode, kind, f.Op); bad != "" {
					add(Finding{Kind: KindManifest, File: mpath, Shard: f.File, Message: fmt.Sprintf("extension %d request %d: %s", x.Extension, ri+1, bad)})
					continue
				}
				nums, labels, fs := readDeltaFile(root, display, f)
				r.Findings = append(r.Findings, fs...)
				if len(fs) > 0 {
					continue
				}
				total += int64(len(nums))
				r.Entries += int64(len(nums))
				if base != nil {
					r.Findings = append(r.Findings, applyDeltaFile(cur, f, display, nums, labels)...)
				}
			}
			limit := int64(dm.Chunk)
			if x.Mode == shard.ModeComplete {
				limit = shard.MaxEntriesPerRequest
			}
			if total > limit {
				add(Finding{Kind: KindChunk, File: mpath, Message: fmt.Sprintf("extension %d request %d adds and removes %d entries, above %d", x.Extension, ri+1, total, limit)})
			}
		}
		if len(cur.Numbers) == 0 && x.Mode == shard.ModeClear {
			delete(result, x.Extension)
		} else {
			result[x.Extension] = cur
		}
	}
	strays, err := deltaStrays(root, claimed)
	if err != nil {
		return nil, err
	}
	for _, s := range strays {
		add(Finding{Kind: KindStrayFile, File: filepath.Join(dir, s), Message: "file not listed in the delta manifest"})
	}
	if target != nil && len(r.Findings) == 0 {
		r.Findings = append(r.Findings, compareWithTarget(result, target, mpath)...)
	}
	Sort(r.Findings)
	return r, nil
}

// opProblem says what is wrong with an op in an extension of this mode and
// kind, or "".
func opProblem(mode string, kind shard.Kind, op string) string {
	ident := kind == shard.KindIdentify
	switch {
	case mode == shard.ModeComplete && op == shard.OpComplete:
	case mode == shard.ModeIncremental && (op == shard.OpRemoveBlock || op == shard.OpAddBlock) && !ident:
	case mode == shard.ModeIncremental && (op == shard.OpRemoveIdentify || op == shard.OpAddIdentify) && ident:
	default:
		return fmt.Sprintf("op %q does not belong in a %s %s extension", op, mode, kind)
	}
	return ""
}

// readDeltaFile reads one request file through the root, checking it is
// inside the delta, present, the SHA-256 named, a valid shard (strictly
// ascending) with the count named.
func readDeltaFile(root *os.Root, display string, df shard.DeltaFile) ([]int64, []string, []Finding) {
	one := func(k Kind, at *int64, n int64, msg string) []Finding {
		return []Finding{{Kind: k, File: display, Shard: df.File, Index: at, Number: n, Message: msg}}
	}
	name := filepath.FromSlash(df.File)
	if !filepath.IsLocal(name) {
		return nil, nil, one(KindPathEscape, nil, 0, fmt.Sprintf("%q leaves the delta directory", df.File))
	}
	f, err := shard.OpenRegular(root, name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, one(KindMissingShard, nil, 0, "listed in the delta manifest, missing on disk")
	}
	if err != nil {
		return nil, nil, one(KindPathEscape, nil, 0, "cannot open inside the delta directory: "+errText(err))
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		return nil, nil, one(KindPathEscape, nil, 0, "not a regular file")
	}
	sum := sha256.New()
	rd, err := shard.NewReader(io.TeeReader(f, sum), fi.Size())
	if err != nil {
		return nil, nil, one(KindHeader, nil, 0, err.Error())
	}
	var nums []int64
	var labels []string
	for {
		rec, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		var fe *shard.FormatError
		if errors.As(err, &fe) {
			var at *int64
			if fe.Index >= 0 {
				at = idx(fe.Index)
			}
			return nil, nil, one(recordKind(fe.Field), at, fe.Number, fe.Field+": "+fe.Msg)
		}
		if err != nil {
			return nil, nil, one(KindHeader, nil, 0, errText(err))
		}
		nums = append(nums, rec.Number)
		if rd.Labels() != nil {
			labels = append(labels, rd.Labels()[rec.Label])
		}
	}
	if int64(len(nums)) != df.Count {
		return nil, nil, one(KindMismatch, nil, 0, fmt.Sprintf("delta manifest says %d entries, the file has %d", df.Count, len(nums)))
	}
	if got := hex.EncodeToString(sum.Sum(nil)); got != df.SHA256 {
		return nil, nil, one(KindHash, nil, 0, fmt.Sprintf("SHA-256 %s, the delta manifest says %s", got, df.SHA256))
	}
	return nums, labels, nil
}

// applyDeltaFile applies one file to an extension's entries, reporting the
// entries a device would fail on: a removal of a number the extension does
// not hold (harmless to SQLite, but a sign of a delta for another base) and
// an addition of a number it holds (SQLite error 19 on the device, which
// wipes the extension).
func applyDeltaFile(cur *shard.ExtEntries, df shard.DeltaFile, display string, nums []int64, labels []string) []Finding {
	var out []Finding
	finding := func(i int, n int64, msg string) {
		if len(out) < 10 {
			out = append(out, Finding{Kind: KindDeltaEntry, File: display, Shard: df.File, Index: idx(int64(i)), Number: n, Message: msg})
		}
	}
	switch df.Op {
	case shard.OpRemoveBlock, shard.OpRemoveIdentify:
		keepN, keepL := cur.Numbers[:0:0], []string(nil)
		j := 0
		for i, n := range cur.Numbers {
			for j < len(nums) && nums[j] < n {
				finding(j, nums[j], "removal of a number the base does not hold in this extension")
				j++
			}
			if j < len(nums) && nums[j] == n {
				j++
				continue
			}
			keepN = append(keepN, n)
			if cur.Labels != nil {
				keepL = append(keepL, cur.Labels[i])
			}
		}
		for ; j < len(nums); j++ {
			finding(j, nums[j], "removal of a number the base does not hold in this extension")
		}
		cur.Numbers, cur.Labels = keepN, keepL
	default: // additions and complete files: a merge of two sorted lists
		mergedN := make([]int64, 0, len(cur.Numbers)+len(nums))
		var mergedL []string
		ident := labels != nil || cur.Labels != nil
		label := func(ls []string, k int) string { // tolerant of a block file in an identify extension
			if k < len(ls) {
				return ls[k]
			}
			return ""
		}
		i := 0
		for j, n := range nums {
			for i < len(cur.Numbers) && cur.Numbers[i] < n {
				mergedN = append(mergedN, cur.Numbers[i])
				if ident {
					mergedL = append(mergedL, label(cur.Labels, i))
				}
				i++
			}
			if i < len(cur.Numbers) && cur.Numbers[i] == n {
				finding(j, n, "addition of a number the extension already holds: SQLite error 19 (UNIQUE) on the device, which wipes the extension")
				continue
			}
			mergedN = append(mergedN, n)
			if ident {
				mergedL = append(mergedL, label(labels, j))
			}
		}
		mergedN = append(mergedN, cur.Numbers[i:]...)
		for ; ident && i < len(cur.Numbers); i++ {
			mergedL = append(mergedL, label(cur.Labels, i))
		}
		cur.Numbers, cur.Labels = mergedN, mergedL
	}
	return out
}

func compareWithTarget(result map[int]*shard.ExtEntries, target *shard.Build, mpath string) []Finding {
	var out []Finding
	exts := map[int]bool{}
	for e := range result {
		exts[e] = true
	}
	for e := range target.Exts {
		exts[e] = true
	}
	for e := range exts {
		got, want := result[e], target.Exts[e]
		var gn, wn []int64
		var gl, wl []string
		if got != nil {
			gn, gl = got.Numbers, got.Labels
		}
		if want != nil {
			wn, wl = want.Numbers, want.Labels
		}
		if !slices.Equal(gn, wn) || (len(gl) > 0 || len(wl) > 0) && !slices.Equal(gl, wl) {
			out = append(out, Finding{Kind: KindBase, File: mpath, Message: fmt.Sprintf("extension %d: base + delta gives %d entries, the target build has %d (or different labels)", e, len(gn), len(wn))})
		}
	}
	return out
}

// deltaStrays lists files under the delta directory that no request names.
func deltaStrays(root *os.Root, claimed map[string]bool) ([]string, error) {
	var out []string
	err := fs.WalkDir(root.FS(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		if !claimed[path.Clean(p)] {
			out = append(out, filepath.FromSlash(p))
		}
		return nil
	})
	return out, err
}
