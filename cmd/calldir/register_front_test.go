package main

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/calldir/calldir/compiler"
	"github.com/pelletier/go-toml/v2"
)

// The invented registers of fixtures/registers used here: arcep-outre-mer
// (Latin-1, a Territoire value with a comma and accents, 300 numbers in
// Guadeloupe and five bad rows there) and ofcom-s8 (7-, 9- and 10-digit
// blocks with a Number Length column, and bad rows).
var (
	outreMer = filepath.Join("..", "..", "fixtures", "registers", "arcep-outre-mer.csv")
	ofcomS8  = filepath.Join("..", "..", "fixtures", "registers", "ofcom-s8.csv")
)

const guadeloupe = "Guadeloupe, St Martin et St Barthélemy"

// outreMerArgs read arcep-outre-mer's Guadeloupe rows.
var outreMerArgs = []string{"--input-format", "ranges", "--encoding", "latin1", "--region", "GP",
	"--range-start", "Tranche_Debut", "--range-end", "Tranche_Fin", "--where", `Territoire="` + guadeloupe + `"`}

// s8Args read ofcom-s8's allocated rows, each with its own length.
var s8Args = []string{"--input-format", "ranges", "--region", "GB", "--prefix", "Number Block", "--length-column", "Number Length", "--where", "Status=Allocated"}

// compileRejects compiles with args and returns the rejected rows of the
// --rejects report, as "file:line: reason: raw", and compile's stderr.
func compileRejects(t *testing.T, args ...string) ([]string, string) {
	t.Helper()
	dir := t.TempDir()
	rej := filepath.Join(dir, "rejects.csv")
	_, stderr := mustCLI(t, 0, append([]string{"compile", "-o", filepath.Join(dir, "out"), "--rejects", rej}, args...)...)
	f, err := os.Open(rej)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range recs[1:] { // source,line,reason,raw
		out = append(out, fmt.Sprintf("%s:%s: %s: %s", r[0], r[1], r[2], r[3]))
	}
	sort.Strings(out)
	return out, stderr
}

// validateFindings runs validate --raw --format json with args and returns
// its findings as compileRejects does, and its exit code.
func validateFindings(t *testing.T, args ...string) ([]string, int) {
	t.Helper()
	code, stdout, stderr := runCLI(t, "", append([]string{"validate", "--raw", "--format", "json"}, args...)...)
	var rep struct {
		Report struct {
			Findings []struct {
				Kind, File, Reason, Raw string
				Line                    int64
			} `json:"findings"`
		} `json:"report"`
	}
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("validate --raw %v: exit %d, %v\nstdout %s\nstderr %s", args, code, err, stdout, stderr)
	}
	var out []string
	for _, f := range rep.Report.Findings {
		if f.Kind != "reject" {
			t.Errorf("finding of kind %s", f.Kind)
		}
		out = append(out, fmt.Sprintf("%s:%d: %s: %s", f.File, f.Line, f.Reason, f.Raw))
	}
	sort.Strings(out)
	return out, code
}

// TestValidateRawRegister (issue 21, item 1): validate --raw takes the
// register options compile takes, as flags and as inline keys, and finds
// exactly the rows that compile rejects.
func TestValidateRawRegister(t *testing.T) {
	inline := ofcomS8 + ";format=ranges;region=GB;prefix=Number Block;length_column=Number Length;where=Status=Allocated"
	for _, tc := range []struct {
		name string
		args []string
		n    int // rejected rows
	}{
		{"arcep flags", append(slices.Clone(outreMerArgs), outreMer), 5},
		{"ofcom flags", append(slices.Clone(s8Args), ofcomS8), 3},
		{"ofcom inline keys", []string{inline}, 3},
		{"arcep inline keys", []string{outreMer + `;format=ranges;encoding=latin1;region=GP;range_start=Tranche_Debut;range_end=Tranche_Fin;where=Territoire="` + guadeloupe + `"`}, 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			compiled, _ := compileRejects(t, tc.args...)
			found, code := validateFindings(t, tc.args...)
			if code != exitFindings {
				t.Errorf("validate --raw: exit %d, want %d", code, exitFindings)
			}
			if len(compiled) != tc.n || !slices.Equal(compiled, found) {
				t.Errorf("compile rejects %d row(s), want %d:\n  %s\nvalidate --raw finds:\n  %s",
					len(compiled), tc.n, strings.Join(compiled, "\n  "), strings.Join(found, "\n  "))
			}
		})
	}
	// The register flags are defined: no "flag provided but not defined".
	_, stderr := mustCLI(t, exitUsage, "validate", "--raw", "--input-format", "ranges", "--range-start", "Tranche_Debut", "--encoding", "latin1", outreMer)
	if !strings.Contains(stderr, "a register's rows need both a start and an end column: give --range-start and --range-end, or --prefix") {
		t.Errorf("one end: %s", stderr)
	}
	_, stderr = mustCLI(t, exitUsage, "validate", "--raw", "--prefix", "NPA", outreMer)
	if !strings.Contains(stderr, "read a register of ranges: give --input-format ranges") {
		t.Errorf("register flags without a register: %s", stderr)
	}
}

