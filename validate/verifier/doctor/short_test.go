//go:build !long

package doctor

// long is false in the README's test command (go test ./...); the build tag
// long sets it (long_test.go) and the garbage test then tries 5,000 files
// instead of 200.
const long = false
