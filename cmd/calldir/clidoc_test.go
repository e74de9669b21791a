package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/calldir/calldir/shard/outfs"
	"github.com/urfave/cli/v2"
)

// docs/CLI.md is generated from the app run builds (every command,
// subcommand and flag) and from helpTables: the one place each set's text
// lives. After adding a command, a flag or a member of a set:
//
//	go test ./cmd/calldir -run TestCLIDoc -update

const cliDocPath = "../../docs/CLI.md"

// TestCLIDoc: docs/CLI.md is exactly what the code generates, and every
// command and flag has the line of help it needs.
func TestCLIDoc(t *testing.T) {
	app := newApp(&env{stdin: strings.NewReader(""), stdout: io.Discard, stderr: io.Discard, getenv: func(string) string { return "" }})
	for _, err := range cliDocGaps(app) {
		t.Error(err)
	}
	got := cliDoc(app)
	if *update {
		if err := outfs.WriteFile(cliDocPath, []byte(got)); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(cliDocPath)
	if err != nil {
		t.Fatalf("%v (generate it: go test ./cmd/calldir -run TestCLIDoc -update)", err)
	}
	if d := shortDiff(string(want), got, 12); d != "" {
		t.Errorf("docs/CLI.md differs from what the code generates (-line: docs/CLI.md, +line: the code):\n%srefresh it: go test ./cmd/calldir -run TestCLIDoc -update", d)
	}
}

// cliDocGaps lists the commands and flags without help, and the sets with
// a member without help: docs/CLI.md would print an empty line for them.
func cliDocGaps(app *cli.App) []error {
	var errs []error
	var walk func(path string, cmds []*cli.Command)
	walk = func(path string, cmds []*cli.Command) {
		for _, c := range cmds {
			name := path + " " + c.Name
			if c.Usage == "" {
				errs = append(errs, fmt.Errorf("%s: no Usage", name))
			}
			if c.Description == "" && len(c.Subcommands) == 0 {
				errs = append(errs, fmt.Errorf("%s: no Description", name))
			}
			for _, f := range c.Flags {
				if df, ok := f.(cli.DocGenerationFlag); !ok || strings.TrimSpace(df.GetUsage()) == "" {
					errs = append(errs, fmt.Errorf("%s --%s: no Usage", name, f.Names()[0]))
				}
			}
			walk(name, c.Subcommands)
		}
	}
	walk(app.Name, app.Commands)
	for _, tab := range helpTables() {
		seen := map[string]bool{}
		for _, r := range tab.rows {
			if r.name == "" || r.help == "" || strings.ContainsAny(r.help, "\n|") {
				errs = append(errs, fmt.Errorf("%s %q: help %q: want one line", tab.anchor, r.name, r.help))
			}
			if seen[r.name] {
				errs = append(errs, fmt.Errorf("%s: %q twice", tab.anchor, r.name))
			}
			seen[r.name] = true
		}
		if len(tab.rows) < 2 {
			errs = append(errs, fmt.Errorf("%s: %d member(s)", tab.anchor, len(tab.rows)))
		}
	}
	return errs
}

// cliDoc renders docs/CLI.md.
func cliDoc(app *cli.App) string {
	var b strings.Builder
	b.WriteString("# calldir command-line reference\n\n")
	b.WriteString("<!-- Generated from the code by `go test ./cmd/calldir -run TestCLIDoc -update`; do not edit.\n")
	b.WriteString("     The test fails when this file differs from what the code generates. -->\n\n")
	fmt.Fprintf(&b, "`%s`: %s. Every command takes `-h, --help`; `calldir --version` prints the version.\n\n", app.Name, app.Usage)
	b.WriteString("```text\n" + exitTable + "```\n\n")
	b.WriteString("Commands:\n\n")
	var index func(path string, cmds []*cli.Command, indent string)
	index = func(path string, cmds []*cli.Command, indent string) {
		for _, c := range cmds {
			if c.Hidden {
				continue
			}
			name := path + " " + c.Name
			fmt.Fprintf(&b, "%s- [`%s`](#%s): %s\n", indent, name, headingSlug(name), c.Usage)
			index(name, c.Subcommands, indent+"  ")
		}
	}
	index(app.Name, app.Commands, "")
	b.WriteString("\nTables: ")
	for i, tab := range helpTables() {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "[%s](#%s)", strings.ToLower(tab.title), tab.anchor)
	}
	b.WriteString(".\n")
	var cmds func(path string, list []*cli.Command)
	cmds = func(path string, list []*cli.Command) {
		for _, c := range list {
			if c.Hidden {
				continue
			}
			name := path + " " + c.Name
			fmt.Fprintf(&b, "\n## %s\n\n%s.\n\n", name, c.Usage)
			synopsis := name
			if len(c.Subcommands) > 0 {
				synopsis += " COMMAND"
			}
			if len(c.Flags) > 0 {
				synopsis += " [options]"
			}
			if a := strings.TrimSpace(c.ArgsUsage); a != "" {
				synopsis += " " + a
			}
			fmt.Fprintf(&b, "```text\n%s\n```\n", synopsis)
			if d := strings.TrimSpace(c.Description); d != "" {
				fmt.Fprintf(&b, "\n```text\n%s\n```\n", d)
			}
			if len(c.Flags) > 0 {
				b.WriteString("\n| Option | Default | Meaning |\n|---|---|---|\n")
				for _, f := range c.Flags {
					if vf, ok := f.(cli.VisibleFlag); ok && !vf.IsVisible() {
						continue
					}
					opt, def, usage := flagDoc(f)
					fmt.Fprintf(&b, "| %s | %s | %s |\n", mdCell(opt), mdCell(def), mdCell(usage))
				}
			}
			cmds(name, c.Subcommands)
		}
	}
	cmds(app.Name, app.Commands)
	for _, tab := range helpTables() {
		fmt.Fprintf(&b, "\n## %s\n\n%s\n\n", tab.title, tab.intro)
		head := append([]string{tab.name}, tab.cols...)
		head = append(head, "Meaning")
		fmt.Fprintf(&b, "| %s |\n|%s\n", strings.Join(head, " | "), strings.Repeat("---|", len(head)))
		for _, r := range tab.rows {
			cells := append([]string{"`" + r.name + "`"}, r.cells...)
			cells = append(cells, r.help)
			for i := range cells {
				cells[i] = mdCell(cells[i])
			}
			fmt.Fprintf(&b, "| %s |\n", strings.Join(cells, " | "))
		}
	}
	return b.String()
}