// TestFrontEndOneDefinition (issue 21, item 1): compile and validate take
// the same front-end flags; every key of a register is a flag of both, a
// key of a configuration (top level and [[source]]) and an inline key;
// and an inline key reads as the same key of a [[source]].
func TestFrontEndOneDefinition(t *testing.T) {
	app := newApp(&env{})
	flagsOf := func(name string) map[string]bool {
		for _, c := range app.Commands {
			if c.Name == name {
				m := map[string]bool{}
				for _, f := range c.Flags {
					for _, n := range f.Names() {
						m[n] = true
					}
				}
				return m
			}
		}
		t.Fatalf("no command %s", name)
		return nil
	}
	compile, validate := flagsOf("compile"), flagsOf("validate")
	var fe frontEnd
	for _, f := range fe.flags("", "") {
		for _, n := range f.Names() {
			if !compile[n] || !validate[n] {
				t.Errorf("front-end flag --%s: compile %v, validate %v", n, compile[n], validate[n])
			}
		}
	}
	var rangeKeys, topKeys, sourceKeys []string
	keyFields(reflect.ValueOf(rangeOptions{}), map[string]reflect.Value{}, &rangeKeys)
	keyFields(reflect.ValueOf(config{}), map[string]reflect.Value{}, &topKeys)
	keyFields(reflect.ValueOf(configSource{}), map[string]reflect.Value{}, &sourceKeys)
	for _, k := range rangeKeys {
		flag := strings.ReplaceAll(k, "_", "-")
		if !compile[flag] || !validate[flag] {
			t.Errorf("key %s: no --%s flag (compile %v, validate %v)", k, flag, compile[flag], validate[flag])
		}
		if !slices.Contains(topKeys, k) || !slices.Contains(sourceKeys, k) || !slices.Contains(inputKeys, k) {
			t.Errorf("key %s: top level %v, [[source]] %v, inline %v", k, slices.Contains(topKeys, k), slices.Contains(sourceKeys, k), slices.Contains(inputKeys, k))
		}
	}
	for _, k := range sourceKeys {
		if !slices.Contains(sourceOnlyKeys, k) && !slices.Contains(inputKeys, k) {
			t.Errorf("[[source]] key %s is no inline key", k)
		}
	}

	// The same source, inline and in TOML, reads the same.
	fe.region, fe.accept = "US", "possible"
	spec, err := parseInputSpec(`reg.csv;format=ranges;region=GB;encoding=latin1;prefix=Number Block;length=9;length_column=Number Length;where=Status=Allocated;where=Zone="a; b, c",d`)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Source []configSource `toml:"source"`
	}
	err = toml.Unmarshal([]byte(`[[source]]
path = "reg.csv"
format = "ranges"
region = "GB"
encoding = "latin1"
prefix = "Number Block"
length = 9
length_column = "Number Length"
where = ["Status=Allocated", 'Zone="a; b, c",d']
`), &doc)
	if err != nil {
		t.Fatal(err)
	}
	a, err := fe.sourceFrom(spec)
	if err != nil {
		t.Fatal(err)
	}
	b, err := fe.sourceFrom(doc.Source[0])
	if err != nil {
		t.Fatal(err)
	}
	a.Normalizer, b.Normalizer = nil, nil // each its own, of GB
	want := compiler.RangeColumns{Prefix: "Number Block", Length: 9, LengthColumn: "Number Length",
		Where: []compiler.Filter{{Column: "Status", Values: []string{"Allocated"}}, {Column: "Zone", Values: []string{"a; b, c", "d"}}}}
	if !reflect.DeepEqual(a, b) || !reflect.DeepEqual(a.Ranges, want) || a.Encoding != compiler.EncodingLatin1 || a.Format != compiler.FormatRanges {
		t.Errorf("inline %+v\nTOML   %+v", a, b)
	}
	for spec, want := range map[string]string{
		"reg.csv;length=ten":   `input "reg.csv;length=ten": length: "ten": want a number`,
		"reg.csv;lenght=9":     `unknown option "lenght" (known: format, column, label_column, label, region, accept, encoding, range_start, range_end, prefix, length, length_column, where)`,
		"reg.csv;where=Status": `where: filter "Status": want COLUMN=VALUE`,
	} {
		s, err := parseInputSpec(spec)
		if err == nil {
			_, err = fe.sourceFrom(s)
		}
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %s", spec, err, want)
		}
	}
}

