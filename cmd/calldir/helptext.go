package main

import (
	"fmt"
	"strings"

	"github.com/calldir/calldir/e164"
	"github.com/calldir/calldir/validate"
	"github.com/calldir/calldir/validate/verifier"
	"github.com/calldir/calldir/validate/verifier/doctor"
)

// The fixed sets of names calldir prints and reads (finding kinds, reject
// reasons, faults, settings, …), each gathered from the Help of its own
// package: the commands' help lists them from here, docs/CLI.md is
// generated from here (TestCLIDoc), and the tables of the prose docs are
// held to these sets (TestDocTablesMatchCode).

// helpRow is one member of a set: its name, the line users read, and the
// extra cells of its docs/CLI.md row (helpTable.cols).
type helpRow struct {
	name  string
	help  string
	cells []string
}

// helpTable is one set, as docs/CLI.md shows it under "## title", whose
// anchor other docs link to.
type helpTable struct {
	anchor string   // "finding-kinds": docs/CLI.md#finding-kinds
	title  string   // the heading: "Finding kinds"
	intro  string   // the paragraph above the table
	name   string   // the first column's heading
	cols   []string // the headings of the extra cells
	rows   []helpRow
}

// helpTables are every set, in docs/CLI.md's order.
func helpTables() []helpTable {
	return []helpTable{findingKindTable(), rejectReasonTable(), faultTable(), settingTable(), variantTable(), patternTable(), doctorTable()}
}

func findingKindTable() helpTable {
	t := helpTable{anchor: "finding-kinds", title: "Finding kinds", name: "Kind",
		intro: "What `calldir validate` reports, in its text, JSON (`kind`) and GitHub output: a build's kinds, then a delta's, then a Live Caller ID Lookup export's."}
	for _, k := range validate.Kinds() {
		t.rows = append(t.rows, helpRow{name: string(k), help: k.Help()})
	}
	return t
}

func rejectReasonTable() helpTable {
	t := helpTable{anchor: "reject-reasons", title: "Reject reasons", name: "Reason",
		intro: "Why `calldir compile` or `calldir validate --raw` rejects a line or a register row: the `reason` column of `--rejects` and the keys of `rejected_by_reason`."}
	for _, r := range e164.Reasons() {
		t.rows = append(t.rows, helpRow{name: r.String(), help: r.Help()})
	}
	return t
}

func faultTable() helpTable {
	t := helpTable{anchor: "faults", title: "Faults", name: "Fault", cols: []string{"Runs first with"},
		intro: "The faults of `calldir explore --fault NAME`, each with the plan line it adds (docs/VERIFIER.md) and the settings variant explore runs it with first."}
	for _, f := range verifier.Faults {
		fault := verifier.Fault(f)
		t.rows = append(t.rows, helpRow{name: f, help: fault.Help(), cells: []string{"`" + fault.FirstVariant() + "`"}})
	}
	return t
}

func settingTable() helpTable {
	t := helpTable{anchor: "settings", title: "Settings", name: "Key", cols: []string{"Default", "Values"},
		intro: "The settings of the SQLite model: `set KEY=VALUE` in a plan file, `calldir replay --set KEY=VALUE`."}
	for _, k := range verifier.SettingKeys() {
		t.rows = append(t.rows, helpRow{name: string(k), help: k.Help(), cells: []string{"`" + k.Default() + "`", k.Values()}})
	}
	return t
}

func variantTable() helpTable {
	t := helpTable{anchor: "explore-variants", title: "Explore variants", name: "Variant", cols: []string{"Settings"},
		intro: "The settings variants of `calldir explore --settings NAME`: what each sets over the defaults."}
	for _, v := range verifier.Variants {
		t.rows = append(t.rows, helpRow{name: v.Name, help: v.Help(), cells: []string{variantPairs(v)}})
	}
	return t
}

func patternTable() helpTable {
	t := helpTable{anchor: "explore-patterns", title: "Explore patterns", name: "Pattern",
		intro: "The load patterns of `calldir explore --pattern NAME`."}
	for _, p := range verifier.Patterns {
		t.rows = append(t.rows, helpRow{name: p.Name, help: p.Help()})
	}
	return t
}

func doctorTable() helpTable {
	t := helpTable{anchor: "doctor-findings", title: "Doctor findings", name: "Kind", cols: []string{"Notice", "Rests on"},
		intro: "What `calldir doctor` reports: findings, then notices (what SQLite did to the copy, which breaks nothing). docs/DOCTOR.md says what to do about each."}
	for _, k := range doctor.Kinds() {
		notice := ""
		if k.Notice() {
			notice = "notice"
		}
		t.rows = append(t.rows, helpRow{name: string(k), help: k.Help(), cells: []string{notice, k.Section()}})
	}
	return t
}

// variantPairs is what a settings variant sets, for people.
func variantPairs(v verifier.SettingsVariant) string {
	if len(v.Pairs) == 0 {
		return "the defaults"
	}
	return "`" + strings.Join(v.Pairs, "` `") + "`"
}

// helpList renders rows as a command's help lists them: three spaces, the
// name padded to width, a space, the help.
func helpList(rows []helpRow, width int) string {
	var b strings.Builder
	for _, r := range rows {
		fmt.Fprintf(&b, "   %-*s %s\n", width, r.name, r.help)
	}
	return b.String()
}

// findingKinds is calldir validate --help's list of finding kinds.
func findingKinds() string { return helpList(findingKindTable().rows, 18) }

// exploreFaults is calldir explore --help's list of faults.
func exploreFaults() string { return helpList(faultTable().rows, 24) }

// replaySettings is calldir replay --help's list of plan settings.
func replaySettings() string {
	var b strings.Builder
	for _, k := range verifier.SettingKeys() {
		fmt.Fprintf(&b, "   %-15s %s [%s; default %s]\n", k, k.Help(), k.Values(), k.Default())
	}
	return b.String()
}
