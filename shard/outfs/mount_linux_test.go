package outfs

import (
	"path/filepath"
	"strings"
	"testing"
)

// unescapeMount undoes /proc/self/mountinfo's octal escapes.
func TestUnescapeMount(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`/mnt/data`, "/mnt/data"},
		{`/mnt/my\040disk`, "/mnt/my disk"},
		{`\040`, " "},
		{`/a\040b\011c\012d\134e`, "/a b\tc\nd\\e"},
		{`/a\040`, "/a "},
		{`/a\04`, `/a\04`},   // too short to be an escape
		{`/a\0x0`, `/a\0x0`}, // not octal
		{`/a\777`, `/a\777`}, // more than a byte
		{`/a/../b\040c/`, "/b c"},
		{`/trailing\`, `/trailing\`},
	} {
		if got := unescapeMount(tc.in); got != tc.want {
			t.Errorf("unescapeMount(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func FuzzUnescapeMount(f *testing.F) {
	for _, s := range []string{`/mnt/my\040disk`, `\`, `\0`, `\777`, `/a\134040`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := unescapeMount(s)
		if !strings.Contains(s, `\`) && got != filepath.Clean(s) {
			t.Errorf("unescapeMount(%q) = %q, want it only cleaned", s, got)
		}
		if len(got) > len(s) && len(s) > 0 && got != "." {
			t.Errorf("unescapeMount(%q) = %q grew", s, got)
		}
	})
}

func TestIsMountPoint(t *testing.T) {
	for _, tc := range []struct {
		dir  string
		want bool
	}{
		{"/proc", true},
		{"/", true},
		{t.TempDir(), false},
	} {
		if got := isMountPoint(tc.dir); got != tc.want {
			t.Errorf("isMountPoint(%s) = %v, want %v", tc.dir, got, tc.want)
		}
	}
}
