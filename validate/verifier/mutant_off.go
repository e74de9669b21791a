//go:build !mutants

package verifier

// mutant reports whether the named mutation is active: never, outside a
// build with -tags mutants (see mutant_on.go), so that the checks fold
// away and no real run can carry a mutation.
func mutant(string) bool { return false }