// TestWhereQuoted (issue 21, item 2): a value with a comma is selected
// when quoted, CSV-style, on the command line, inline, and in a
// configuration's list or table form; unquoted it matches nothing, and
// the refusal names the column's values, so that the spelling shows.
func TestWhereQuoted(t *testing.T) {
	dir := t.TempDir()
	reg, err := filepath.Abs(outreMer)
	if err != nil {
		t.Fatal(err)
	}
	base := []string{"--input-format", "ranges", "--encoding", "latin1", "--region", "GP", "--range-start", "Tranche_Debut", "--range-end", "Tranche_Fin"}
	run := func(want int, args ...string) string {
		t.Helper()
		out := filepath.Join(t.TempDir(), "out")
		_, stderr := mustCLI(t, want, append([]string{"compile", "-o", out}, args...)...)
		return stderr
	}
	for _, where := range []string{`Territoire="` + guadeloupe + `"`, `Territoire = "` + guadeloupe + `", Nowhere`, `"Territoire"="` + strings.ToUpper(guadeloupe) + `"`} {
		if stderr := run(0, append(append(slices.Clone(base), "--where", where), reg)...); !strings.Contains(stderr, "300 entries") {
			t.Errorf("--where %s: %s", where, stderr)
		}
	}
	if stderr := run(0, reg+`;format=ranges;encoding=latin1;region=GP;range_start=Tranche_Debut;range_end=Tranche_Fin;where=Territoire="`+guadeloupe+`"`); !strings.Contains(stderr, "300 entries") {
		t.Errorf("inline: %s", stderr)
	}
	// Unquoted, the value is cut at its comma: no row passes.
	stderr := run(exitUsage, append(append(slices.Clone(base), "--where", "Territoire="+guadeloupe), reg)...)
	for _, want := range []string{"no data lines that pass the filters (10 dropped, 1 rejected)",
		`Territoire never holds "Guadeloupe" or "St Martin et St Barthélemy"`,
		`it holds 4 distinct values: "Guadeloupe, St Martin et St Barthélemy", "Martinique", "La Réunion", "Métropole"`,
		`quote a value that holds a comma: Territoire="Guadeloupe, St Martin et St Barthélemy"`,
		"check --where"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("unquoted: stderr %q lacks %q", stderr, want)
		}
	}
	// A configuration: a list of filters (quoted as on the command line),
	// or a table whose values are taken whole.
	head := fmt.Sprintf("region = \"GP\"\nencoding = \"latin1\"\n\n[[source]]\npath = %q\nformat = \"ranges\"\nrange_start = \"Tranche_Debut\"\nrange_end = \"Tranche_Fin\"\n", reg)
	for _, where := range []string{
		`where = ['Territoire="` + guadeloupe + `"']`,
		`where = { Territoire = ["` + guadeloupe + `", "Nowhere"] }`,
		`where = { Territoire = "` + guadeloupe + `" }`,
		"[source.where]\nTerritoire = [\"" + guadeloupe + "\"]",
	} {
		cfg := mustWrite(t, filepath.Join(dir, "calldir.toml"), head+where+"\n")
		if stderr := run(0, "-c", cfg); !strings.Contains(stderr, "300 entries") {
			t.Errorf("%s: %s", where, stderr)
		}
	}
	// The top level's where is every source's default, in either form.
	cfg := mustWrite(t, filepath.Join(dir, "calldir.toml"), "where = { Territoire = \""+guadeloupe+"\" }\n"+head)
	if stderr := run(0, "-c", cfg); !strings.Contains(stderr, "300 entries") {
		t.Errorf("top-level table: %s", stderr)
	}
	for where, want := range map[string]string{
		`where = { Territoire = 5 }`:  "calldir.toml:9: source[0].where: Territoire: want a string or an array of strings",
		`where = { Territoire = [] }`: "calldir.toml:9: source[0].where: Territoire: want a column name and at least one value",
		`where = 5`:                   "calldir.toml:9: source[0].where: want an array",
		`where = ['Territoire="a']`:   `calldir.toml:9: source[0].where: filter "Territoire=\"a": unterminated quote`,
	} {
		cfg := mustWrite(t, filepath.Join(dir, "calldir.toml"), head+where+"\n")
		if stderr := run(exitUsage, "-c", cfg); !strings.Contains(stderr, want) {
			t.Errorf("%s: stderr %q lacks %q", where, stderr, want)
		}
	}
}

