package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/calldir/calldir/validate/verifier/doctor"
	"github.com/urfave/cli/v2"
)

type doctorOpts struct {
	format string
}

func doctorCommand(e *env) *cli.Command {
	var o doctorOpts
	return &cli.Command{
		Name:      "doctor",
		Usage:     "examine a real CallDirectory.db (read-only) and report what it holds and which CallKit invariants it breaks",
		ArgsUsage: "FILE.db",
		Description: withExamples(`
Reads a CallDirectory.db taken from a simulator's data container or a
device's sysdiagnose. The file is never opened where it lies: it is copied,
with its -journal and -wal when present, to a temporary directory and only
the copy is opened (a hot journal is rolled back, a WAL replayed, in the
copy). A symlink, FIFO or directory given as FILE.db is refused.

Reports the schema version (doctor knows version 5), PRAGMA integrity_check,
page and free-page counts, and per extension its bundle id, state, and
blocking and identification rows; PhoneNumber and Label rows no entry refers
to (normal until the next maintenance); and every broken invariant of
docs/CALLKIT.md as a finding naming the extension, table and number
concerned and the section it rests on. docs/DOCTOR.md explains each kind
and the JSON shape.

FINDING KINDS:
` + doctorKinds() + `
Exit status 1 when there is any finding; 2 when FILE.db cannot be examined
at all (missing, not a regular file, not SQLite, truncated, or without the
tables of CallDirectory.db).

EXAMPLES:
   calldir doctor ~/Library/Developer/CoreSimulator/Devices/UDID/data/Library/CallDirectory/CallDirectory.db
   calldir doctor --format json CallDirectory.db > doctor.json
   calldir replay --keep /tmp/db my.plan; calldir doctor /tmp/db/CallDirectory.db`),
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Value: "text", Usage: "output `FORMAT`: text or json", Destination: &o.format},
		},
		Action: func(c *cli.Context) error {
			if c.Args().Len() != 1 {
				return usagef("doctor: want one FILE.db")
			}
			if o.format != "text" && o.format != "json" {
				return usagef("--format %q: want text or json", o.format)
			}
			return runDoctor(c.Context, o, c.Args().First(), e)
		},
	}
}

func doctorKinds() string {
	kinds := []struct {
		k    doctor.Kind
		help string
	}{
		{doctor.Corrupt, "integrity_check failed, or a read failed with SQLite 11"},
		{doctor.SchemaVersionKind, "SchemaVersion empty, unreadable, or not version 5"},
		{doctor.UnknownState, "an extension state other than 1-5"},
		{doctor.StuckLoading, "state 3: a load that never finished"},
		{doctor.LoadedEmpty, "state 4 (loaded) with no rows"},
		{doctor.RowsNotLoaded, "state 1 (disabled) with rows"},
		{doctor.DuplicateEntry, "one number twice for one extension in one entry table"},
		{doctor.UnknownExtension, "entry rows of an extension id with no Extension row"},
		{doctor.NullID, "entry rows with a NULL extension_id, phone_number_id or label_id"},
		{doctor.DanglingNumber, "entry rows whose phone_number_id has no PhoneNumber row"},
		{doctor.DanglingLabel, "identification rows whose label_id has no Label row"},
	}
	var b strings.Builder
	for _, k := range kinds {
		fmt.Fprintf(&b, "   %-18s %s\n", k.k, k.help)
	}
	return b.String()
}

