//go:build unix

package outfs

import (
	"os"
	"path/filepath"
)

// devDiffers reports whether dir lies on another device than its parent.
func devDiffers(dir string) bool {
	a, err := os.Stat(dir)
	if err != nil {
		return false
	}
	b, err := os.Stat(filepath.Join(dir, ".."))
	if err != nil {
		return false
	}
	return identity(a).dev != identity(b).dev
}
