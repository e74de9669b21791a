package main

import (
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// Usage errors that calldir once accepted: each exits 2 with one line,
// "calldir: " and a message naming the flag (or the configuration's file,
// line and key) and what is wanted.
func TestUsageErrorsNameFlagOrKey(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	mustWrite(t, "list.txt", "+14155550101\n+14155550102\n")
	mustWrite(t, "list.csv", "phone,name\n+14155550101,a\n")
	mustWrite(t, "case.plan", "load ext=a complete range=+14155550100..+14155550109\n")
	mustCLI(t, 0, "compile", "-q", "-o", "build", "list.txt")
	conf := func(name, text string) string { return mustWrite(t, name, text) }
	for _, tc := range []struct {
		name string
		args []string
		want string // the whole message line, after "calldir: "
	}{
		{"column 0", []string{"compile", "-o", "b", "--column", "0", "list.csv"},
			"--column 0: want a header NAME or a column number from 1"},
		{"column 0 on a text list", []string{"compile", "-o", "b", "--column", "0", "list.txt"},
			"--column 0: want a header NAME or a column number from 1"},
		{"column -1", []string{"compile", "-o", "b", "--column=-1", "list.csv"},
			"--column -1: want a header NAME or a column number from 1"},
		{"label-column 0", []string{"compile", "-o", "b", "--kind", "identify", "--label-column", "0", "list.csv"},
			"--label-column 0: want a header NAME or a column number from 1"},
		{"inline column=0", []string{"compile", "-o", "b", "list.csv;column=0"},
			"list.csv;column=0: column 0: want a header NAME or a column number from 1"},
		{"validate --raw column 0", []string{"validate", "--raw", "--column", "0", "list.csv"},
			"--column 0: want a header NAME or a column number from 1"},
		{"key-forms without export", []string{"compile", "-o", "b", "--key-forms", "national", "list.txt"},
			"--key-forms is an option of the Live Caller ID Lookup export: it needs --live-lookup DIR (or out in the [live_lookup] table of --config)"},
		{"category without export", []string{"compile", "-o", "b", "--category", "person", "list.txt"},
			"--category is an option of the Live Caller ID Lookup export: it needs --live-lookup DIR (or out in the [live_lookup] table of --config)"},
		{"explore budget 1ns", []string{"explore", "--budget=1ns", "--pattern", "field-report", "--settings", "default", "--fault", "none", "--scale", "0.001", "--no-shrink", "--out", "plans"},
			"--budget 1ns: want at least 1s, such as 120s (a shorter budget runs no case)"},
		{"bench replay -1", []string{"bench", "--replay=-1"},
			"--replay -1: want a number of entries, or 0 to skip the replay stage"},
		{"replay maintenance-every -1", []string{"replay", "--maintenance-every=-1", "build"},
			"--maintenance-every -1: want a number of deltas, or 0 (the default) for no maintenance"},
		{"replay maintenance-every with a plan file", []string{"replay", "--maintenance-every", "2", "case.plan"},
			`replay: --maintenance-every runs between deltas: a plan file takes none (it may say "maintenance" itself)`},
		{"pattern without country code", []string{"compile", "-o", "b", "--pattern", "####", "list.txt"},
			`--pattern: pattern "####": no country code (E.164 digits begin with it, as in +33 162 ######)`},
		{"export alone", []string{"export"}, "export: no subcommand given (want live-lookup)"},
		{"export unknown", []string{"export", "live"}, `export: unknown subcommand "live" (want live-lookup)`},
		{"help unknown", []string{"help", "compil"}, `unknown command "compil" (see calldir --help)`},
		{"config max_per_shard 0", []string{"compile", "-c", conf("a.toml", "out = \"b\"\nmax_per_shard = 0\n[[source]]\npath = \"list.txt\"\n")},
			"a.toml:2: max_per_shard: 0 entries per shard: must be at least 1"},
		{"config chunk 0", []string{"compile", "-c", conf("b.toml", "out = \"b\"\nchunk = 0\n[[source]]\npath = \"list.txt\"\n")},
			"b.toml:2: chunk: 0: want 1 to 1999999 entries per request"},
		{"config key_forms empty", []string{"compile", "-c", conf("c.toml", "out = \"b\"\n[[source]]\npath = \"list.txt\"\n[live_lookup]\nout = \"live\"\nkey_forms = []\n")},
			`c.toml:6: live_lookup.key_forms: empty: want one or both of "e164", "national"`},
		{"config export options without out", []string{"compile", "-c", conf("d.toml", "out = \"b\"\n[[source]]\npath = \"list.txt\"\n[live_lookup]\nkey_forms = [\"national\"]\n")},
			`d.toml:4: live_lookup.out: missing: the export's options are set, but not its directory (out = "DIR", or --live-lookup DIR)`},
		{"config column 0", []string{"compile", "-c", conf("e.toml", "out = \"b\"\n[[source]]\npath = \"list.csv\"\ncolumn = \"0\"\n")},
			"e.toml:4: source[0].column: 0: want a header NAME or a column number from 1"},
		{"config string for integer", []string{"compile", "-c", conf("f.toml", "out = \"b\"\nmax_per_shard = \"lots\"\n")},
			"f.toml:2: max_per_shard: want an integer, got a string"},
		{"config integer for string", []string{"compile", "-c", conf("g.toml", "out = 5\n")},
			"g.toml:1: out: want a string, got an integer"},
		{"config string for bool", []string{"compile", "-c", conf("h.toml", "allow_empty = \"yes\"\n")},
			"h.toml:1: allow_empty: want true or false, got a string"},
		{"config key in the second source", []string{"compile", "-c", conf("i.toml", "[[source]]\npath = \"list.txt\"\n[[source]]\npath = \"list.csv\"\ncolumn = 1\n")},
			"i.toml:5: source[1].column: want a string, got an integer"},
		{"config string for array", []string{"compile", "-c", conf("j.toml", "[live_lookup]\nkey_forms = \"e164\"\n")},
			"j.toml:2: live_lookup.key_forms: want an array of strings, got a string"},
		{"config array element", []string{"compile", "-c", conf("k.toml", "[live_lookup]\nkey_forms = [1]\n")},
			"k.toml:2: live_lookup.key_forms: want an array of strings, got an array holding an integer"},
		{"config inline table field", []string{"compile", "-c", conf("l.toml", "source = [{path = 3}]\n")},
			"l.toml:1: source[0].path: want a string, got an integer"},
		{"config table for integer", []string{"compile", "-c", conf("m.toml", "live_lookup = 3\n")},
			"m.toml:1: live_lookup: want a table, got an integer"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, "", tc.args...)
			if code != 2 {
				t.Fatalf("calldir %s: exit %d, want 2\nstderr: %s", strings.Join(tc.args, " "), code, stderr)
			}
			lines := strings.Split(strings.TrimSuffix(stderr, "\n"), "\n")
			if got := lines[len(lines)-1]; got != "calldir: "+tc.want {
				t.Errorf("calldir %s:\n got %q\nwant %q", strings.Join(tc.args, " "), got, "calldir: "+tc.want)
			}
			if stdout != "" {
				t.Errorf("stdout: %q, want nothing", stdout)
			}
		})
	}
	if _, err := os.Stat("b"); err == nil {
		t.Error("a refused command wrote the build b")
	}
}

