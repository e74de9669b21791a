//go:build long

package doctor

// long is set by the build tag long (go test -tags long ./...): see
// short_test.go.
const long = true
