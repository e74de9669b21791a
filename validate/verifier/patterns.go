package verifier

import (
	"fmt"
	"time"
)

// A Pattern builds a plan: one of the load patterns that field reports
// connect with CallKit errors and corrupt databases (CALLKIT.md §4 and §7).
// scale shrinks or grows every count (1 = full size).
type Pattern struct {
	Name string
	Doc  string
	Make func(scale float64) *Plan
}

func scaled(n int, scale float64) int64 {
	v := int64(float64(n) * scale)
	return max(v, 10)
}

// load builds a load step of block ranges.
func load(ext string, incremental bool, ranges ...[2]int64) Step {
	st := Step{Kind: StepLoad, Ext: ext, Incremental: incremental, FailAfter: -1}
	for _, r := range ranges {
		st.Ops = append(st.Ops, Op{Kind: OpBlock, Source: Source{First: r[0], Last: r[1], Step: 1}})
	}
	return st
}

func span(first, n int64) [2]int64 { return [2]int64{first, first + n - 1} }

const base = int64(14_155_000_000) // +1 415 5xx xxxx

func newPlan(exts ...string) *Plan {
	p := &Plan{Settings: DefaultSettings()}
	for _, e := range exts {
		p.Extensions = append(p.Extensions, ExtDef{Name: e, Bundle: "com.example." + e})
	}
	return p
}

// Patterns are the seven load patterns explore runs (docs/VERIFIER.md).
// Their Doc text, which explore prints, cites docs/CALLKIT.md.
var Patterns = []Pattern{
	{"field-report", "a few thousand entries, several reloads between additions (FB20986470 repro, CALLKIT.md §4.1)", func(s float64) *Plan {
		// "A few thousand entries" is the report's own size: not scaled.
		p := newPlan("a")
		n := int64(3000)
		p.Steps = append(p.Steps, load("a", false, span(base, n)))
		total := n
		for r := 0; r < 4; r++ {
			add := int64(500)
			p.Steps = append(p.Steps, load("a", true, span(base+total, add)))
			total += add
			for k := 0; k < 2; k++ { // reloads between additions
				p.Steps = append(p.Steps, load("a", false, span(base, total)))
			}
		}
		return p
	}},
	{"incremental-past-2M", "many 5,000-entry incremental reloads past 2,000,000 rows (Saracroche-like, CALLKIT.md §2)", func(s float64) *Plan {
		p := newPlan("a")
		chunk := int64(5000)
		target := scaled(2_100_000, s)
		p.Steps = append(p.Steps, load("a", false, span(base, chunk)))
		for at := chunk; at < target; at += chunk {
			p.Steps = append(p.Steps, load("a", true, span(base+at, chunk)))
		}
		return p
	}},
	{"repeated-complete", "repeated complete reloads of a large extension: a big DELETE and re-insert each time (CALLKIT.md §4.2, §4.7)", func(s float64) *Plan {
		p := newPlan("a")
		n := scaled(1_000_000, s)
		for r := 0; r < 4; r++ {
			p.Steps = append(p.Steps, load("a", false, span(base+int64(r)*7, n)))
		}
		return p
	}},
	{"failed-after-partial", "a failed load after partial commits: insert then delete churn, loaded extension left empty (CALLKIT.md §1.7)", func(s float64) *Plan {
		// At least four flushes, so that three commit before the failure.
		p := newPlan("a")
		n := max(scaled(50_000, s), 40_000)
		p.Steps = append(p.Steps, load("a", false, span(base, n)))
		st := load("a", false, span(base, n+n/2))
		st.FailAfter = 3
		p.Steps = append(p.Steps, st, load("a", true, span(base+2*n, scaled(5000, s))))
		return p
	}},
	{"overlapping-extensions", "two extensions holding overlapping numbers; one reloads, one is removed (CALLKIT.md §2, §4.6)", func(s float64) *Plan {
		p := newPlan("a", "b")
		n := scaled(40_000, s)
		p.Steps = append(p.Steps,
			load("a", false, span(base, n)),
			load("b", false, span(base+n/2, n)),
			load("a", false, span(base+n/4, n)),
			Step{Kind: StepDisable, Ext: "b"},
			Step{Kind: StepMaintenance},
			load("b", false, span(base, n/2)))
		return p
	}},
	{"vacuum-large", "VACUUM of a large file after the big rows went away (CALLKIT.md §1.7 step 10)", func(s float64) *Plan {
		p := newPlan("a", "b")
		n := scaled(1_000_000, s)
		p.Steps = append(p.Steps,
			load("a", false, span(base, n)),
			load("b", false, span(base+n, n/4)),
			load("a", false, span(base, n/10)),
			Step{Kind: StepMaintenance})
		return p
	}},
	{"reader-during-writer", "a call-time reader holding a read transaction while the daemon writes (CALLKIT.md §3.1)", func(s float64) *Plan {
		p := newPlan("a")
		n := scaled(100_000, s)
		p.Steps = append(p.Steps,
			load("a", false, span(base, n)),
			Step{Kind: StepReader, Hold: 300 * time.Millisecond},
			load("a", false, span(base, n+n/10)))
		return p
	}},
}