// "calldir export" without a subcommand lists the subcommands on stderr.
func TestExportAloneListsSubcommands(t *testing.T) {
	_, stdout, stderr := runCLI(t, "", "export")
	if stdout != "" || !strings.Contains(stderr, "COMMANDS:\n   live-lookup") {
		t.Errorf("stdout %q\nstderr %q", stdout, stderr)
	}
}

// "calldir help COMMAND..." prints what "calldir COMMAND... --help" does.
func TestHelpCommand(t *testing.T) {
	for _, tc := range [][]string{{}, {"compile"}, {"export"}, {"export", "live-lookup"}, {"replay"}} {
		want, _ := mustCLI(t, 0, append(tc, "--help")...)
		got, stderr := mustCLI(t, 0, append([]string{"help"}, tc...)...)
		if got != want || stderr != "" {
			t.Errorf("calldir help %s: stdout differs from --help (or stderr %q)\n--- got ---\n%s", strings.Join(tc, " "), stderr, clip(got))
		}
	}
	if out, _ := mustCLI(t, 0, "--help"); strings.Contains(out, "help, h") {
		t.Error("calldir --help lists a help command")
	}
}

// compile --help's first example allowlists allow.txt instead of
// compiling it as a blocklist, and it runs as written.
func TestCompileHelpFirstExampleRuns(t *testing.T) {
	out, _ := mustCLI(t, 0, "compile", "--help")
	_, ex, ok := strings.Cut(out, "EXAMPLES:\n")
	if !ok {
		t.Fatal("no EXAMPLES in compile --help")
	}
	first := strings.Fields(strings.SplitN(ex, "\n", 2)[0])
	if len(first) < 2 || first[0] != "calldir" || first[1] != "compile" {
		t.Fatalf("first example: %q", first)
	}
	root, _ := filepath.Abs(filepath.Join("..", ".."))
	t.Chdir(root)
	args := []string{"compile", "-q"}
	for _, a := range first[2:] {
		switch {
		case a == "build":
			args = append(args, filepath.Join(t.TempDir(), "build"))
		case strings.Contains(a, "*"):
			m, _ := filepath.Glob(a)
			args = append(args, m...)
		default:
			args = append(args, a)
		}
	}
	for i, a := range args {
		if strings.HasSuffix(a, "allow.txt") && args[i-1] != "--allow" {
			t.Errorf("the example compiles %s as a blocklist: %q", a, first)
		}
	}
	mustCLI(t, 0, args...)
}

