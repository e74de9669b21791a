// Package verifier replays planned reloads of a Call Directory extension
// against a real SQLite model of CallDirectory.db and judges every step:
//
//	plan (package plan: a plan file, a build, a build and its deltas)
//	  │
//	  ├──▶ driver (driver.go, load.go, daemon.go): plays the daemon, its
//	  │      extension (extension.go) sending batches; issues the daemon's
//	  │      SQL through go-sqlite3 and keeps a ledger of what it committed
//	  │
//	  ├──▶ reference model (package model): CallKit's rules alone, no SQL;
//	  │      for each step every acceptable alternative (outcome, states
//	  │      and rows, batches), widened by the faults the plan arms
//	  │
//	  └──▶ judge (judge.go, check.go): the driver's outcome, ledger and
//	         batches must be one alternative (else "model disagrees"), the
//	         database must hold it (else "rows lost" / "state differs"),
//	         quick_check after every step, integrity_check at the end
//	  ──▶ Report: the worst outcome of every step and check (outcome.go)
//
// Faults: a kill of the writer process (child.go), power loss and a full
// disk through the crash VFS (powerloss.go, package crashvfs), busy and
// concurrent processes, table corruption. A faulted run is judged against
// its fault-free run as well, and reports the worse: a fault widens what
// is acceptable, it never hides a finding. Explore (explore.go) runs a
// matrix of patterns × settings × faults and shrinks what it finds
// (shrink.go). docs/VERIFIER.md describes all of it; a build with -tags
// mutants carries the mutations its harness proves replay catches.
package verifier
