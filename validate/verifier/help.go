package verifier

import "github.com/calldir/calldir/validate/verifier/plan"

// The one description of each of explore's faults, settings variants and
// patterns: calldir explore --help and docs/CLI.md print these, and
// TestExploreNamesHaveHelp fails on a name without one.

// Fault names one of explore's faults (Faults).
type Fault string

var faultHelp = map[Fault]string{
	"kill":                "the writer process is killed before a statement drawn from the fault-free run's count (plan: fault kill at=K)",
	"none":                "no fault: the pattern under the settings alone",
	"disk-full":           "max_page_count leaves 8 to 39 pages of room before the last load: SQLITE_FULL mid-load (plan: disk-full extra=N)",
	"busy":                "another connection holds the write lock for 400ms during the last load, busy_timeout 100ms (plan: busy hold=400ms)",
	"unlocked-writer":     "a second process loads 20,000 entries during the last load, no file locking (unsafe; plan: writer count=20000)",
	"kill+delete-journal": "a kill, then the hot rollback journal deleted before the reopen (unsafe; plan: fault kill at=K then=delete-journal)",
	"kill+delete-wal":     "a kill, then the WAL deleted before the reopen; wal only (unsafe; plan: fault kill at=K then=delete-wal)",
	"power-loss":          "the power fails after a write point drawn from a fault-free count, through the crash VFS (plan: fault power-loss at=K)",
	"disk-full-at":        "the disk is full from a write point on, through the crash VFS: growing writes fail (plan: fault disk-full at=K)",
}

// Help is a one-line description of the fault, for people.
func (f Fault) Help() string {
	if h, ok := faultHelp[f]; ok {
		return h
	}
	return "unknown fault"
}

// FirstVariant is the settings variant explore runs fault f with first:
// the one under which it can find the most (default when none is named).
func (f Fault) FirstVariant() string {
	if v, ok := firstVariant[string(f)]; ok {
		return v
	}
	return "default"
}

var variantHelp = map[string]string{
	"default":        "what CALLKIT.md knows of the daemon (delete journal, synchronous=full), SQLite's defaults elsewhere",
	"wal":            "write-ahead logging with synchronous=normal: commits since the last checkpoint may roll back on power loss",
	"journal-off":    "no rollback journal and a cache that spills mid-transaction: a kill can corrupt the file (unsafe)",
	"journal-memory": "the rollback journal in memory, gone with the process, and a cache that spills (unsafe)",
	"small-cache":    "the rollback journal with cache_size=8: a flush spills dirty pages to the file before COMMIT",
	"sync-off":       "synchronous=off: matters only on power loss, where it is unsafe",
	"page-1k":        "1,024-byte pages instead of 4,096: more pages and deeper b-trees for the same rows",
}

// Help is a one-line description of the settings variant, for people.
func (v SettingsVariant) Help() string {
	if h, ok := variantHelp[v.Name]; ok {
		return h
	}
	return "unknown settings variant"
}

// Help is a one-line description of the pattern, for people: its Doc.
func (p Pattern) Help() string { return p.Doc }

// SettingKey names one plan setting (plan.SettingKey), with its Help,
// Values and Default.
type SettingKey = plan.SettingKey

// SettingKeys lists every plan setting key (plan.SettingKeys).
func SettingKeys() []SettingKey { return plan.SettingKeys() }