// In an empty directory, "calldir init" writes everything "calldir compile
// --config calldir.toml" needs, and never writes over a file.
func TestInitThenCompileInEmptyDir(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	_, stderr := mustCLI(t, 0, "init")
	if !strings.Contains(stderr, "lists/spam.txt, feeds/vendor.csv, allow.txt (fictional numbers)") {
		t.Errorf("init: %s", stderr)
	}
	mustCLI(t, 0, "compile", "--config", "calldir.toml")
	mustCLI(t, 0, "validate", "build")
	if out, _ := mustCLI(t, 0, "inspect", "--dump", "build"); out != "+12125550101\n+12125550104\n+12125550105\n+14155550102\n+14155550103\n" {
		t.Errorf("build of the starter: %q", out)
	}
	if _, errs := mustCLI(t, 2, "init"); !strings.Contains(errs, "calldir.toml exists; pass --force") {
		t.Errorf("second init: %s", errs)
	}
	// --force replaces the configuration, not the lists.
	mustWrite(t, "allow.txt", "+12125550101\n")
	mustCLI(t, 0, "init", "--force")
	if got := mustRead(t, "allow.txt"); got != "+12125550101\n" {
		t.Errorf("init --force wrote over allow.txt: %q", got)
	}

	// Beside lists of the user's own, only what is missing is written.
	other := t.TempDir()
	mustWrite(t, filepath.Join(other, "lists", "mine.txt"), "+14155550111\n")
	mustWrite(t, filepath.Join(other, "allow.txt"), "+14155550112\n")
	mustCLI(t, 0, "init", filepath.Join(other, "calldir.toml"))
	if _, err := os.Stat(filepath.Join(other, "lists", "spam.txt")); err == nil {
		t.Error("init added an example list beside the user's lists")
	}
	if got := mustRead(t, filepath.Join(other, "allow.txt")); got != "+14155550112\n" {
		t.Errorf("init wrote over allow.txt: %q", got)
	}
	mustCLI(t, 0, "compile", "-q", "--config", filepath.Join(other, "calldir.toml"))
}

