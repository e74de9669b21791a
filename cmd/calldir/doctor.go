package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
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

What SQLite did to the copy on opening it (a hot journal rolled back, a
-wal read) is a notice, not a finding. Every finding and notice comes with
what to do about it ("what to do:" in text, "fix" in JSON).

FINDING KINDS:
` + doctorKinds(false) + `
NOTICES:
` + doctorKinds(true) + `
Exit status 1 when there is any finding (notices do not count); 2 when
FILE.db cannot be examined at all (missing, not a regular file, not SQLite,
truncated, or without the tables of CallDirectory.db). With --format json
one JSON object is printed whatever the exit status; on 2 and 130 its
"error" says why and nothing else in it was examined.

EXAMPLES:
   calldir doctor ~/Library/Developer/CoreSimulator/Devices/UDID/data/Library/CallDirectory/CallDirectory.db
   calldir doctor --format json CallDirectory.db > doctor.json
   calldir replay --keep /tmp/db my.plan; calldir doctor /tmp/db/CallDirectory.db`),
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Value: "text", Usage: "output `FORMAT`: text or json", Destination: &o.format},
		},
		Action: func(c *cli.Context) error {
			if o.format != "text" && o.format != "json" {
				return usagef("--format %q: want text or json", o.format)
			}
			if c.Args().Len() != 1 {
				err := usagef("doctor: want one FILE.db")
				if o.format == "json" {
					writeDoctorJSON(e.stdout, doctor.Failed(c.Args().First(), err))
				}
				return err
			}
			return runDoctor(c.Context, o, c.Args().First(), e)
		},
	}
}

// doctorKinds lists the finding kinds, or the notices, with a summary
// each: doctor's own table (kinds.go), so the help cannot drift from it.
func doctorKinds(notices bool) string {
	var b strings.Builder
	for _, k := range doctor.Kinds() {
		if k.Notice() == notices {
			fmt.Fprintf(&b, "   %-18s %s\n", k, k.Summary())
		}
	}
	return b.String()
}

// runDoctor examines path and prints the report. With --format json it
// prints one object whatever happens: the report, or doctor.Failed's
// object with the error when the file cannot be examined (exit 2) or the
// run is interrupted (130), so a script reading stdout always gets JSON.
func runDoctor(ctx context.Context, o doctorOpts, path string, e *env) error {
	rep, err := doctor.Examine(ctx, path)
	if err != nil {
		if o.format == "json" {
			writeDoctorJSON(e.stdout, doctor.Failed(path, err))
		}
		return err
	}
	if o.format == "json" {
		if err := writeDoctorJSON(e.stdout, rep); err != nil {
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

func writeDoctorJSON(w io.Writer, rep *doctor.Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
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
	fmt.Fprintf(w, "integrity_check: %s\n", integrity)
	if len(r.UnreadTables) > 0 {
		fmt.Fprintf(w, "unreadable: %s (see the corrupt findings): nothing is concluded from what could not be read, and the checks that need it were skipped\n",
			strings.Join(r.UnreadTables, ", "))
	}
	fmt.Fprintln(w)
	if len(r.Extensions) == 0 && extensionUnread(r) {
		fmt.Fprintf(w, "no extension could be read\n\n")
	} else {
		printDoctorExtensions(w, r.Extensions)
	}
	fmt.Fprintln(w, sharedText("PhoneNumber", r.PhoneNumbers))
	fmt.Fprintln(w, sharedText("Label", r.Labels))
	if some(r.PhoneNumbers.Unreferenced) || some(r.Labels.Unreferenced) {
		fmt.Fprintln(w, "  (unreferenced rows are normal: the daemon's maintenance deletes them, CALLKIT.md §1.7 step 10)")
	}
	if len(r.Notices) > 0 {
		fmt.Fprintf(w, "\nnotices:\n")
		for _, f := range r.Notices {
			fmt.Fprintf(w, "  %s: %s%s [%s]\n", f.Kind, findingWhere(f), f.Message, f.Section)
		}
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
	printWhatToDo(w, r)
	var rows int64
	for _, x := range r.Extensions {
		rows += x.BlockingRows + x.IdentificationRows
	}
	held := fmt.Sprintf("%d extension(s), %s entry rows", len(r.Extensions), group(rows))
	if extensionUnread(r) {
		// The rows of extensions the read did not reach are not counted:
		// a total would be a guess.
		held = "Extension unreadable"
	}
	state := "healthy"
	if !r.Healthy {
		state = findingCounts(r)
	}
	notices := ""
	if len(r.Notices) > 0 {
		notices = "; " + kindCounts(r.Notices, 0, "notice(s)")
	}
	fmt.Fprintf(w, "\ndoctor: %s; %s, integrity_check %s%s\n", state, held, map[bool]string{true: "ok", false: "failed"}[integrity == "ok"], notices)
}

func extensionUnread(r *doctor.Report) bool { return slices.Contains(r.UnreadTables, "Extension") }

// printWhatToDo prints what to do once per kind reported, in the order of
// doctor's table of kinds (findings, then notices).
func printWhatToDo(w io.Writer, r *doctor.Report) {
	seen := map[doctor.Kind]bool{}
	for _, f := range append(slices.Clone(r.Findings), r.Notices...) {
		seen[f.Kind] = true
	}
	if len(seen) == 0 {
		return
	}
	fmt.Fprintf(w, "\nwhat to do:\n")
	for _, k := range doctor.Kinds() {
		if seen[k] {
			fmt.Fprintf(w, "  %s: %s\n", k, k.Fix())
		}
	}
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

// findingCounts is "3 finding(s) (corrupt 2, loaded-empty 1)".
func findingCounts(r *doctor.Report) string {
	return kindCounts(r.Findings, r.OmittedFindings, "finding(s)")
}

// kindCounts is "3 NOUN (corrupt 2, loaded-empty 1)", kinds in
// alphabetical order; omitted counts in the total only.
func kindCounts(fs []doctor.Finding, omitted int64, noun string) string {
	n := map[doctor.Kind]int{}
	for _, f := range fs {
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
	total := int64(len(fs)) + omitted
	return fmt.Sprintf("%s %s (%s)", group(total), noun, strings.Join(kinds, ", "))
}

func joinInts(v []int64) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = fmt.Sprint(x)
	}
	return strings.Join(s, ", ")
}
