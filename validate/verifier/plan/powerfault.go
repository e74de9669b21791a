package plan

import (
	"fmt"
	"strconv"
	"strings"
)

// PowerFault is a fault played through the crash VFS (package crashvfs):
// the power fails right after write point At, or the disk is full from
// write point At on. Write points count every write, truncation and
// deletion of the database, its journal and its WAL, 0-based, from the
// daemon's first open of the database.
type PowerFault struct {
	Kind   string // "power-loss" or "disk-full"
	At     int64  // -1: explore picks one from a fault-free count (seeded)
	Seed   uint64 // power-loss: the tear decisions and garbage; 0: the plan's seed
	Mode   string // power-loss: "tear" (default: each unsynced sector kept, reverted or garbage) or "drop" (all reverted)
	Sector int    // power-loss: bytes per sector, 512 or 4096 (0: 4096)
}

const powerFaultUsage = "fault takes: kill at=K [then=delete-journal|delete-wal], power-loss at=K [seed=S] [mode=drop|tear] [sector=512|4096], or disk-full at=K"

// parsePowerFault reads the options of `fault power-loss` and
// `fault disk-full`.
func parsePowerFault(kind string, kv map[string]string) (*PowerFault, error) {
	f := &PowerFault{Kind: kind}
	at, ok := kv["at"]
	if !ok {
		return nil, fmt.Errorf("fault %s needs at=K (a write point)", kind)
	}
	var err error
	if f.At, err = strconv.ParseInt(at, 10, 64); err != nil || f.At < 0 {
		return nil, fmt.Errorf("fault %s at=%q: want a write point, 0 or more", kind, at)
	}
	known := []string{"at"}
	if kind == "power-loss" {
		known = append(known, "seed", "mode", "sector")
		if v, ok := kv["seed"]; ok {
			if f.Seed, err = strconv.ParseUint(v, 10, 64); err != nil || f.Seed == 0 {
				return nil, fmt.Errorf("fault power-loss seed=%q: want a number, 1 or more", v)
			}
		}
		switch f.Mode = kv["mode"]; f.Mode {
		case "", "drop", "tear":
		default:
			return nil, fmt.Errorf("fault power-loss mode=%q: want drop or tear", f.Mode)
		}
		if v, ok := kv["sector"]; ok {
			if f.Sector, err = strconv.Atoi(v); err != nil || (f.Sector != 512 && f.Sector != 4096) {
				return nil, fmt.Errorf("fault power-loss sector=%q: want 512 or 4096", v)
			}
		}
	}
	if extra := unknownKeys(kv, known...); extra != "" {
		return nil, fmt.Errorf("fault %s: unknown option %s", kind, extra)
	}
	return f, nil
}

// format is the plan line of the fault, options as given.
func (f *PowerFault) format() string {
	w := []string{"fault", f.Kind, "at=" + strconv.FormatInt(f.At, 10)}
	if f.Seed != 0 {
		w = append(w, "seed="+strconv.FormatUint(f.Seed, 10))
	}
	if f.Mode != "" {
		w = append(w, "mode="+f.Mode)
	}
	if f.Sector != 0 {
		w = append(w, "sector="+strconv.Itoa(f.Sector))
	}
	return strings.Join(w, " ") + "\n"
}

// String names the fault for reports: "power-loss at write 17 (tear, 4096-byte sectors)".
func (f *PowerFault) String() string {
	if f.Kind == "disk-full" {
		return fmt.Sprintf("disk full from write %d", f.At)
	}
	mode, sector := f.Mode, f.Sector
	if mode == "" {
		mode = "tear"
	}
	if sector == 0 {
		sector = 4096
	}
	return fmt.Sprintf("power loss after write %d (%s, %d-byte sectors)", f.At, mode, sector)
}