// An argument that names an existing file is read whole, even with ';'
// in its name; one that does not is still PATH;key=value.
func TestInputNameWithSemicolon(t *testing.T) {
	t.Chdir(t.TempDir())
	mustWrite(t, "a;b.txt", "+14155550101\n")
	mustWrite(t, "c;region=GB.txt", "+14155550102\n")
	mustWrite(t, "uk.txt", "020 7946 0123\n")
	_, stderr := mustCLI(t, 0, "compile", "-o", "b", "a;b.txt", "c;region=GB.txt", "uk.txt;region=GB")
	for _, want := range []string{"3 lines from 3 file(s): 3 accepted", "  a;b.txt: 1 lines", "  c;region=GB.txt: 1 lines", "  uk.txt: 1 lines, 1 accepted"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("want %q in:\n%s", want, stderr)
		}
	}
	if out, _ := mustCLI(t, 0, "inspect", "--dump", "b"); out != "+14155550101\n+14155550102\n+442079460123\n" {
		t.Errorf("dump: %q", out)
	}
}

// The same file under two arguments (the same path, ./, a symlink) with
// the same options is read once, with a warning naming both; the summary
// counts it once. With other options it is another source.
func TestSameFileTwiceReadOnce(t *testing.T) {
	t.Chdir(t.TempDir())
	mustWrite(t, "l.txt", "+14155550101\n+14155550102\n")
	mustWrite(t, "l.csv", "phone,alt\n+14155550103,+14155550104\n")
	if err := os.Symlink("l.txt", "link.txt"); err != nil {
		t.Fatal(err)
	}
	_, stderr := mustCLI(t, 0, "compile", "-o", "b", "l.txt", "l.txt", "./l.txt", "link.txt", "l.csv;column=phone", "l.csv;column=alt",
		"--allow", "l.csv", "--allow", "./l.csv")
	want := "calldir: warning: input l.txt given twice: read once\n" +
		"calldir: warning: input ./l.txt is the same file as l.txt: read once\n" +
		"calldir: warning: input link.txt is the same file as l.txt: read once\n" +
		"calldir: warning: allowlist ./l.csv is the same file as l.csv: read once\n" +
		"calldir: 5 lines from 3 file(s) and 1 allowlist(s): 5 accepted,"
	if !strings.HasPrefix(stderr, want) {
		t.Errorf("stderr:\n%s\nwant it to begin:\n%s", stderr, want)
	}
	m := readManifest(t, "b")
	if len(m.Inputs) != 4 {
		t.Errorf("manifest lists %d inputs, want 4 (l.txt, l.csv twice, the allowlist)", len(m.Inputs))
	}
	// Without repeats, nothing is said.
	if _, stderr := mustCLI(t, 0, "compile", "-o", "b2", "l.txt"); strings.Contains(stderr, "warning") {
		t.Errorf("warning without a repeat: %s", stderr)
	}
}

