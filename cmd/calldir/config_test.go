package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/calldir/calldir/shard"
)

// The example configuration
// compiles to the same build (same build_id, same shard bytes) as the
// equivalent flags.
func TestConfigMatchesFlags(t *testing.T) {
	tmp := t.TempDir()
	root, _ := filepath.Abs(filepath.Join("..", ".."))
	t.Chdir(filepath.Join(root, "fixtures", "config"))
	a, b := filepath.Join(tmp, "from-config"), filepath.Join(tmp, "from-flags")
	mustCLI(t, 0, "compile", "-q", "--config", "calldir.toml", "--out", a)
	mustCLI(t, 0, "compile", "-q", "--out", b, "--region", "US", "--accept", "possible", "--max-per-shard", "1000000",
		"--allow", "../sample/allow.txt", "--allow", "allow-fr.txt",
		"--pattern", "+33 162 000 ###", "--pattern", "+33163000000..+33163000499",
		"../sample/spam-us.txt", "../sample/vendor-feed.csv;column=phone", "../sample/complaints-gb.tsv.gz;region=GB;column=number")
	ma, mb := readManifest(t, a), readManifest(t, b)
	if ma.BuildID != mb.BuildID || len(ma.Shards) != len(mb.Shards) {
		t.Fatalf("config build %s, flags build %s", ma.BuildID, mb.BuildID)
	}
	for _, s := range ma.Shards {
		if mustRead(t, filepath.Join(a, s.File)) != mustRead(t, filepath.Join(b, s.File)) {
			t.Errorf("%s differs", s.File)
		}
	}
	// Flags override the file.
	c := filepath.Join(tmp, "override")
	mustCLI(t, 0, "compile", "-q", "--config", "calldir.toml", "--out", c, "--max-per-shard", "2000")
	if n := len(readManifest(t, c).Shards); n < 2 {
		t.Errorf("--max-per-shard did not override the file: %d shard(s)", n)
	}
	// calldir init writes a configuration that compiles: it writes its
	// example lists beside it (usage_test.go checks them).
	mustCLI(t, 0, "init", filepath.Join(tmp, "starter.toml"))
	mustCLI(t, 2, "init", filepath.Join(tmp, "starter.toml"))
	mustCLI(t, 0, "compile", "-q", "--config", filepath.Join(tmp, "starter.toml"))
}

// Per-source statistics add up, and the build is their union.
func TestPerSourceStatsAddUp(t *testing.T) {
	tmp := t.TempDir()
	root, _ := filepath.Abs(filepath.Join("..", ".."))
	t.Chdir(filepath.Join(root, "fixtures", "config"))
	out := filepath.Join(tmp, "b")
	mustCLI(t, 0, "compile", "-q", "--config", "calldir.toml", "--out", out)
	m := readManifest(t, out)
	var entries int64
	sources := 0
	for _, in := range m.Inputs {
		if in.Role != "source" {
			continue
		}
		sources++
		if in.Lines != in.Accepted+in.Rejected {
			t.Errorf("%s: %d lines != %d accepted + %d rejected", in.Path, in.Lines, in.Accepted, in.Rejected)
		}
		var byReason, byCountry int64
		for _, k := range in.Reasons {
			byReason += k
		}
		for _, k := range in.ByCountry {
			byCountry += k
		}
		if byReason != in.Rejected || byCountry != in.Entries {
			t.Errorf("%s: reasons sum %d (rejected %d), countries sum %d (entries %d)", in.Path, byReason, in.Rejected, byCountry, in.Entries)
		}
		// Every accepted number is an entry, a repeat in the source, in an
		// earlier source, or allowlisted.
		if in.Accepted-in.Patterns != in.Entries+in.Duplicates+in.Across+in.Allowlisted {
			t.Errorf("%s: %d accepted != %d entries + %d duplicates + %d across + %d allowlisted", in.Path, in.Accepted, in.Entries, in.Duplicates, in.Across, in.Allowlisted)
		}
		entries += in.Entries
	}
	var fromPatterns, patternAllowed int64
	for _, p := range m.Patterns {
		fromPatterns += p.Entries
		patternAllowed += p.Allowlisted
	}
	dump, _ := mustCLI(t, 0, "inspect", "--dump", out)
	lines := int64(strings.Count(dump, "\n"))
	// Patterns here do not overlap the lists' numbers, so the union is the sum.
	if sources != 3 || entries+fromPatterns != m.Totals.Entries || lines != m.Totals.Entries {
		t.Errorf("%d sources: %d list entries + %d pattern entries != totals %d (dump %d)", sources, entries, fromPatterns, m.Totals.Entries, lines)
	}
	if patternAllowed != 1 {
		t.Errorf("the allowlisted number inside a pattern: %d", patternAllowed)
	}
}