var placeholder = regexp.MustCompile("`([^`]+)`")

// flagDoc is a flag's option cell ("`-f, --format FORMAT`"), its default
// and its usage, the placeholder's backquotes dropped as the CLI's help
// drops them.
func flagDoc(f cli.Flag) (opt, def, usage string) {
	df, _ := f.(cli.DocGenerationFlag)
	if df != nil {
		usage = df.GetUsage()
	}
	var names []string
	for _, n := range f.Names() {
		if len(n) == 1 {
			names = append([]string{"-" + n}, names...)
		} else {
			names = append(names, "--"+n)
		}
	}
	opt = strings.Join(names, ", ")
	if df != nil && df.TakesValue() {
		ph := "value"
		if m := placeholder.FindStringSubmatch(usage); m != nil {
			ph = m[1]
		}
		opt += " " + ph
		def = df.GetDefaultText()
		if sf, ok := f.(cli.DocGenerationSliceFlag); ok && sf.IsSliceFlag() {
			opt += " …"
		}
	}
	if def != "" {
		def = "`" + def + "`"
	}
	return "`" + opt + "`", def, placeholder.ReplaceAllString(usage, "$1")
}

// mdCell escapes a table cell: a "|" would end it.
func mdCell(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

// shortDiff lists the lines that differ between want and got ("-" only
// in want, "+" only in got, by a longest common subsequence), each with
// its line number, at most limit of them; "" when equal.
func shortDiff(want, got string, limit int) string {
	if want == got {
		return ""
	}
	a, b := strings.Split(want, "\n"), strings.Split(got, "\n")
	// lcs[i][j] is the longest common subsequence of a[i:] and b[j:].
	lcs := make([][]int32, len(a)+1)
	for i := range lcs {
		lcs[i] = make([]int32, len(b)+1)
	}
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var out bytes.Buffer
	n := 0
	emit := func(sign string, line int, text string) {
		if n < limit {
			fmt.Fprintf(&out, "%s%d: %s\n", sign, line+1, text)
		}
		n++
	}
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case i < len(a) && j < len(b) && a[i] == b[j]:
			i, j = i+1, j+1
		case j < len(b) && (i == len(a) || lcs[i][j+1] >= lcs[i+1][j]):
			emit("+", j, b[j])
			j++
		default:
			emit("-", i, a[i])
			i++
		}
	}
	if n > limit {
		fmt.Fprintf(&out, "… and %d more line(s)\n", n-limit)
	}
	return out.String()
}

