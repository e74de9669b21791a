//go:build !(linux && (amd64 || arm64))

package compiler

// exchange is not available here; WriteBuild falls back to two renames.
func exchange(a, b string) (bool, error) { return false, nil }