// "+33 162 ######" is exactly 1,000,000 entries in its
// range, minus the allowlisted ones; a 7-wildcard pattern is split over 10
// shards at the default size, and refused where it would need more shards
// than a build holds, with the count it needs.
func TestPatterns(t *testing.T) {
	dir := t.TempDir()
	allow := mustWrite(t, filepath.Join(dir, "allow.txt"), "+33 1 62 12 34 56\n+33 1 62 50 00 00\n+14155550101\n")
	out := filepath.Join(dir, "b")
	mustCLI(t, 0, "compile", "-q", "--out", out, "--allow", allow, "--pattern", "+33 162 ######")
	m := readManifest(t, out)
	if m.Totals.Entries != 999_998 || len(m.Patterns) != 1 || m.Patterns[0].Size != 1_000_000 || m.Patterns[0].Allowlisted != 2 {
		t.Fatalf("totals %+v, patterns %+v", m.Totals, m.Patterns)
	}
	if s := m.Shards[0]; s.First != 33162000000 || m.Shards[len(m.Shards)-1].Last != 33162999999 {
		t.Errorf("range %d..%d", s.First, m.Shards[len(m.Shards)-1].Last)
	}
	big := filepath.Join(dir, "big")
	mustCLI(t, 0, "compile", "-q", "--out", big, "--pattern", "+33 1 #######")
	mb := readManifest(t, big)
	if len(mb.Shards) != 10 || mb.Totals.Entries != 10_000_000 {
		t.Errorf("10M pattern: %d shards, %d entries", len(mb.Shards), mb.Totals.Entries)
	}
	for _, s := range mb.Shards {
		if s.Count > shard.DefaultMaxPerShard {
			t.Errorf("%s: %d entries", s.File, s.Count)
		}
	}
	_, stderr := mustCLI(t, 2, "compile", "-q", "--out", filepath.Join(dir, "refused"), "--max-per-shard", "1000", "--pattern", "+33 1 #######")
	if !strings.Contains(stderr, "10000 extensions") {
		t.Errorf("refusal does not say how many extensions: %s", stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "refused")); !os.IsNotExist(err) {
		t.Error("a refused compile left an output")
	}
}

// --memory bounds the numbers in memory: sorted runs spill to --temp-dir,
// the output is byte-identical, and no run file is left behind.
func TestMemoryBoundIdenticalOutput(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.txt")
	f, err := os.Create(in)
	if err != nil {
		t.Fatal(err)
	}
	if err := generateInto(f, 300_000); err != nil {
		t.Fatal(err)
	}
	f.Close()
	spill := filepath.Join(dir, "spill")
	os.Mkdir(spill, 0o755)
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	mustCLI(t, 0, "compile", "-q", "--out", a, "--max-per-shard", "50000", "--rejects", filepath.Join(dir, "ra.csv"), in)
	mustCLI(t, 0, "compile", "-q", "--out", b, "--max-per-shard", "50000", "--rejects", filepath.Join(dir, "rb.csv"), "--memory", "1MB", "--temp-dir", spill, in)
	sameTree(t, treeHashes(t, a), treeHashes(t, b))
	if left, _ := os.ReadDir(spill); len(left) != 0 {
		t.Errorf("run files left behind: %v", left)
	}
	if mustRead(t, filepath.Join(dir, "ra.csv")) != mustRead(t, filepath.Join(dir, "rb.csv")) {
		t.Error("rejects differ")
	}
	mustCLI(t, 2, "compile", "-q", "--out", filepath.Join(dir, "c"), "--memory", "lots", in)
}