// TestOneNumberBlocks (issue 21, item 5): a prefix as long as its numbers
// is one number, and a register that mixes lengths is read in one run,
// each row's length from its column.
func TestOneNumberBlocks(t *testing.T) {
	dir := t.TempDir()
	reg := mustWrite(t, filepath.Join(dir, "s8.csv"), "Number Block,Status\n800 1111,Allocated\n845 4647,Allocated\n800 1112 3,Allocated\n")
	out := filepath.Join(dir, "out")
	args := []string{"compile", "-o", out, "--input-format", "ranges", "--region", "GB", "--prefix", "Number Block", "--length", "7", reg}
	_, stderr := mustCLI(t, 0, args...)
	if !strings.Contains(stderr, "2 accepted, 1 rejected") || !strings.Contains(stderr, "2 pattern(s) of 2 numbers -> 2 entries") {
		t.Errorf("--length 7: %s", stderr)
	}
	dump, _ := mustCLI(t, 0, "inspect", "--dump", out)
	if dump != "+448001111\n+448454647\n" {
		t.Errorf("entries: %q", dump)
	}

	// ofcom-s8, in one run: 1 + 100 + 100 + 1 numbers, and with --length
	// 9 the row without a length too.
	rejects, stderr := compileRejects(t, append(slices.Clone(s8Args), ofcomS8)...)
	if !strings.Contains(stderr, "4 pattern(s) of 202 numbers -> 202 entries") || len(rejects) != 3 ||
		!strings.Contains(rejects[0], ":7: range-lengths: 800 1112 3") || !strings.Contains(rejects[1], ":8: prefix-length: 800 014 5,Allocated,ten") ||
		!strings.Contains(rejects[2], ":9: prefix-length: 800 015 6,Allocated,,") {
		t.Errorf("--length-column: %s\n%s", stderr, strings.Join(rejects, "\n"))
	}
	rejects, stderr = compileRejects(t, append(slices.Clone(s8Args), "--length", "9", ofcomS8)...)
	if !strings.Contains(stderr, "5 pattern(s) of 302 numbers -> 302 entries") || len(rejects) != 2 {
		t.Errorf("--length-column --length 9: %s\n%s", stderr, strings.Join(rejects, "\n"))
	}

	// A length is a prefix's; the column must exist.
	arcep := filepath.Join("..", "..", "fixtures", "registers", "arcep-majnum.csv")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--range-start", "Tranche_Debut", "--range-end", "Tranche_Fin", "--length-column", "EZABPQM", arcep},
			"--length and --length-column give the length of a prefix's numbers (--prefix): --range-start and --range-end give their numbers whole"},
		{[]string{arcep + ";range_start=Tranche_Debut;range_end=Tranche_Fin;length=10"},
			"a length is that of a prefix's numbers: a register's start and end columns give their numbers whole: drop --length and --length-column"},
		{[]string{"--region", "GB", "--prefix", "Number Block", "--length-column", "Digits", ofcomS8}, `no length column "Digits" in the header`},
	} {
		_, stderr := mustCLI(t, exitUsage, append([]string{"compile", "-o", out, "--input-format", "ranges", "--encoding", "latin1", "--region", "FR"}, tc.args...)...)
		if !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: stderr %q lacks %q", tc.args, stderr, tc.want)
		}
	}
}

// TestRegisterHelp: the help of both commands lists the register flags
// with the quoting of --where.
func TestRegisterHelp(t *testing.T) {
	for _, cmd := range []string{"compile", "validate"} {
		stdout, _ := mustCLI(t, 0, cmd, "--help")
		for _, want := range []string{"--range-start NAME", "--prefix NAME", "--length DIGITS", "--length-column NAME", `'Territoire="Guadeloupe, St Martin"'`, "--encoding ENCODING"} {
			if !strings.Contains(stdout, want) {
				t.Errorf("%s --help lacks %q", cmd, want)
			}
		}
	}
}
