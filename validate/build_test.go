package validate

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/calldir/calldir/compiler"
	"github.com/calldir/calldir/e164"
	"github.com/calldir/calldir/shard"
)

// mustBuild compiles n distinct US numbers into a build of shards of at
// most per entries and returns its directory.
func mustBuild(t *testing.T, kind shard.Kind, n, per int) string {
	t.Helper()
	dir := t.TempDir()
	var b strings.Builder
	if kind == shard.KindIdentify {
		b.WriteString("phone,label\n")
	}
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "+1415%03d%04d", 200+i/10000, (i*7)%10000)
		if kind == shard.KindIdentify {
			fmt.Fprintf(&b, ",Label %d", i%5)
		}
		b.WriteByte('\n')
	}
	name := "list.txt"
	if kind == shard.KindIdentify {
		name = "list.csv"
	}
	in := filepath.Join(dir, name)
	if err := os.WriteFile(in, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	norm, err := e164.New("US", e164.PolicyPossible)
	if err != nil {
		t.Fatal(err)
	}
	res, err := compiler.Compile(context.Background(), compiler.Options{Sources: []compiler.Source{{Path: in}}, Kind: kind, Normalizer: norm, MaxPerShard: per})
	if err != nil {
		t.Fatal(err)
	}
	m := &shard.Manifest{Format: shard.ManifestFormat, FormatVersion: shard.ManifestVersion, ToolVersion: "test", Inputs: res.Inputs}
	out := filepath.Join(dir, "build")
	if err := compiler.WriteBuild(context.Background(), out, res, m, compiler.Layout(res.Len(), per)); err != nil {
		t.Fatal(err)
	}
	return out
}

func mustValidate(t *testing.T, dir string) *BuildReport {
	t.Helper()
	r, err := Build(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// edit rewrites a file through f.
func edit(t *testing.T, path string, f func([]byte) []byte) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, f(b), 0o644); err != nil {
		t.Fatal(err)
	}
}

// editManifest rewrites the manifest's JSON through f.
func editManifest(t *testing.T, dir string, f func(m map[string]any)) {
	t.Helper()
	edit(t, filepath.Join(dir, shard.ManifestName), func(b []byte) []byte {
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		f(m)
		out, _ := json.MarshalIndent(m, "", "  ")
		return out
	})
}

