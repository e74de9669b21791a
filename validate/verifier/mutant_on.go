//go:build mutants

package verifier

import "os"

// MutantEnv names the mutation a mutants build runs with, for the child
// processes of kill faults.
const MutantEnv = "CALLDIR_MUTANT"

// activeMutant is the mutation this run applies (docs/VERIFIER.md,
// "Mutations"): set by SetMutant, or inherited through MutantEnv.
var activeMutant = os.Getenv(MutantEnv)

// mutant reports whether the named mutation is active. Only a build with
// -tags mutants has mutations: the mutation harness is one build, which
// selects each mutation at run time.
func mutant(name string) bool { return activeMutant == name }

// SetMutant activates one mutation ("" for none), here and in the child
// processes this run starts.
func SetMutant(name string) {
	activeMutant = name
	os.Setenv(MutantEnv, name)
}