// docFiles are the prose docs whose tables TestDocTablesMatchCode reads:
// those of markdownDocs but the generated CLI.md.
func docFiles(t *testing.T) []string {
	t.Helper()
	root := repoRoot(t)
	var files []string
	for _, d := range markdownDocs(t, root) {
		if d != "docs/CLI.md" {
			files = append(files, filepath.Join(root, filepath.FromSlash(d)))
		}
	}
	return files
}

// docSet is a set of names a prose table may list: one of helpTables, or
// doctor's findings or notices alone (docs/DOCTOR.md has a table of each).
type docSet struct {
	label   string // "finding kinds (docs/CLI.md#finding-kinds)"
	members []string
}

func docSets() []docSet {
	var sets []docSet
	for _, tab := range helpTables() {
		s := docSet{label: fmt.Sprintf("%s (docs/CLI.md#%s)", strings.ToLower(tab.title), tab.anchor)}
		for _, r := range tab.rows {
			s.members = append(s.members, r.name)
		}
		sets = append(sets, s)
		if tab.anchor == "doctor-findings" {
			findings := docSet{label: "doctor's findings without its notices (docs/CLI.md#doctor-findings)"}
			notices := docSet{label: "doctor's notices (docs/CLI.md#doctor-findings)"}
			for _, r := range tab.rows {
				if r.cells[0] == "notice" {
					notices.members = append(notices.members, r.name)
				} else {
					findings.members = append(findings.members, r.name)
				}
			}
			sets = append(sets, findings, notices)
		}
	}
	return sets
}

// docTable is a Markdown table of a prose doc: the names in backquotes in
// its first column, and the subset it declares itself to be, if any.
type docTable struct {
	line   int // of its header row, 1-based
	names  []string
	subset string // the anchor of <!-- subset of ANCHOR --> just above it
}

var (
	codeSpan     = regexp.MustCompile("`([^`]+)`")
	subsetMarker = regexp.MustCompile(`^<!--\s*subset of ([a-z-]+)\s*-->$`)
	flagName     = regexp.MustCompile(`(?:^|[\s,(])(--[a-z][a-z0-9-]*)`)
)

// firstCell is the first cell of a table row; "\|" does not end it.
func firstCell(row string) string {
	row = strings.TrimPrefix(strings.TrimSpace(row), "|")
	for i := 0; i < len(row); i++ {
		switch row[i] {
		case '\\':
			i++
		case '|':
			return row[:i]
		}
	}
	return row
}

