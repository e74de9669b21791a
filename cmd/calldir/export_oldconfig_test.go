package main

import (
	"crypto/sha256"
	"encoding/hex"
	"path/filepath"
	"strings"
	"testing"
)

// validate of an export reports a PIRProcessDatabase configuration the
// tool would refuse: one without databaseType (every export made before
// calldir wrote it), even when its SHA-256 is the manifest's.
func TestValidateExportOldConfig(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	mustWrite(t, "list.txt", goodList)
	mustCLI(t, 0, "compile", "-q", "-o", "b", "list.txt")
	mustCLI(t, 0, "export", "live-lookup", "-q", "-o", "live", "b")
	mustCLI(t, 0, "validate", "live")
	cfg := mustRead(t, filepath.Join("live", "block-config.json"))
	old := strings.Replace(cfg, `"databaseType": "keyword",`, "", 1)
	if old == cfg {
		t.Fatalf("block-config.json has no databaseType to remove:\n%s", cfg)
	}
	mustWrite(t, filepath.Join("live", "block-config.json"), old)
	sum := func(s string) string { h := sha256.Sum256([]byte(s)); return hex.EncodeToString(h[:]) }
	m := mustRead(t, filepath.Join("live", "live-lookup.json"))
	mustWrite(t, filepath.Join("live", "live-lookup.json"), strings.Replace(m, sum(cfg), sum(old), 1))
	code, out, stderr := runCLI(t, "", "validate", "live")
	if code != 1 || !strings.Contains(out+stderr, "databaseType") {
		t.Fatalf("validate of an export without databaseType: exit %d, want 1 naming databaseType\n%s%s", code, out, stderr)
	}
}
