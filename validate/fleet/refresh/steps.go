// Package refresh is the reference app-side refresh of a calldir release
// channel: what an iOS app does, each day, to bring its Call Directory
// extensions to the channel's target build (docs/EXTENSION.md §3,
// docs/CHANNEL.md "Verifying, as an app must").
//
//	reboot ──▶ enabled ──▶ foreign      (local: forget IDs the phone may have made wrong)
//	  ──▶ channel.json ──▶ signature ──▶ freeze ──▶ rollback
//	  ──▶ choose (per extension: nothing, a delta on its base, or a complete load)
//	  ──▶ download and check every file ──▶ clear ──▶ delta requests
//	  ──▶ complete load (fallback) ──▶ store
//
// Steps lists these steps with one documentation line each;
// docs/EXTENSION.md's list is generated from it (Markdown), and a test
// holds the two equal, so the documented protocol and the code that the
// fleet simulation (package validate/fleet) drives are one list. The
// client only asks a Device for reloads: the simulation's device is the
// verifier's daemon model, so every request obeys the same CallKit rules
// as calldir replay.
package refresh

import (
	"fmt"
	"strings"
)

// Step is one step of the refresh: its name (the Result's Reached, the
// doc's bold word) and what it does.
type Step struct {
	Name string
	Doc  string
}

// Steps are the refresh's steps in the order Refresh runs them.
var Steps = []Step{
	{"reboot", "If the phone restarted since the IDs were stored, forget every stored ID: a power loss may roll back the last commit of a load the app saw succeed (docs/VERIFIER.md, power loss), so only a complete load is known to be right."},
	{"enabled", "Forget the stored ID of an extension the user switched off (`getEnabledStatusForExtension`): the system empties a switched-off extension at its next maintenance."},
	{"foreign", "Forget the stored ID of an extension that served a request the app did not start since the ID was stored (the extension counts the requests it serves in the App Group): switching it on loads the last job, which may be another build."},
	{"fetch", "Download `channel.json` (at most 1 MiB, with a timeout). A failed download ends the refresh with nothing changed."},
	{"signature", "Accept the pointer only if one signature verifies with a pinned key over DSSE's `PAE(payloadType, payload)`, before reading anything of the payload; then decode it strictly."},
	{"freeze", "Refuse a pointer whose `expires` is not after now (the device's clock)."},
	{"rollback", "Refuse a pointer whose `sequence` is below the highest the app trusted before; store the new highest at once."},
	{"choose", "Per extension: nothing if its stored ID is the target; a delta if its stored ID is the delta's `base`, `delta.json`'s `format` and `format_version` are known and the extension's `mode` is `incremental`; the target stored without a reload if the delta does not list the extension; otherwise a complete load of the target's shards (none for an extension the target has not: the complete load of nothing empties it)."},
	{"download", "Download what was chosen and check it before the first reload: `delta.json` or `manifest.json` against the size and SHA-256 the pointer signs, each request file or shard against `delta.json` or the manifest. A file that fails ends the refresh with nothing changed."},
	{"clear", "Clear the extension's stored ID before its first reload: while a load runs, or after one failed, the app does not know what the extension holds."},
	{"delta", "Send the delta's requests in order, one reload per request, each asking `isIncremental`; stop at the first that fails, expires or that the system made complete."},
	{"complete", "If the delta was not chosen or did not finish: one complete load of the target's shards (downloaded and checked now if they were not)."},
	{"store", "Store the target's ID only when every request of the extension succeeded."},
}

// Markdown renders Steps as the numbered list docs/EXTENSION.md holds.
func Markdown() string {
	var b strings.Builder
	for i, s := range Steps {
		fmt.Fprintf(&b, "%d. **%s**: %s\n", i+1, s.Name, s.Doc)
	}
	return b.String()
}

// Mutation is a deliberate bug in the client, for the fleet simulation to
// prove that its invariants catch it (calldir fleet --mutate).
type Mutation string

// The client's mutations.
const (
	// StoreEarly stores the target's ID before the load, not after it
	// succeeded.
	StoreEarly Mutation = "store-early"
	// SkipSignature trusts channel.json without checking its signature.
	SkipSignature Mutation = "skip-signature"
	// AnyBase applies an offered delta whatever its base, when none is on
	// the stored build.
	AnyBase Mutation = "any-base"
	// NoFallback never does a complete load.
	NoFallback Mutation = "no-fallback"
)

// Mutations lists every mutation.
var Mutations = []Mutation{StoreEarly, SkipSignature, AnyBase, NoFallback}
