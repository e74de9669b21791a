//go:build long

package shard

// long is set by the build tag long (go test -tags long ./...): the tests
// size their sweeps, differential runs and property cases for CI, minutes
// rather than seconds. See short_test.go.
const long = true