func runDoctor(ctx context.Context, o doctorOpts, path string, e *env) error {
	rep, err := doctor.Examine(ctx, path)
	if err != nil {
		return err
	}
	if o.format == "json" {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else {
		printDoctor(e.stdout, rep)
	}
	if !rep.Healthy {
		return findingsError{fmt.Sprintf("doctor %s: %s", path, findingCounts(rep))}
	}
	return nil
}

func printDoctor(w io.Writer, r *doctor.Report) {
	fmt.Fprintf(w, "doctor %s\n", r.File)
	var cp []string
	for _, c := range r.Copied {
		cp = append(cp, fmt.Sprintf("%s (%s bytes)", c.Name, group(c.Bytes)))
	}
	fmt.Fprintf(w, "copied: %s\n", strings.Join(cp, ", "))
	version := "unknown"
	if r.SchemaVersion != nil {
		version = fmt.Sprint(*r.SchemaVersion)
	}
	fmt.Fprintf(w, "schema version %s (doctor knows %s); %s pages of %s bytes, %s free; journal mode %s\n",
		version, joinInts(r.KnownSchemaVersions), group(r.Pages), group(r.PageSize), group(r.FreePages), r.JournalMode)
	integrity := "ok"
	if len(r.Integrity) != 1 || r.Integrity[0] != "ok" {
		integrity = fmt.Sprintf("%d problem(s), listed as corrupt findings", len(r.Integrity))
	}
	fmt.Fprintf(w, "integrity_check: %s\n\n", integrity)
	printDoctorExtensions(w, r.Extensions)
	fmt.Fprintln(w, sharedText("PhoneNumber", r.PhoneNumbers))
	fmt.Fprintln(w, sharedText("Label", r.Labels))
	if some(r.PhoneNumbers.Unreferenced) || some(r.Labels.Unreferenced) {
		fmt.Fprintln(w, "  (unreferenced rows are normal: the daemon's maintenance deletes them, CALLKIT.md §1.7 step 10)")
	}
	if len(r.Findings) > 0 {
		fmt.Fprintf(w, "\nfindings:\n")
		for _, f := range r.Findings {
			fmt.Fprintf(w, "  %s: %s%s [%s]\n", f.Kind, findingWhere(f), f.Message, f.Section)
		}
	}
	if r.OmittedFindings > 0 {
		fmt.Fprintf(w, "  … and %s more findings of the same kinds (the first %d of each check are listed)\n", group(r.OmittedFindings), doctor.MaxFindingsPerCheck)
	}
	var rows int64
	for _, x := range r.Extensions {
		rows += x.BlockingRows + x.IdentificationRows
	}
	state := "healthy"
	if !r.Healthy {
		state = findingCounts(r)
	}
	fmt.Fprintf(w, "\ndoctor: %s; %d extension(s), %s entry rows, integrity_check %s\n", state, len(r.Extensions), group(rows), map[bool]string{true: "ok", false: "failed"}[integrity == "ok"])
}

// sharedText is "PhoneNumber: 10 rows, 2 referenced by no entry", with
// "unknown" for a count that could not be read.
func sharedText(table string, s doctor.Shared) string {
	count := func(n *int64) string {
		if n == nil {
			return "unknown"
		}
		return group(*n)
	}
	if s.Unreferenced == nil {
		return fmt.Sprintf("%s: %s rows; how many no entry refers to: unknown", table, count(s.Rows))
	}
	return fmt.Sprintf("%s: %s rows, %s referenced by no entry", table, count(s.Rows), count(s.Unreferenced))
}

func some(n *int64) bool { return n != nil && *n > 0 }

func printDoctorExtensions(w io.Writer, exts []doctor.Extension) {
	if len(exts) == 0 {
		fmt.Fprintf(w, "no extensions\n\n")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	// The bundle id goes last: its width varies most.
	fmt.Fprintln(tw, "id\tstate\tpriority\tblocking\tidentification\tbundle id")
	for _, x := range exts {
		bundle, prio, state := "NULL", "NULL", x.StateName
		if x.BundleID != nil {
			bundle = *x.BundleID
		}
		if x.Priority != nil {
			prio = fmt.Sprint(*x.Priority)
		}
		if x.State != nil {
			state = fmt.Sprintf("%d %s", *x.State, x.StateName)
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", x.ID, state, prio, group(x.BlockingRows), group(x.IdentificationRows), bundle)
	}
	tw.Flush()
	fmt.Fprintln(w)
}

// findingWhere names what a finding is about: "extension 1 (com.x),
// PhoneNumberBlockingEntry, number 14155550102: ".
func findingWhere(f doctor.Finding) string {
	var parts []string
	if f.ExtensionID != nil {
		s := fmt.Sprintf("extension %d", *f.ExtensionID)
		if f.BundleID != "" {
			s += " (" + f.BundleID + ")"
		}
		parts = append(parts, s)
	}
	if f.Table != "" {
		parts = append(parts, f.Table)
	}
	if f.Number != nil {
		parts = append(parts, fmt.Sprintf("number %d", *f.Number))
	}
	if len(parts) == 0 {
		return ""
	}
	return strings.Join(parts, ", ") + ": "
}

// findingCounts is "3 findings (corrupt 2, loaded-empty 1)".
func findingCounts(r *doctor.Report) string {
	n := map[doctor.Kind]int{}
	for _, f := range r.Findings {
		n[f.Kind]++
	}
	kinds := make([]string, 0, len(n))
	for k := range n {
		kinds = append(kinds, string(k))
	}
	sort.Strings(kinds)
	for i, k := range kinds {
		kinds[i] = fmt.Sprintf("%s %d", k, n[doctor.Kind(k)])
	}
	total := int64(len(r.Findings)) + r.OmittedFindings
	return fmt.Sprintf("%s finding(s) (%s)", group(total), strings.Join(kinds, ", "))
}

func joinInts(v []int64) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = fmt.Sprint(x)
	}
	return strings.Join(s, ", ")
}