// readDocTables reads the tables of a Markdown document outside code blocks.
func readDocTables(doc string) []docTable {
	var out []docTable
	lines := strings.Split(doc, "\n")
	fence := false
	for i := 0; i < len(lines); i++ {
		l := strings.TrimSpace(lines[i])
		if strings.HasPrefix(l, "```") {
			fence = !fence
			continue
		}
		if fence || !strings.HasPrefix(l, "|") || i+1 >= len(lines) || !strings.HasPrefix(strings.TrimSpace(lines[i+1]), "|-") && !strings.HasPrefix(strings.TrimSpace(lines[i+1]), "| -") && !strings.HasPrefix(strings.TrimSpace(lines[i+1]), "|:") {
			continue
		}
		tab := docTable{line: i + 1}
		for j := i - 1; j >= 0; j-- {
			if p := strings.TrimSpace(lines[j]); p != "" {
				if m := subsetMarker.FindStringSubmatch(p); m != nil {
					tab.subset = m[1]
				}
				break
			}
		}
		j := i + 2
		for ; j < len(lines) && strings.HasPrefix(strings.TrimSpace(lines[j]), "|"); j++ {
			for _, m := range codeSpan.FindAllStringSubmatch(firstCell(lines[j]), -1) {
				tab.names = append(tab.names, strings.TrimSpace(m[1]))
			}
		}
		out = append(out, tab)
		i = j - 1
	}
	return out
}

// tableDrift says how a table that lists a set differs from it, or ""
// when it lists the set exactly or is no listing of any set. A table lists
// a set when at least two of its names, and more than half of them, are
// members; among several such sets (doctor's findings, and all its kinds)
// one it matches exactly is enough. A table marked <!-- subset of ANCHOR
// --> lists part of that set on purpose: each of its names must be a
// member.
func tableDrift(tab docTable, sets []docSet) string {
	distinct := map[string]bool{}
	var twice []string
	for _, n := range tab.names {
		if distinct[n] {
			twice = append(twice, n)
		}
		distinct[n] = true
	}
	if tab.subset != "" {
		for _, s := range sets {
			if strings.HasSuffix(s.label, "#"+tab.subset+")") && !strings.HasPrefix(s.label, "doctor's") {
				var extra []string
				for _, n := range tab.names {
					if !slices.Contains(s.members, n) {
						extra = append(extra, n)
					}
				}
				if len(extra) > 0 {
					return fmt.Sprintf("table marked a subset of %s names %s, not in the code", s.label, strings.Join(extra, ", "))
				}
				return ""
			}
		}
		return fmt.Sprintf("<!-- subset of %s -->: no such set (see docs/CLI.md's tables)", tab.subset)
	}
	best, bestScore, bestMissing, bestExtra := "", -1.0, []string(nil), []string(nil)
	for _, s := range sets {
		in := 0
		for n := range distinct {
			if slices.Contains(s.members, n) {
				in++
			}
		}
		if in < 2 || 2*in <= len(distinct) {
			continue
		}
		var missing, extra []string
		for _, m := range s.members {
			if !distinct[m] {
				missing = append(missing, m)
			}
		}
		for _, n := range tab.names {
			if !slices.Contains(s.members, n) && !slices.Contains(extra, n) {
				extra = append(extra, n)
			}
		}
		if len(missing) == 0 && len(extra) == 0 {
			if len(twice) > 0 {
				return fmt.Sprintf("table lists %s twice", strings.Join(twice, ", "))
			}
			return ""
		}
		if score := float64(in) / float64(len(s.members)+len(extra)); score > bestScore {
			best, bestScore, bestMissing, bestExtra = s.label, score, missing, extra
		}
	}
	if best == "" {
		return ""
	}
	msg := "table lists the " + best + " but differs from the code:"
	if len(bestMissing) > 0 {
		msg += " missing " + strings.Join(bestMissing, ", ") + ";"
	}
	if len(bestExtra) > 0 {
		msg += " not in the code " + strings.Join(bestExtra, ", ") + ";"
	}
	return strings.TrimSuffix(msg, ";") + " (list them all, link to docs/CLI.md, or mark the table <!-- subset of ANCHOR -->)"
}

// allFlags is every long option of every command, "--out".
func allFlags(app *cli.App) map[string]bool {
	out := map[string]bool{"--help": true, "--version": true}
	var walk func(cmds []*cli.Command)
	walk = func(cmds []*cli.Command) {
		for _, c := range cmds {
			for _, f := range c.Flags {
				for _, n := range f.Names() {
					out["--"+n] = true
				}
			}
			walk(c.Subcommands)
		}
	}
	walk(app.Commands)
	return out
}

