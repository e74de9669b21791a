//go:build !long

package e164

// long is false in the README's test command (go test ./...): every
// property, differential, kill and explore test still runs, at a size that
// keeps the whole command under two minutes on two cores. The build tag
// long sets it (long_test.go).
const long = false
