package doctor

// Kind names what doctor reports about a database: a finding (an invariant
// of CALLKIT.md that the file breaks) or a notice (what happened to the
// copy when SQLite opened it, which breaks nothing).
type Kind string

// The kinds doctor reports. kindTable below gives each one's section, its
// summary and what to do; docs/DOCTOR.md explains each, and a test of
// cmd/calldir requires its tables to list exactly these.
const (
	// Corrupt: integrity_check failed, or a read failed with SQLITE_CORRUPT.
	Corrupt Kind = "corrupt"
	// SchemaVersionKind: SchemaVersion is empty, unreadable, or not a
	// version doctor knows.
	SchemaVersionKind Kind = "schema-version"
	// MissingIndex: a version-5 file without one of version 5's indexes.
	MissingIndex Kind = "missing-index"
	// UnknownState: Extension.state is not one of 1–5.
	UnknownState Kind = "unknown-state"
	// StuckLoading: state 3, a load that never finished.
	StuckLoading Kind = "stuck-loading"
	// LoadedEmpty: state 4 with no rows in either entry table.
	LoadedEmpty Kind = "loaded-empty"
	// RowsNotLoaded: state 1 (disabled, not loaded) with entry rows.
	RowsNotLoaded Kind = "rows-not-loaded"
	// DuplicateEntry: one number twice for one extension in one entry table.
	DuplicateEntry Kind = "duplicate-entry"
	// UnknownExtension: entry rows whose extension_id has no Extension row.
	UnknownExtension Kind = "unknown-extension"
	// NullID: an entry row with a NULL extension_id, phone_number_id or label_id.
	NullID Kind = "null-id"
	// DanglingNumber: an entry row whose phone_number_id has no PhoneNumber row.
	DanglingNumber Kind = "dangling-number"
	// DanglingLabel: an identification row whose label_id has no Label row.
	DanglingLabel Kind = "dangling-label"

	// RolledBack (a notice): the copy had a hot journal, which SQLite
	// rolled back when doctor opened it.
	RolledBack Kind = "rolled-back"
	// WALReplayed (a notice): the copy had a -wal holding committed
	// transactions, which SQLite read with the database.
	WALReplayed Kind = "wal-replayed"
)

// How to get a new file on a device or a simulator, for the fixes below.
const (
	newFile = "On the device, Settings › General › Transfer or Reset iPhone › Reset › Reset All Settings is the only reset field reports found to clear the file (CALLKIT.md §4.1). " +
		"On a simulator, shut it down and delete the file with its -journal and -wal: the daemon copies its template at the next start (CALLKIT.md §3.1), and each extension must load again."
	phoneSettings = "Settings › Phone › Call Blocking & Identification (Settings › Apps › Phone › Call Blocking & Identification from iOS 18)"
)

