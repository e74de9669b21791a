package verifier

import (
	"os"
	"path/filepath"
	"testing"
)

// A shrunk plan is written by shard/outfs's one rule for files: a regular
// file replaced atomically, a symlink followed (the link stays), a
// directory refused.
func TestWritePlanFileReplacesOnlyRegularFiles(t *testing.T) {
	dir := t.TempDir()
	secret := filepath.Join(dir, "secret")
	if err := os.WriteFile(secret, []byte("keep\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	plain := filepath.Join(dir, "case-001.plan")
	if err := os.WriteFile(plain, []byte("old\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := writePlanFile(plain, "new\n"); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(plain); string(b) != "new\n" {
		t.Errorf("regular file: %q", b)
	}
	link := filepath.Join(dir, "case-002.plan")
	if err := os.Symlink(secret, link); err != nil {
		t.Fatal(err)
	}
	sub := filepath.Join(dir, "case-003.plan")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := writePlanFile(sub, "new\n"); err == nil {
		t.Errorf("%s: a directory replaced", sub)
	}
	if err := writePlanFile(link, "new\n"); err != nil {
		t.Errorf("%s: %v", link, err)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the symlink is gone: %v %v", fi, err)
	}
	if b, _ := os.ReadFile(secret); string(b) != "new\n" {
		t.Errorf("the symlink's target: %q, want the plan", b)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 4 {
		t.Errorf("temporaries left: %v", ents)
	}
}
