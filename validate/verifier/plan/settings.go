package plan

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Settings are the knobs of the model database and the daemon model. The
// facts that are unknown about the real CallDirectory.db (page size, journal
// mode, …: CALLKIT.md §7 "Gaps") are all here, so explore can vary them.
type Settings struct {
	PageSize     int           // bytes per page; 0 leaves SQLite's default (4096)
	JournalMode  string        // delete, truncate, persist, wal, memory, off
	Synchronous  string        // off, normal, full, extra
	CacheSize    int           // PRAGMA cache_size (negative: KiB); small values spill dirty pages mid-transaction
	FlushSize    int           // entries per extension flush = one transaction (CALLKIT.md §1.2: 10,000)
	StatementRow int           // rows per multi-row statement (CALLKIT.md §3.4: 500)
	BusyTimeout  time.Duration // sqlite3_busy_timeout (CALLKIT.md §3.1: 120 s)
	MaxPageCount int           // PRAGMA max_page_count; 0 = unlimited (disk-full fault)
	VFS          string        // "" (unix) or unix-none (no locking at all)
	SharedCache  bool          // SQLITE_OPEN_SHAREDCACHE, as CallKit opens it (CALLKIT.md §3.1)
}

// DefaultSettings mirror what CALLKIT.md knows of the daemon (§1.2, §3.1,
// §3.4), with SQLite's defaults where it knows nothing (§7 "Gaps").
func DefaultSettings() Settings {
	return Settings{
		JournalMode:  "delete",
		Synchronous:  "full",
		CacheSize:    -2000,
		FlushSize:    10_000,
		StatementRow: 500,
		BusyTimeout:  120 * time.Second,
		SharedCache:  true,
	}
}

// settingTable is the one description of every key Set accepts, in
// documentation order: the values Set takes (an enumeration "a, b", or a
// range "LO … HI"; TestSettingValues holds Set to them) and what the key
// sets. calldir replay --help and docs/CLI.md print it.
var settingTable = []struct{ key, values, help string }{
	{"page_size", "0, or a power of two 512 … 65536", "bytes per database page; 0 leaves SQLite's default (4096)"},
	{"journal_mode", "delete, truncate, persist, wal, memory, off", "PRAGMA journal_mode"},
	{"synchronous", "off, normal, full, extra", "PRAGMA synchronous"},
	{"cache_size", "-1048576 … 1048576", "PRAGMA cache_size (negative: KiB); a small cache spills dirty pages mid-transaction"},
	{"flush", "1 … 1000000", "entries per extension flush, one transaction (CALLKIT.md §1.2)"},
	{"statement", "1 … 10000", "rows per multi-row INSERT statement (CALLKIT.md §3.4)"},
	{"busy_timeout", "a duration, 0 … 1h", "sqlite3_busy_timeout (CALLKIT.md §3.1)"},
	{"max_page_count", "0 … 1073741824", "PRAGMA max_page_count; 0: unlimited"},
	{"vfs", "unix, unix-none", "unix-none: no file locking at all"},
	{"shared_cache", "on, off", "SQLITE_OPEN_SHAREDCACHE, as CallKit opens the file (CALLKIT.md §3.1)"},
}

// settingKeys lists every key Set accepts, in documentation order.
var settingKeys = func() []string {
	out := make([]string, len(settingTable))
	for i, e := range settingTable {
		out[i] = e.key
	}
	return out
}()

// SettingKey names one setting of a plan (set KEY=VALUE, replay --set).
type SettingKey string

// SettingKeys lists every setting key, in documentation order.
func SettingKeys() []SettingKey {
	out := make([]SettingKey, len(settingTable))
	for i, e := range settingTable {
		out[i] = SettingKey(e.key)
	}
	return out
}

func settingInfo(k SettingKey) (values, help string) {
	for _, e := range settingTable {
		if e.key == string(k) {
			return e.values, e.help
		}
	}
	return "", "unknown setting"
}

