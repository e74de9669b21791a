// Package fleet simulates a fleet of phones refreshing from a signed
// release channel while things go wrong between the server and the
// phone, and checks every phone after every refresh:
//
//	channel DIR (pointers/ = its history) ──▶ History: every published pointer,
//	  │                                        build and delta, read and hashed here
//	  ├──▶ server (loopback HTTP): day d serves pointer d; network and CDN faults
//	  │
//	  └──▶ phones, a few at a time (a worker pool): each a CallDirectory.db in a
//	         scratch directory, opened only while its refresh runs, driven by
//	         the reference client (package refresh) through the verifier's
//	         daemon model; phone faults: power loss (crash VFS), app killed,
//	         extension switched off, disk full
//	  ──▶ invariants after every refresh (invariants.go), judged against the
//	      published builds, never against what the phone believes
//	  ──▶ figures per day and per phone; a replay plan per violation
//
// docs/FLEET.md describes the faults, invariants, convergence bound and
// figures.
package fleet
