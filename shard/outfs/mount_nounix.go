//go:build !unix

package outfs

func devDiffers(string) bool { return false }