// A rejected line's control characters (a NUL, an escape sequence) go
// into the rejects CSV as a Go string literal; other lines, quoted
// numbers among them, are written as they were.
func TestRejectsCSVEscapesControlCharacters(t *testing.T) {
	t.Chdir(t.TempDir())
	var b strings.Builder
	for i := range 1000 { // past the binary sniff of the head
		fmt.Fprintf(&b, "+1415555%04d\n", i)
	}
	lines := []string{"+1415555\x000101", "+1\x1b[31m555", "\"+14155550101\"", "tab\there", `"\x00"`, "caf\u00e9 \u0085"}
	for _, l := range lines {
		b.WriteString(l + "\n")
	}
	mustWrite(t, "l.txt", b.String())
	mustCLI(t, 0, "compile", "-q", "-o", "b", "--rejects", "r.csv", "l.txt")
	text := mustRead(t, "r.csv")
	if strings.ContainsAny(text, "\x00\x1b\u0085") {
		t.Errorf("control characters in the rejects CSV: %q", text)
	}
	rows, err := csv.NewReader(strings.NewReader(text)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{`"+1415555\x000101"`, `"+1\x1b[31m555"`, `"+14155550101"`, "tab\there", `"\"\\x00\""`, `"café \u0085"`}
	if len(rows) != 1+len(lines) {
		t.Fatalf("%d rows, want %d:\n%s", len(rows), 1+len(lines), text)
	}
	for i, row := range rows[1:] {
		if row[3] != want[i] {
			t.Errorf("line %s: raw %q, want %q", row[1], row[3], want[i])
		}
		if got := unescapeRaw(row[3]); got != lines[i] {
			t.Errorf("line %s: read back %q, want %q", row[1], got, lines[i])
		}
	}
}

// unescapeRaw is the documented reading of a rejects CSV raw field.
func unescapeRaw(field string) string {
	if isEscaped(field) {
		v, _ := strconv.Unquote(field)
		return v
	}
	return field
}

func TestRawFieldRoundTrip(t *testing.T) {
	for _, raw := range []string{"", "+14155550101", "\x00", "a\rb", "\x7f", "\"\"", `"\x00"`, `"\"\\x00\""`, `"\n"`, "\"", `"unterminated`, "tab\t", "\u2028"} {
		f := rawField(raw)
		if hasControl(f) {
			t.Errorf("rawField(%q) = %q holds a control character", raw, f)
		}
		if got := unescapeRaw(f); got != raw {
			t.Errorf("rawField(%q) = %q reads back as %q", raw, f, got)
		}
		if !hasControl(raw) && !isEscaped(raw) && f != raw {
			t.Errorf("clean %q written as %q", raw, f)
		}
	}
}

// Without --out, explore writes its shrunk plans in the user's cache
// directory, not the working directory, and says where.
func TestExploreDefaultOutIsCacheDir(t *testing.T) {
	dir, cache := t.TempDir(), t.TempDir()
	t.Chdir(dir)
	t.Setenv("XDG_CACHE_HOME", cache)
	t.Setenv("HOME", cache) // where XDG_CACHE_HOME is not read
	_, stderr := mustCLI(t, 0, "explore", "--pattern", "failed-after-partial", "--settings", "default", "--fault", "none",
		"--scale", "0.001", "--budget", "2s", "--shrink-budget", "1s")
	plans, _ := filepath.Glob(filepath.Join(defaultPlanDir(), "case-*.plan"))
	if len(plans) != 1 || !strings.HasPrefix(plans[0], cache) {
		t.Errorf("plans %v, want one under %s", plans, cache)
	}
	if want := "explore: shrunk plans are in " + defaultPlanDir() + " (--out sets another directory)\n"; !strings.HasSuffix(stderr, want) {
		t.Errorf("stderr %q, want it to end %q", stderr, want)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("explore wrote %v into the working directory", ents)
	}
}

// A flag a command cannot parse is one line on stderr and exit 2, with
// nothing on stdout (where --format json writes its object).
func TestUnparsableFlagKeepsStdoutClean(t *testing.T) {
	for _, args := range [][]string{
		{"compile", "--format", "json", "-q", "-o", "b", "--bogus", "x.txt"},
		{"publish", "--sequence", "-1", "--channel", "ch", "b"},
		{"verify-channel", "--min-sequence", "-3", "ch"},
		{"export", "live-lookup", "--bogus"},
		{"validate", "--format", "json", "--nosuch", "b"},
	} {
		code, stdout, stderr := runCLI(t, "", args...)
		if code != exitUsage || stdout != "" || strings.Count(strings.TrimSpace(stderr), "\n") != 0 || !strings.HasPrefix(stderr, "calldir: ") {
			t.Errorf("calldir %s: exit %d, stdout %q, stderr %q; want exit 2, one line on stderr only", strings.Join(args, " "), code, stdout, stderr)
		}
	}
}
