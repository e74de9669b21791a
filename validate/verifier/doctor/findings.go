package doctor

import (
	"fmt"
)

// Finding is one broken invariant, identified by the extension, table and
// number it concerns (each only where relevant); or, in Report.Notices, one
// thing that happened to the copy.
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
	Fix         string `json:"fix"` // what to do: Kind.Fix
}

// MaxFindingsPerCheck bounds the findings one check reports; the rest are
// counted in Report.OmittedFindings.
const MaxFindingsPerCheck = 100

// add records a finding, or a notice when its kind is one, filling its
// section, what to do and bundle id.
func (ex *examiner) add(f Finding) {
	f.Section, f.Fix = f.Kind.Section(), f.Kind.Fix()
	if f.ExtensionID != nil && f.BundleID == "" {
		if e := ex.byID[*f.ExtensionID]; e != nil && e.BundleID != nil {
			f.BundleID = *e.BundleID
		}
	}
	if f.Kind.Notice() {
		ex.rep.Notices = append(ex.rep.Notices, f)
		return
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
	if code, msg, ok := sqliteError(err); ok {
		return fmt.Sprintf("SQLite %d (%s)", code, msg)
	}
	return err.Error()
}

// isCorrupt reports whether err is SQLITE_CORRUPT (11), the code the daemon
// treats as damage (CALLKIT.md §3.5).
func isCorrupt(err error) bool {
	code, _, ok := sqliteError(err)
	return ok && code == sqliteCorrupt
}
