// Package model is the verifier's reference: CallKit's rules for a Call
// Directory extension and its daemon (docs/CALLKIT.md §1), applied to a
// plan on their own, with no SQL and nothing of the driver it judges:
//
//	plan (package plan) ──▶ Model.Step ──▶ the acceptable Alternatives
//	                                        (outcome, rows, states, batches)
//	driver + SQLite ──▶ what happened ──▶ verifier: is it one of them?
//
// For every step the model states every outcome CallKit's rules allow,
// each with the extensions' states and rows it leaves and, for a load,
// the batches the extension sends. Without faults there is one. A fault
// the plan arms (a full disk, a busy lock, a damaged table) widens the
// set: an environmental failure at any batch, the failure path that ran
// or failed, the state before or after. It never narrows it to what the
// driver did: the model reads neither the driver's ledger nor the
// database. The verifier continues from the alternative that matched
// (Model.Choose), which it names by index.
//
// Its extension side (flushes of 10,000 entries, the order buffers are
// sent in, labels CallKit drops), its checks (order, duplicates, the cap)
// and its state machine are written here from CALLKIT.md, not shared with
// the driver, so that a driver bug in any of them is a disagreement.
package model
