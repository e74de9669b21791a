//go:build !linux

package outfs

// isMountPoint reports whether dir lies on another device than its parent.
func isMountPoint(dir string) bool { return devDiffers(dir) }
