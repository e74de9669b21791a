//go:build linux

package outfs

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// The mount tests use Linux's mount(2) (tmpfs and bind mounts), as root.

// mustMount mounts a tmpfs, or bind-mounts src, at dir for the test;
// it skips where the test may not mount.
func mustMount(t *testing.T, src, dir string) {
	t.Helper()
	var err error
	if src == "" {
		err = syscall.Mount("none", dir, "tmpfs", 0, "size=1m")
	} else {
		err = syscall.Mount(src, dir, "", syscall.MS_BIND, "")
	}
	if err != nil {
		t.Skipf("mount %s: %v", dir, err)
	}
	t.Cleanup(func() { syscall.Unmount(dir, syscall.MNT_DETACH) })
}

// A bind mount shows a directory under a second name: Check sees through
// it by identity, and refuses to replace a mount point.
func TestPlanCheckMounts(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("mounting needs root")
	}
	t.Run("write inside a directory read, via bind mount", func(t *testing.T) {
		d := t.TempDir()
		mustMkdir(t, filepath.Join(d, "icons"))
		mustMkdir(t, filepath.Join(d, "bind"))
		mustMount(t, filepath.Join(d, "icons"), filepath.Join(d, "bind"))
		var p Plan
		p.ReadDir("icons", filepath.Join(d, "icons"))
		p.WriteFile("report", filepath.Join(d, "bind", "r.html"))
		wantOverlap("report", Inside, "icons", false, false)(t, d, p.Check())
	})
	for _, src := range []string{"", "self"} {
		t.Run("output is a mount point "+src, func(t *testing.T) {
			d := t.TempDir()
			dir := filepath.Join(d, "build")
			mustMkdir(t, dir)
			if src == "self" {
				src = dir // a bind mount of the same file system: same device
			}
			mustMount(t, src, dir)
			var p Plan
			p.Output("out", dir, testMark)
			err := p.Check()
			if e := wantAs[*MountPointError](t, err); e.Path != dir {
				t.Errorf("MountPointError.Path = %q, want %q", e.Path, dir)
			}
		})
	}
}
