//go:build !long

package compiler

// longSweeps is false: the differential sweeps run at the sizes that keep
// the package's tests to a few seconds on 2 cores. go test -tags long runs
// them whole (sweeps_long_test.go).
const longSweeps = false
