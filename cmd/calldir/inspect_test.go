package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/calldir/calldir/shard"
)

// copyFile copies src over dst, as a user or a faulty sync would.
func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	if err := os.WriteFile(dst, []byte(mustRead(t, src)), 0o644); err != nil {
		t.Fatal(err)
	}
}

// editManifest rewrites dir/manifest.json through fn.
func editManifest(t *testing.T, dir string, fn func(m *shard.Manifest)) {
	t.Helper()
	p := filepath.Join(dir, shard.ManifestName)
	m, err := shard.ReadManifest(strings.NewReader(mustRead(t, p)))
	if err != nil {
		t.Fatal(err)
	}
	fn(m)
	b, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	mustWrite(t, p, string(b))
}

// inspect checks a build against its manifest as validate does: a valid
// shard of another build copied over one of this build's, a manifest
// whose build_id or totals were edited, are refused with validate's
// finding on stderr, exit 1 (validate's exit for the same damage) and
// nothing on stdout, summary or dump; files the manifest does not list
// are not its business.
func TestInspectRefusesBuildNotItsManifest(t *testing.T) {
	for _, tc := range []struct {
		name   string
		damage func(t *testing.T, dir, build string)
		exit   int
		want   []string // in stderr
	}{
		{"shard of another build, other count", func(t *testing.T, dir, build string) {
			other := compileBuild(t, dir, "other", 1000, 14155550100, 14155550110, 14155550120)
			copyFile(t, filepath.Join(other, "block-0001.shard"), filepath.Join(build, "block-0001.shard"))
		}, 1, []string{"block-0001.shard: manifest-mismatch: manifest says count 5, shard has 3"}},
		{"shard of another build, same count and range", func(t *testing.T, dir, build string) {
			// Same first, last, count and size: only the SHA-256 tells.
			other := compileBuild(t, dir, "other", 1000, 14155550100, 14155550115, 14155550120, 14155550130, 14155550140)
			copyFile(t, filepath.Join(other, "block-0001.shard"), filepath.Join(build, "block-0001.shard"))
		}, 1, []string{"block-0001.shard: sha256: SHA-256", "the file was replaced after the build"}},
		{"build_id edited", func(t *testing.T, dir, build string) {
			editManifest(t, build, func(m *shard.Manifest) { m.BuildID = strings.Repeat("ab", 32) })
		}, 1, []string{"manifest.json: manifest: build_id \"abab", "does not match the shards listed"}},
		{"totals edited", func(t *testing.T, dir, build string) {
			editManifest(t, build, func(m *shard.Manifest) { m.Totals.Entries = 6 })
		}, 1, []string{"manifest.json: totals: totals say 6 entries in 1 shards, the shards hold 5 in 1"}},
		// A stray file stops validate before its build_id check: the
		// manifest read after it (shard.ReadManifestIn, as diff reads
		// it) still refuses the edited build_id.
		{"build_id edited beside a stray file", func(t *testing.T, dir, build string) {
			editManifest(t, build, func(m *shard.Manifest) { m.BuildID = strings.Repeat("ab", 32) })
			mustWrite(t, filepath.Join(build, "notes.txt"), "mine\n")
		}, 2, []string{"manifest build_id abababababab… does not match its shards"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			build := compileBuild(t, dir, "build", 1000, 14155550100, 14155550110, 14155550120, 14155550130, 14155550140)
			tc.damage(t, dir, build)
			if code, _, _ := runCLI(t, "", "validate", build); code != 1 {
				t.Fatalf("validate: exit %d, want 1", code)
			}
			for _, args := range [][]string{{"inspect", build}, {"inspect", "--dump", build}} {
				before := snapshotTree(t, dir)
				code, stdout, stderr := runCLI(t, "", args...)
				if code != tc.exit {
					t.Errorf("%s: exit %d, want %d\nstderr: %s", strings.Join(args, " "), code, tc.exit, stderr)
				}
				for _, w := range tc.want {
					if !strings.Contains(stderr, w) {
						t.Errorf("%s: stderr lacks %q:\n%s", strings.Join(args, " "), w, stderr)
					}
				}
				if stdout != "" {
					t.Errorf("%s: stdout of a refused build: %q", strings.Join(args, " "), stdout)
				}
				assertSameTree(t, dir, before)
			}
		})
	}
}

