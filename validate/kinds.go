package validate

// kindTable is the one description of every finding kind: the line that
// calldir validate --help and docs/CLI.md print, in this order (a build's
// kinds, then a delta's, then a Live Caller ID Lookup export's). A kind
// declared without a row here fails TestKindsHaveHelp.
var kindTable = []struct {
	kind Kind
	help string
}{
	{KindManifest, "manifest unreadable, unknown format or version, bad field"},
	{KindPathEscape, "a shard path that leaves the build directory"},
	{KindMissingShard, "listed in the manifest, missing on disk"},
	{KindStrayFile, "on disk, not listed in the manifest"},
	{KindHeader, "shard header damaged or inconsistent with its body"},
	{KindSize, "shard truncated or with trailing bytes"},
	{KindChecksum, "shard body damaged (CRC-32C mismatch)"},
	{KindHash, "shard differs from the manifest's SHA-256"},
	{KindOrder, "number below the previous one (CallKit error 3)"},
	{KindDuplicate, "number equal to the previous one (CallKit error 4)"},
	{KindRange, "number zero, negative or above CallKit's maximum"},
	{KindLabel, "label empty, invalid, too long, or bad label index"},
	{KindMismatch, "manifest count, range, size, labels or kind differ from the shard"},
	{KindOverlap, "shards of one kind overlap (duplicates across shards)"},
	{KindCap, "an extension's load above 1,999,999 entries (CallKit error 5)"},
	{KindTotals, "manifest totals differ from the shards"},
	{KindReject, "--raw: a line that does not compile"},
	{KindBase, "delta: base or target build_id differs, or base + delta is not the target"},
	{KindChunk, "delta: a request above the chunk size or CallKit's cap"},
	{KindDeltaEntry, "delta: a removal absent from the base, an addition already in it"},
	{KindRow, "live lookup: a record that is not a KeywordDatabase row"},
	{KindKey, "live lookup: a keyword that is not +E.164 or national digits"},
	{KindValue, "live lookup: a value that is not the byte 1 or a valid CallIdentity"},
}

// Kinds lists every finding kind, in the order of kindTable.
func Kinds() []Kind {
	out := make([]Kind, len(kindTable))
	for i, e := range kindTable {
		out[i] = e.kind
	}
	return out
}

// Help is a one-line description of the kind, for people.
func (k Kind) Help() string {
	for _, e := range kindTable {
		if e.kind == k {
			return e.help
		}
	}
	return "unknown finding kind"
}
