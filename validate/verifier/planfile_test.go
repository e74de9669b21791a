package verifier

import (
	"os"
	"path/filepath"
	"testing"
)

// A shrunk plan replaces a regular file atomically, and never a symlink,
// a FIFO or a directory of the same name.
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
	for _, p := range []string{link, sub} {
		if err := writePlanFile(p, "new\n"); err == nil {
			t.Errorf("%s: replaced", p)
		}
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the symlink is gone: %v %v", fi, err)
	}
	if b, _ := os.ReadFile(secret); string(b) != "keep\n" {
		t.Errorf("written through the symlink: %q", b)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 4 {
		t.Errorf("temporaries left: %v", ents)
	}
}