// SettingsVariant is a named set of settings for the matrix.
type SettingsVariant struct {
	Name  string
	Pairs []string // key=value
}

// Variants are the settings the matrix runs: the likely real ones and the
// unsafe ones SQLite documents as corrupting (howtocorrupt §3.2, §7).
var Variants = []SettingsVariant{
	{"default", nil},
	{"wal", []string{"journal_mode=wal", "synchronous=normal"}},
	{"journal-off", []string{"journal_mode=off", "cache_size=8"}},
	{"journal-memory", []string{"journal_mode=memory", "cache_size=8"}},
	{"small-cache", []string{"cache_size=8"}}, // a flush spills dirty pages to the file mid-transaction
	{"sync-off", []string{"synchronous=off"}},
	{"page-1k", []string{"page_size=1024"}},
}

// Faults are the fault kinds of the matrix.
var Faults = append([]string{"kill", "none", "disk-full", "busy", "unlocked-writer", "kill+delete-journal", "kill+delete-wal"}, PowerFaults...)

// applyFault adds fault f to plan p (seed sizes the disk-full room). It
// reports false when the fault does not apply to these settings or this
// pattern (a kill with a concurrent process).
func applyFault(p *Plan, f string, seed uint64) bool {
	js := p.Settings.JournalMode
	switch f {
	case "none":
	case "kill":
		p.Kill = &KillFault{At: -1}
	case "kill+delete-journal":
		if js == "wal" || js == "off" || js == "memory" {
			return false
		}
		p.Kill = &KillFault{At: -1, Then: "delete-journal"}
	case "kill+delete-wal":
		if js != "wal" {
			return false
		}
		p.Kill = &KillFault{At: -1, Then: "delete-wal"}
	case "disk-full":
		// A little room to grow before the last load: SQLITE_FULL mid-load.
		last := len(p.Steps) - 1
		p.Steps = append(p.Steps[:last], append([]Step{{Kind: StepDiskFull, Extra: 8 + int(seed%32)}}, p.Steps[last:]...)...)
	case "busy":
		p.Settings.BusyTimeout = 100 * time.Millisecond
		last := len(p.Steps) - 1
		p.Steps = append(p.Steps[:last], append([]Step{{Kind: StepBusy, Hold: 400 * time.Millisecond}}, p.Steps[last:]...)...)
	case "unlocked-writer":
		p.Settings.VFS = "unix-none"
		last := len(p.Steps) - 1
		p.Steps = append(p.Steps[:last], append([]Step{{Kind: StepWriter, Count: 20_000}}, p.Steps[last:]...)...)
	default:
		if !applyPowerFault(p, f) {
			panic(fmt.Sprintf("unknown fault %q", f))
		}
	}
	for _, st := range p.Steps {
		if (p.Kill != nil || p.Power != nil) && (st.Kind == StepReader || st.Kind == StepBusy || st.Kind == StepWriter) {
			return false
		}
	}
	return true
}