// A file the manifest does not list (validate's stray-file) does not stop
// inspect: it prints the build.
func TestInspectIgnoresStrayFiles(t *testing.T) {
	dir := t.TempDir()
	build := compileBuild(t, dir, "build", 1000, 14155550100, 14155550110)
	mustWrite(t, filepath.Join(build, ".DS_Store"), "x\n")
	mustCLI(t, 1, "validate", build)
	if out, _ := mustCLI(t, 0, "inspect", "--dump", build); out != numbersText(14155550100, 14155550110) {
		t.Errorf("dump: %q", out)
	}
	if out, _ := mustCLI(t, 0, "inspect", build); !strings.Contains(out, "2 entries") {
		t.Errorf("summary: %q", out)
	}
}

// The summary shows the regions the sources were read with, recorded per
// input in the manifest when a source has its own: a build from French and
// Swiss national numbers is not "region US".
func TestInspectShowsSourceRegions(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	mustWrite(t, "fr.txt", "01 62 00 00 00\n")
	mustWrite(t, "ch.txt", "044 668 18 00\n")
	mustWrite(t, "us.txt", "(415) 555-0123\n")
	mustCLI(t, 0, "compile", "-q", "-o", "b", "fr.txt;region=FR", "ch.txt;region=CH")
	if out, _ := mustCLI(t, 0, "inspect", "--dump", "b"); out != "+33162000000\n+41446681800\n" {
		t.Fatalf("dump: %q", out)
	}
	summary, _ := mustCLI(t, 0, "inspect", "b")
	for _, w := range []string{"kind block, regions FR, CH, accept", "source fr.txt (text, region FR,", "source ch.txt (text, region CH,"} {
		if !strings.Contains(summary, w) {
			t.Errorf("summary lacks %q:\n%s", w, summary)
		}
	}
	if strings.Contains(summary, "US") {
		t.Errorf("summary names the unused default region US:\n%s", summary)
	}
	var m struct {
		Options struct{ Region string }
		Inputs  []struct{ Path, Region string }
	}
	if err := json.Unmarshal([]byte(mustRead(t, "b/manifest.json")), &m); err != nil {
		t.Fatal(err)
	}
	if m.Options.Region != "US" || len(m.Inputs) != 2 || m.Inputs[0].Region != "FR" || m.Inputs[1].Region != "CH" {
		t.Errorf("manifest: options.region %q, inputs %+v", m.Options.Region, m.Inputs)
	}

	// A source read with the default records no region of its own; the
	// summary names both regions used.
	mustCLI(t, 0, "compile", "-q", "-o", "mixed", "fr.txt;region=FR", "us.txt")
	summary, _ = mustCLI(t, 0, "inspect", "mixed")
	for _, w := range []string{"regions FR, US,", "source us.txt (text, region US,"} {
		if !strings.Contains(summary, w) {
			t.Errorf("mixed: summary lacks %q:\n%s", w, summary)
		}
	}
	if strings.Count(mustRead(t, "mixed/manifest.json"), `"region"`) != 2 { // options and fr.txt
		t.Errorf("mixed: manifest:\n%s", mustRead(t, "mixed/manifest.json"))
	}

	// --region alone: every source used it, none records its own.
	mustCLI(t, 0, "compile", "-q", "--region", "FR", "-o", "fr", "fr.txt")
	if summary, _ = mustCLI(t, 0, "inspect", "fr"); !strings.Contains(summary, "kind block, region FR, accept") {
		t.Errorf("--region FR: %s", summary)
	}

	// A manifest written before inputs carried a region (none recorded)
	// still reads; its summary can only name options.region.
	editManifest(t, "b", func(m *shard.Manifest) {
		for i := range m.Inputs {
			m.Inputs[i].Region = ""
		}
	})
	if summary, _ = mustCLI(t, 0, "inspect", "b"); !strings.Contains(summary, "kind block, region US, accept") {
		t.Errorf("old manifest: %s", summary)
	}
}
