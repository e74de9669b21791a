package validate

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/calldir/calldir/shard/livelookup"
)

type liveRowSpec struct{ key, value string }

// writeLive writes an export of one blocking database with the given rows
// and a manifest that matches them, then lets edit change the manifest.
func writeLive(t *testing.T, rows []liveRowSpec, edit func(*livelookup.Database)) string {
	t.Helper()
	dir := t.TempDir()
	var file []byte
	d := livelookup.Database{Kind: "block", File: livelookup.BlockFile, Config: livelookup.BlockConfigFile, Keys: map[livelookup.Form]int64{}}
	for _, r := range rows {
		file = livelookup.AppendRow(file, []byte(r.key), []byte(r.value))
		if f, _, err := livelookup.ParseKey([]byte(r.key)); err == nil {
			d.Keys[f]++
		}
		d.MaxValueBytes = max(d.MaxValueBytes, len(r.value))
	}
	d.Rows, d.Bytes = int64(len(rows)), int64(len(file))
	sum := sha256.Sum256(file)
	d.SHA256 = hex.EncodeToString(sum[:])
	cfg, shards := livelookup.Config("block", d.Rows, "live-pir")
	csum := sha256.Sum256(cfg)
	d.ConfigSHA256, d.Shards = hex.EncodeToString(csum[:]), shards
	if edit != nil {
		edit(&d)
	}
	m := livelookup.Manifest{Format: livelookup.ManifestFormat, FormatVersion: livelookup.ManifestVersion, KeyForms: []livelookup.Form{"e164", "national"}, Databases: []livelookup.Database{d}}
	mb, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	for name, b := range map[string][]byte{livelookup.BlockFile: file, livelookup.BlockConfigFile: cfg, livelookup.ManifestName: mb} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func liveKinds(t *testing.T, dir string) []Kind {
	t.Helper()
	r, err := LiveLookup(t.Context(), dir, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	var ks []Kind
	for _, f := range r.Findings {
		ks = append(ks, f.Kind)
	}
	return ks
}

func TestLiveLookupFindings(t *testing.T) {
	good := []liveRowSpec{{"+14155550123", "\x01"}, {"4155550123", "\x01"}, {"+33612345678", "\x01"}, {"0612345678", "\x01"}}
	if ks := liveKinds(t, writeLive(t, good, nil)); len(ks) != 0 {
		t.Fatalf("good export: findings %v", ks)
	}
	with := func(i int, r liveRowSpec) []liveRowSpec {
		rows := slices.Clone(good)
		rows[i] = r
		return rows
	}
	for name, c := range map[string]struct {
		rows []liveRowSpec
		edit func(*livelookup.Database)
		want []Kind
	}{
		"bad key":            {with(1, liveRowSpec{"41555a0123", "\x01"}), nil, []Kind{KindKey}},
		"value 0":            {with(1, liveRowSpec{"4155550123", "\x00"}), nil, []Kind{KindValue}},
		"national twice":     {with(1, liveRowSpec{"0612345678", "\x01"}), nil, []Kind{KindDuplicate}},
		"E.164 twice":        {with(2, liveRowSpec{"+14155550123", "\x01"}), nil, []Kind{KindDuplicate}},
		"E.164 out of order": {with(2, liveRowSpec{"+12125550123", "\x01"}), nil, []Kind{KindOrder}},
		"rows":               {good, func(d *livelookup.Database) { d.Rows++ }, []Kind{KindMismatch}},
		"keys per form":      {good, func(d *livelookup.Database) { d.Keys["national"] = 3 }, []Kind{KindMismatch}},
		"sha256":             {good, func(d *livelookup.Database) { d.SHA256 = "00" }, []Kind{KindHash}},
		"config sha256":      {good, func(d *livelookup.Database) { d.ConfigSHA256 = "00" }, []Kind{KindHash}},
		"shards":             {good, func(d *livelookup.Database) { d.Shards = 2 }, []Kind{KindMismatch}},
	} {
		got := liveKinds(t, writeLive(t, c.rows, c.edit))
		if !slices.Equal(got, c.want) {
			t.Errorf("%s: findings %v, want %v", name, got, c.want)
		}
	}
}

func TestLiveLookupFileFindings(t *testing.T) {
	good := []liveRowSpec{{"+14155550123", "\x01"}, {"+14155550124", "\x01"}}
	dir := writeLive(t, good, nil)
	b, _ := os.ReadFile(filepath.Join(dir, livelookup.BlockFile))
	os.WriteFile(filepath.Join(dir, livelookup.BlockFile), b[:len(b)-2], 0o644)
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("x"), 0o644)
	if got := liveKinds(t, dir); !slices.Equal(got, []Kind{KindRow, KindStrayFile}) {
		t.Errorf("truncated database and a stray file: %v", got)
	}
	os.Remove(filepath.Join(dir, livelookup.BlockFile))
	os.Symlink("/etc/passwd", filepath.Join(dir, livelookup.BlockConfigFile+".x"))
	os.Remove(filepath.Join(dir, livelookup.BlockConfigFile))
	os.Symlink("/etc/hostname", filepath.Join(dir, livelookup.BlockConfigFile))
	if got := liveKinds(t, dir); !slices.Equal(got, []Kind{KindPathEscape, KindStrayFile, KindMissingShard, KindStrayFile}) {
		t.Errorf("missing database, config leading outside: %v", got)
	}
	os.WriteFile(filepath.Join(dir, livelookup.ManifestName), []byte(`{"format":"calldir-build"}`), 0o644)
	if got := liveKinds(t, dir); !slices.Equal(got, []Kind{KindManifest}) {
		t.Errorf("not an export manifest: %v", got)
	}
}
