//go:build long

package compiler

// longSweeps is true under the build tag long (go test -tags long, as CI
// runs it): the differential sweeps run every block size and every seed.
const longSweeps = true
