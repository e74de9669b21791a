package doctor

import (
	"errors"
	"fmt"

	"github.com/mattn/go-sqlite3"
)

// Kind names an invariant of CALLKIT.md that a database breaks.
type Kind string

// The kinds doctor reports. docs/DOCTOR.md explains each one; Section gives
// the CALLKIT.md section it rests on.
const (
	// Corrupt: integrity_check failed, or a read failed with SQLITE_CORRUPT.
	Corrupt Kind = "corrupt"
	// SchemaVersionKind: SchemaVersion is empty, unreadable, or not a
	// version doctor knows.
	SchemaVersionKind Kind = "schema-version"
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
)

// Section is the CALLKIT.md section an invariant rests on.
func (k Kind) Section() string {
	return "CALLKIT.md " + map[Kind]string{
		Corrupt:           "§3.5",
		SchemaVersionKind: "§3.2",
		UnknownState:      "§1.7",
		StuckLoading:      "§1.7 step 9",
		LoadedEmpty:       "§1.7 step 8",
		RowsNotLoaded:     "§1.7 steps 8, 10",
		DuplicateEntry:    "§1.3",
		UnknownExtension:  "§3.2",
		NullID:            "§3.3",
		DanglingNumber:    "§1.7 step 10",
		DanglingLabel:     "§1.7 step 10",
	}[k]
}

// Finding is one broken invariant, identified by the extension, table and
// number it concerns (each only where relevant).
type Finding struct {
	Kind    Kind   `json:"kind"`
	Section string `json:"section"` // e.g. "CALLKIT.md §1.7 step 8"
	// ExtensionID is the Extension.id concerned (for unknown-extension, the
	// id that has no row); nil when the finding is about no one extension.
	ExtensionID *int64 `json:"extension_id,omitempty"`
	BundleID    string `json:"bundle_id,omitempty"`
	Table       string `json:"table,omitempty"`
	Number      *int64 `json:"number,omitempty"` // PhoneNumber.number, for duplicate-entry
	Rows        int64  `json:"rows,omitempty"`   // entry rows concerned
	Message     string `json:"message"`
}

// MaxFindingsPerCheck bounds the findings one check reports; the rest are
// counted in Report.OmittedFindings.
const MaxFindingsPerCheck = 100

// add records a finding, filling its section and bundle id.
func (ex *examiner) add(f Finding) {
	f.Section = f.Kind.Section()
	if f.ExtensionID != nil && f.BundleID == "" {
		if e := ex.byID[*f.ExtensionID]; e != nil && e.BundleID != nil {
			f.BundleID = *e.BundleID
		}
	}
	ex.rep.Findings = append(ex.rep.Findings, f)
}

// UnreadableError is a file doctor cannot examine at all: missing, not a
// regular file, not an SQLite database, truncated, or without the tables of
// CallDirectory.db. Nothing in it was checked.
type UnreadableError struct {
	Path   string // as given
	Reason string // for people: "not a CallDirectory.db: missing table Label"
	Err    error  // the underlying error, if any
}

func (e *UnreadableError) Error() string { return "doctor " + e.Path + ": " + e.Reason }

func (e *UnreadableError) Unwrap() error { return e.Err }

func unreadable(path, reason string, err error) error {
	return &UnreadableError{Path: path, Reason: reason, Err: err}
}

// sqliteText words an SQLite error with its primary code (CALLKIT.md §6.1),
// as CallKit would report it: "SQLite 11 (database disk image is malformed)".
func sqliteText(err error) string {
	var se sqlite3.Error
	if errors.As(err, &se) {
		return fmt.Sprintf("SQLite %d (%s)", int(se.Code), se.Error())
	}
	return err.Error()
}

// isCorrupt reports whether err is SQLITE_CORRUPT (11), the code the daemon
// treats as damage (CALLKIT.md §3.5).
func isCorrupt(err error) bool {
	var se sqlite3.Error
	return errors.As(err, &se) && se.Code == sqlite3.ErrCorrupt
}