// Help is a one-line description of the setting, for people.
func (k SettingKey) Help() string { _, h := settingInfo(k); return h }

// Values says which values Set takes for the key.
func (k SettingKey) Values() string { v, _ := settingInfo(k); return v }

// Default is the key's value in DefaultSettings, as Pairs prints it.
func (k SettingKey) Default() string {
	for _, p := range DefaultSettings().Pairs() {
		if key, val, _ := strings.Cut(p, "="); key == string(k) {
			return val
		}
	}
	return ""
}

// Set changes one setting from its plan-file form.
func (s *Settings) Set(key, val string) error {
	num := func(lo, hi int) (int, error) {
		n, err := strconv.Atoi(val)
		if err != nil || n < lo || n > hi {
			return 0, fmt.Errorf("setting %s=%q: want an integer in %d..%d", key, val, lo, hi)
		}
		return n, nil
	}
	oneOf := func(opts ...string) (string, error) {
		v := strings.ToLower(val)
		for _, o := range opts {
			if v == o {
				return v, nil
			}
		}
		return "", fmt.Errorf("setting %s=%q: want one of %s", key, val, strings.Join(opts, ", "))
	}
	var err error
	switch key {
	case "page_size":
		var n int
		if n, err = num(0, 65536); err == nil {
			if n != 0 && (n < 512 || n&(n-1) != 0) {
				return fmt.Errorf("setting page_size=%d: want a power of two from 512 to 65536 (0: SQLite's default)", n)
			}
			s.PageSize = n
		}
	case "journal_mode":
		s.JournalMode, err = oneOf("delete", "truncate", "persist", "wal", "memory", "off")
	case "synchronous":
		s.Synchronous, err = oneOf("off", "normal", "full", "extra")
	case "cache_size":
		s.CacheSize, err = num(-1<<20, 1<<20)
	case "flush":
		s.FlushSize, err = num(1, 1_000_000)
	case "statement":
		s.StatementRow, err = num(1, 10_000)
	case "busy_timeout":
		d, perr := time.ParseDuration(val)
		if perr != nil || d < 0 || d > time.Hour {
			return fmt.Errorf("setting busy_timeout=%q: want a duration such as 100ms or 120s", val)
		}
		s.BusyTimeout = d
	case "max_page_count":
		s.MaxPageCount, err = num(0, 1<<30)
	case "vfs":
		s.VFS, err = oneOf("unix", "unix-none")
		if s.VFS == "unix" {
			s.VFS = ""
		}
	case "shared_cache":
		var v string
		if v, err = oneOf("on", "off"); err == nil {
			s.SharedCache = v == "on"
		}
	default:
		return fmt.Errorf("unknown setting %q (known: %s)", key, strings.Join(settingKeys, ", "))
	}
	return err
}

// Pairs renders the settings as key=value pairs in a fixed order.
func (s Settings) Pairs() []string {
	vfs := s.VFS
	if vfs == "" {
		vfs = "unix"
	}
	on := map[bool]string{true: "on", false: "off"}
	return []string{
		"page_size=" + strconv.Itoa(s.PageSize),
		"journal_mode=" + s.JournalMode,
		"synchronous=" + s.Synchronous,
		"cache_size=" + strconv.Itoa(s.CacheSize),
		"flush=" + strconv.Itoa(s.FlushSize),
		"statement=" + strconv.Itoa(s.StatementRow),
		"busy_timeout=" + s.BusyTimeout.String(),
		"max_page_count=" + strconv.Itoa(s.MaxPageCount),
		"vfs=" + vfs,
		"shared_cache=" + on[s.SharedCache],
	}
}

// Short is a compact label for tables: the settings that differ from the
// defaults.
func (s Settings) Short() string {
	def := DefaultSettings().Pairs()
	var d []string
	for i, p := range s.Pairs() {
		if p != def[i] {
			d = append(d, p)
		}
	}
	if len(d) == 0 {
		return "default"
	}
	sort.Strings(d)
	return strings.Join(d, " ")
}