// resealManifest recomputes the build_id of an edited manifest, as a
// consistent (if wrong) producer would have.
func resealManifest(t *testing.T, dir string) {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, shard.ManifestName))
	if err != nil {
		t.Fatal(err)
	}
	m, err := shard.ReadManifest(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	m.BuildID = shard.BuildID(m.Shards)
	b, _ := m.Marshal()
	if err := os.WriteFile(filepath.Join(dir, shard.ManifestName), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// reseal recomputes a shard's body and header checksums, as a buggy writer
// that produced bad records would have: the damage is then in the records,
// not in the bytes.
func reseal(b []byte) []byte {
	tab := crc32.MakeTable(crc32.Castagnoli)
	binary.LittleEndian.PutUint32(b[44:48], crc32.Checksum(b[shard.HeaderSize:], tab))
	binary.LittleEndian.PutUint32(b[60:64], crc32.Checksum(b[:60], tab))
	return b
}

func record(b []byte, i int) []byte {
	off := shard.HeaderSize + i*shard.BlockRecordSize
	return b[off : off+shard.BlockRecordSize]
}

func TestBuildCleanHasNoFindings(t *testing.T) {
	for _, kind := range []shard.Kind{shard.KindBlock, shard.KindIdentify} {
		dir := mustBuild(t, kind, 350, 100)
		r := mustValidate(t, dir)
		if len(r.Findings) != 0 {
			t.Fatalf("%s: clean build has findings: %v", kind, r.Findings)
		}
		if r.Shards != 4 || r.Entries != 350 || r.Extensions != 4 {
			t.Errorf("%s: checked %d shards, %d entries, %d extensions; want 4, 350, 4", kind, r.Shards, r.Entries, r.Extensions)
		}
	}
}

// Each case injects exactly one fault into a good build and expects exactly
// one finding of the right kind, naming the shard (and the record index
// where there is one).
func TestBuildOneFaultOneFinding(t *testing.T) {
	const target = "block-0002.shard"
	for _, tc := range []struct {
		name      string
		kind      Kind
		wantIndex int64 // -1: no index expected
		inject    func(t *testing.T, dir string)
	}{
		{"flip a byte in the body", KindChecksum, 41, func(t *testing.T, dir string) {
			edit(t, filepath.Join(dir, target), func(b []byte) []byte {
				record(b, 40)[5] ^= 0x40 // record 40 jumps above record 41
				return b
			})
		}},
		{"truncate", KindSize, 86, func(t *testing.T, dir string) {
			edit(t, filepath.Join(dir, target), func(b []byte) []byte { return b[:len(b)-12] })
		}},
		{"swap two records", KindOrder, 11, func(t *testing.T, dir string) {
			edit(t, filepath.Join(dir, target), func(b []byte) []byte {
				var tmp [8]byte
				copy(tmp[:], record(b, 10))
				copy(record(b, 10), record(b, 11))
				copy(record(b, 11), tmp[:])
				return reseal(b)
			})
		}},
		{"duplicate a record", KindDuplicate, 21, func(t *testing.T, dir string) {
			edit(t, filepath.Join(dir, target), func(b []byte) []byte {
				copy(record(b, 21), record(b, 20))
				return reseal(b)
			})
		}},
		{"edit a count", KindMismatch, -1, func(t *testing.T, dir string) {
			editManifest(t, dir, func(m map[string]any) {
				m["shards"].([]any)[1].(map[string]any)["count"] = 87.0
			})
		}},
		{"remove a shard", KindMissingShard, -1, func(t *testing.T, dir string) {
			if err := os.Remove(filepath.Join(dir, target)); err != nil {
				t.Fatal(err)
			}
		}},
		{"add a stray file", KindStrayFile, -1, func(t *testing.T, dir string) {
			if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("hi"), 0o644); err != nil {
				t.Fatal(err)
			}
		}},
		{"manifest path ../x", KindPathEscape, -1, func(t *testing.T, dir string) {
			editManifest(t, dir, func(m map[string]any) {
				m["shards"].([]any)[1].(map[string]any)["file"] = "../x"
			})
		}},
		{"edit the totals", KindTotals, -1, func(t *testing.T, dir string) {
			editManifest(t, dir, func(m map[string]any) {
				m["totals"].(map[string]any)["entries"] = 351.0
			})
		}},
		{"edit the build_id", KindManifest, -1, func(t *testing.T, dir string) {
			editManifest(t, dir, func(m map[string]any) { m["build_id"] = "0000" })
		}},
		{"replace a shard with another valid one", KindHash, -1, func(t *testing.T, dir string) {
			edit(t, filepath.Join(dir, target), func(b []byte) []byte {
				// Same count and range, another number in the middle.
				binary.LittleEndian.PutUint64(record(b, 50), binary.LittleEndian.Uint64(record(b, 50))+1)
				return reseal(b)
			})
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := mustBuild(t, shard.KindBlock, 350, 100)
			tc.inject(t, dir)
			r := mustValidate(t, dir)
			if len(r.Findings) != 1 {
				t.Fatalf("want exactly one finding, got %d: %v", len(r.Findings), r.Findings)
			}
			f := r.Findings[0]
			if f.Kind != tc.kind {
				t.Errorf("kind %s, want %s: %s", f.Kind, tc.kind, f)
			}
			if tc.kind != KindStrayFile && tc.kind != KindTotals && tc.kind != KindManifest && f.Shard != target && !strings.Contains(f.Shard, "../x") {
				t.Errorf("finding names shard %q, want %s: %s", f.Shard, target, f)
			}
			switch {
			case tc.wantIndex >= 0 && (f.Index == nil || *f.Index != tc.wantIndex):
				t.Errorf("index %v, want %d: %s", f.Index, tc.wantIndex, f)
			case tc.wantIndex < 0 && f.Index != nil:
				t.Errorf("unexpected index %d: %s", *f.Index, f)
			}
			js, err := json.Marshal(r)
			if err != nil || !strings.Contains(string(js), `"kind":"`+string(tc.kind)+`"`) {
				t.Errorf("JSON lacks the finding: %s %v", js, err)
			}
		})
	}
}

// An identification shard with a damaged label gives a label finding.
func TestBuildLabelFault(t *testing.T) {
	dir := mustBuild(t, shard.KindIdentify, 50, 100)
	edit(t, filepath.Join(dir, "identify-0001.shard"), func(b []byte) []byte {
		// The first label's first byte becomes invalid UTF-8.
		b[shard.HeaderSize+shard.LabelLenSize] = 0xFF
		return reseal(b)
	})
	r := mustValidate(t, dir)
	if len(r.Findings) != 1 || r.Findings[0].Kind != KindLabel {
		t.Fatalf("want one label finding, got %v", r.Findings)
	}
}

// Two extensions' shards loaded together exceed the per-request cap.
func TestBuildCapPerExtension(t *testing.T) {
	dir := mustBuild(t, shard.KindBlock, 350, 100)
	editManifest(t, dir, func(m map[string]any) {
		for _, s := range m["shards"].([]any) {
			s.(map[string]any)["extension"] = 1.0
		}
	})
	resealManifest(t, dir)
	// 350 entries in one extension is fine; the cap is checked on real counts.
	if r := mustValidate(t, dir); len(r.Findings) != 0 {
		t.Fatalf("findings: %v", r.Findings)
	}
	if shard.MaxEntriesPerRequest != 1_999_999 {
		t.Fatal("the cap moved; revisit this test")
	}
}

// Hostile manifests give findings, never a panic or a read outside dir.
func TestBuildHostileManifest(t *testing.T) {
	outside := t.TempDir()
	secret := filepath.Join(outside, "secret.shard")
	if err := os.WriteFile(secret, []byte("not yours"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		json func(good string) string
		kind Kind
	}{
		{"huge counts", func(g string) string { return strings.Replace(g, `"count": 88`, `"count": 9223372036854775807`, 1) }, KindMismatch},
		{"negative size", func(g string) string { return strings.Replace(g, `"size": 768`, `"size": -5`, 1) }, KindManifest},
		{"deep nesting", func(string) string { return strings.Repeat("[", 5<<20) + strings.Repeat("]", 5<<20) }, KindManifest},
		{"absolute path", func(g string) string { return strings.Replace(g, `"block-0001.shard"`, fmt.Sprintf("%q", secret), 1) }, KindPathEscape},
		{"dot-dot path", func(g string) string {
			return strings.Replace(g, `"block-0001.shard"`, fmt.Sprintf("%q", "../"+filepath.Base(outside)+"/secret.shard"), 1)
		}, KindPathEscape},
		{"not JSON", func(string) string { return "\x00\x01garbage" }, KindManifest},
		{"unknown field", func(g string) string { return strings.Replace(g, `"format_version"`, `"evil": 1, "format_version"`, 1) }, KindManifest},
		{"future version", func(g string) string { return strings.Replace(g, `"format_version": 1`, `"format_version": 99`, 1) }, KindManifest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := mustBuild(t, shard.KindBlock, 350, 100)
			mp := filepath.Join(dir, shard.ManifestName)
			edit(t, mp, func(b []byte) []byte {
				out := tc.json(string(b))
				if out == string(b) {
					t.Fatal("the injection did not change the manifest")
				}
				return []byte(out)
			})
			r := mustValidate(t, dir)
			found := false
			for _, f := range r.Findings {
				found = found || f.Kind == tc.kind
			}
			if !found {
				t.Errorf("no %s finding: %v", tc.kind, r.Findings)
			}
		})
	}
	// A symlinked shard pointing outside the directory is not followed.
	dir := mustBuild(t, shard.KindBlock, 50, 100)
	p := filepath.Join(dir, "block-0001.shard")
	os.Remove(p)
	if err := os.Symlink(secret, p); err != nil {
		t.Skip("no symlinks here")
	}
	r := mustValidate(t, dir)
	if len(r.Findings) != 1 || r.Findings[0].Kind != KindPathEscape {
		t.Errorf("symlink out of the build: %v", r.Findings)
	}
}