// kindTable is the one table of what doctor reports, in docs/DOCTOR.md's
// order: findings, then notices. fix is the "what to do" line printed once
// per kind in text and with every finding in JSON; docs/DOCTOR.md quotes it
// verbatim (cmd/calldir's TestDoctorDocsKinds compares them).
var kindTable = []struct {
	kind    Kind
	notice  bool   // what happened to the copy: not a finding, healthy stays true
	section string // the CALLKIT.md section it rests on
	summary string // one line, for calldir doctor --help
	fix     string // what to do, for people
}{
	{Corrupt, false, "§3.5", "integrity_check failed, or a read failed with SQLite 11",
		"If the copy was made while the file was in use, copy it again with the device or simulator idle and run doctor again. " +
			"Damage in the device's file stays: the daemon recreates the file only when its SchemaVersion probe fails (CALLKIT.md §3.5), " +
			"and re-enabling, rebooting, reinstalling and waiting did not clear it in field reports. " + newFile},
	{SchemaVersionKind, false, "§3.2", "SchemaVersion empty, unreadable, or not version 5",
		"Versions 2–4: nothing, the daemon migrates the file at its next start. " +
			"Version 1 or below, or a probe failing with SQLite 11: the daemon replaces the file with its template at its next start (CALLKIT.md §3.5), " +
			"so every extension must load again; reload yours once it has. " +
			"Empty: CALLKIT.md does not say what the daemon does; copy the file again to rule out a bad copy. " +
			"Newer than 5: use a calldir that knows it; until then the checks assume version 5's layout."},
	{MissingIndex, false, "§3.2", "a version-5 file without one of version 5's indexes or UNIQUE keys",
		"The daemon never creates an index in a version-5 file (the file comes from its template, CALLKIT.md §3.1, and only the migration to 5 adds one), " +
			"so it stays missing. First make sure the copy is of the device's own file, not of one a tool rewrote. " + newFile},
	{UnknownState, false, "§1.7", "an extension state other than 1-5",
		"Reload the extension (CXCallDirectoryManager reloadExtension): a load sets the state anew, 3 and then 4 or 1 (CALLKIT.md §1.7 steps 2, 7, 8). " +
			"CallKit never writes such a state: find out what else edits the file."},
	{StuckLoading, false, "§1.7 step 9", "state 3: a load that never finished",
		"Wait: the daemon's prepare step sets the extension back to state 4 after an hour, keeping these rows (CALLKIT.md §1.7 step 9); then reload the extension so that its list is complete again."},
	{LoadedEmpty, false, "§1.7 step 8", "state 4 (loaded) with no rows",
		"If the extension should hold entries, have its next load write its whole list, not a delta: a failed reload deleted every row and incremental loads add to nothing (CALLKIT.md §1.7 step 8). " +
			"Record each load's outcome in the App Group to see why it failed (CALLKIT.md §4.7)."},
	{RowsNotLoaded, false, "§1.7 steps 8, 10", "state 1 (disabled) with rows",
		"Switch the extension on in " + phoneSettings + ": from state 1 that starts a complete load, whose initial deletion replaces these rows (CALLKIT.md §1.7; a reload from the app fails with error 6 in state 1). " +
			"CallKit never leaves rows in state 1: find out what else edits the file."},
	{DuplicateEntry, false, "§1.3", "one number twice for one extension in one entry table",
		"Have the extension do a complete load of a list without repeats: its initial deletion removes every row of the extension first (CALLKIT.md §1.7 step 5). " +
			"For identification, make incremental loads remove a number before adding it again."},
	{UnknownExtension, false, "§3.2", "entry rows of an extension id with no Extension row",
		"Nothing the daemon runs deletes these rows: they block and identify nothing (the lookups join Extension) but take space, and an extension given the same id later would inherit them. " +
			"Only a new file is rid of them. " + newFile},
	{NullID, false, "§3.3", "entry rows with a NULL extension_id, phone_number_id or label_id",
		"A NULL phone_number_id or label_id: have the extension do a complete load, whose initial deletion removes its rows (CALLKIT.md §1.7 step 5); until then the orphan cleanup deletes nothing (CALLKIT.md §3.3). " +
			"A NULL extension_id belongs to no extension and nothing the daemon runs deletes it: as for unknown-extension."},
	{DanglingNumber, false, "§1.7 step 10", "entry rows whose phone_number_id has no PhoneNumber row",
		"Have the extension do a complete load: its initial deletion removes these rows and the load adds its numbers again (CALLKIT.md §1.7 step 5). Until then these entries block or identify nothing."},
	{DanglingLabel, false, "§1.7 step 10", "identification rows whose label_id has no Label row",
		"Have the extension do a complete load: its initial deletion removes these rows and the load adds them with their labels again (CALLKIT.md §1.7 step 5). Until then these entries identify nothing."},
	{RolledBack, true, "§3.1", "the copy's hot journal was rolled back (an interrupted transaction)",
		"Nothing: the device's file keeps its journal until the daemon next opens the file and rolls it back the same way. To see the file without one, copy it again with the device or simulator idle."},
	{WALReplayed, true, "§3.1", "the copy's -wal held committed transactions, read with the database",
		"Nothing: the daemon reads the -wal the same way, and SQLite checkpoints it into the database in time. Always copy the -wal with the database: without it a copy misses these transactions."},
}

// Kinds lists every kind doctor reports, findings first, in the order of
// docs/DOCTOR.md.
func Kinds() []Kind {
	ks := make([]Kind, len(kindTable))
	for i, k := range kindTable {
		ks[i] = k.kind
	}
	return ks
}

func kindInfo(k Kind) (notice bool, section, summary, fix string) {
	for _, e := range kindTable {
		if e.kind == k {
			return e.notice, "CALLKIT.md " + e.section, e.summary, e.fix
		}
	}
	return false, "", "", ""
}

// Section is the CALLKIT.md section a kind rests on: "CALLKIT.md §1.7 step 8".
func (k Kind) Section() string { _, s, _, _ := kindInfo(k); return s }

// Notice reports whether k is a notice (what happened to the copy), which
// does not make a file unhealthy, rather than a finding.
func (k Kind) Notice() bool { n, _, _, _ := kindInfo(k); return n }

// Summary is one line on what k means, for a command's help.
func (k Kind) Summary() string { _, _, s, _ := kindInfo(k); return s }

// Fix says what to do about k, for people.
func (k Kind) Fix() string { _, _, _, f := kindInfo(k); return f }

// Help is the one-line description of k that calldir doctor --help and
// docs/CLI.md print: its Summary.
func (k Kind) Help() string { return k.Summary() }