// TestDocTablesMatchCode: a table of README.md, CONTRIBUTING.md or
// docs/*.md (but the generated CLI.md) that lists a set of names the code
// defines (finding kinds, reject reasons, faults, settings, explore
// variants and patterns, doctor's kinds) lists exactly that set, and a
// table that names options names only options some command has. So a
// member added, renamed or removed in the code fails here until the docs
// follow.
func TestDocTablesMatchCode(t *testing.T) {
	sets := docSets()
	flags := allFlags(newApp(&env{stdin: strings.NewReader(""), stdout: io.Discard, stderr: io.Discard, getenv: func(string) string { return "" }}))
	tables := 0
	for _, file := range docFiles(t) {
		rel := strings.TrimPrefix(filepath.ToSlash(file), "../../")
		for _, tab := range readDocTables(mustRead(t, file)) {
			tables++
			if d := tableDrift(tab, sets); d != "" {
				t.Errorf("%s:%d: %s", rel, tab.line, d)
			}
			for _, n := range tab.names {
				for _, m := range flagName.FindAllStringSubmatch(n, -1) {
					if !flags[m[1]] {
						t.Errorf("%s:%d: table names option %s, which no command has", rel, tab.line, m[1])
					}
				}
			}
		}
	}
	if tables < 20 {
		t.Errorf("read %d tables from the docs; the reader lost some", tables)
	}
}

// TestTableDrift: the rule that decides which tables list a set, on
// tables made up for it.
func TestTableDrift(t *testing.T) {
	sets := []docSet{
		{"colours (docs/CLI.md#colours)", []string{"red", "green", "blue"}},
		{"all shapes (docs/CLI.md#shapes)", []string{"square", "circle", "star"}},
		{"shapes without stars (docs/CLI.md#shapes)", []string{"square", "circle"}},
	}
	md := func(marker string, names ...string) string {
		var b strings.Builder
		b.WriteString("Text.\n\n" + marker + "\n| Name | Meaning |\n|---|---|\n")
		for _, n := range names {
			fmt.Fprintf(&b, "| `%s` | a meaning \\| with a bar |\n", n)
		}
		return b.String() + "\nMore text.\n"
	}
	for _, c := range []struct {
		name, doc, want string // want: a part of the drift, "" for none
	}{
		{"exact", md("", "red", "green", "blue"), ""},
		{"other order", md("", "blue", "red", "green"), ""},
		{"missing", md("", "red", "green"), "missing blue"},
		{"extra", md("", "red", "green", "blue", "mauve"), "not in the code mauve"},
		{"renamed", md("", "red", "green", "bleu"), "missing blue; not in the code bleu"},
		{"twice", md("", "red", "green", "blue", "red"), "lists red twice"},
		{"two names of many", md("", "red", "green", "a", "b", "c", "d"), ""},
		{"one name", md("", "red"), ""},
		{"a set within a set", md("", "square", "circle"), ""},
		{"the whole set", md("", "square", "circle", "star"), ""},
		{"nearest set", md("", "square", "circle", "star", "cube"), "all shapes (docs/CLI.md#shapes) but differs from the code: not in the code cube"},
		{"subset", md("<!-- subset of colours -->", "red"), ""},
		{"subset with a stale name", md("<!-- subset of colours -->", "red", "pink"), "names pink, not in the code"},
		{"subset of no set", md("<!-- subset of colors -->", "red"), "no such set"},
		{"in a code block", "```\n" + md("", "red", "green") + "```\n", ""},
	} {
		tabs := readDocTables(c.doc)
		got := ""
		for _, tab := range tabs {
			got += tableDrift(tab, sets)
		}
		if c.want == "" && got != "" || c.want != "" && !strings.Contains(got, c.want) {
			t.Errorf("%s: drift %q, want %q", c.name, got, c.want)
		}
	}
	if tabs := readDocTables(md("", "red", "green")); len(tabs) != 1 || tabs[0].line != 4 || !slices.Equal(tabs[0].names, []string{"red", "green"}) {
		t.Errorf("readDocTables = %+v, want one table at line 4 naming red, green", tabs)
	}
}
