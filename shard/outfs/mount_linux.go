package outfs

import (
	"bufio"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// isMountPoint reports whether dir is a mount point: its device differs
// from its parent's, or /proc/self/mountinfo lists it (a bind mount of
// the same file system).
func isMountPoint(dir string) bool {
	if devDiffers(dir) {
		return true
	}
	abs, err := ResolvePath(dir)
	if err != nil {
		return false
	}
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		// "36 35 98:0 /mnt1 /mnt/parent rw,noatime master:1 - ext3 …":
		// the fifth field is the mount point, with octal escapes.
		fields := strings.Fields(sc.Text())
		if len(fields) > 4 && unescapeMount(fields[4]) == abs {
			return true
		}
	}
	return false
}

// unescapeMount undoes mountinfo's octal escapes ("\040" is a space).
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return filepath.Clean(s)
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return filepath.Clean(b.String())
}
