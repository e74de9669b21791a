// Package channel publishes and verifies a signed release channel: a
// directory of plain files that a CDN or any static host serves to the
// apps, which download the build (or the delta from the build they hold)
// that one small signed pointer names.
//
//	channel.json                       the pointer: a DSSE envelope, the only mutable file
//	pointers/0000000042.json           every pointer ever published, by sequence
//	builds/<build_id>/manifest.json    immutable, content-addressed builds
//	builds/<build_id>/block-0001.shard
//	deltas/<base>-<target>/delta.json  immutable deltas to the current target
//	deltas/<base>-<target>/ext-0001/…
//
// The pointer (Pointer) names the channel, a sequence that only grows, when
// it was published and when it expires, the target build, and every build
// and delta it offers with the SHA-256 of its manifest; each manifest lists
// the SHA-256 of each of its files, so one Ed25519 signature over the
// pointer covers every byte a device loads. Signature and payload travel in
// one envelope (envelope.go), signed over DSSE's pre-authentication
// encoding, so that no reader can pair one pointer's signature with another
// pointer's payload.
//
// Publish (one build, under the channel's lock):
//
//	read and verify channel.json ──▶ validate BUILD ──▶ refuse a lower sequence, a shrink
//	  ──▶ builds/<id>/ (staged, synced, renamed in)
//	  ──▶ deltas/<base>-<id>/ from each of the last --retain targets (staged, validated)
//	  ──▶ pointers/<seq>.json (added, synced) ──▶ channel.json (replaced atomically)
//	  ──▶ remove what neither this pointer nor the one before it offers
//
// A reader (a device, a CDN edge) that fetches at any moment sees either
// the old pointer with every file it names, or the new one with every file
// it names. Verify checks a channel the way an app does and returns typed
// findings (validate.Finding, with this package's kinds).
//
// Every file is written through shard/outfs: builds and deltas are Stages
// committed into the channel, pointers/ files are AddFile'd (immutable),
// channel.json is an outfs.File; Mark makes a channel recognisable, so that
// no other calldir command writes inside one.
package channel
