package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/csv"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode"

	"github.com/nyaruka/phonenumbers"
)

// This file checks that a build's `inspect --dump` equals, line for line, the sorted unique E.164 set that
// phonenumbers' own Parse + IsPossibleNumberWithReason + Format(E164) gives
// for the lines the build accepted. The reference below is written from the
// documented rules, independently of the e164 package.

// refNormalize is the documented decision for --accept possible: trim,
// Parse + IsPossibleNumberWithReason + Format(E164), at most 15 digits, the
// E.164 text must read back as itself, and the 00 retry.
func refNormalize(raw, region string) (int64, bool) {
	s := strings.TrimFunc(raw, func(r rune) bool {
		return unicode.IsSpace(r) || r == '\uFEFF' || r == '\u200B' || r == '\u2060'
	})
	if n, ok := refParse(s, region); ok {
		return n, true
	}
	// Documented extension: a rejected number starting with 00 is retried
	// as international.
	t := strings.TrimLeft(s, " ()-./\t")
	if strings.HasPrefix(t, "00") {
		return refParse("+"+t[2:], region)
	}
	return 0, false
}

func refParse(s, region string) (int64, bool) {
	num, err := phonenumbers.Parse(s, region)
	if err != nil || phonenumbers.IsPossibleNumberWithReason(num) != phonenumbers.IS_POSSIBLE {
		return 0, false
	}
	e := strings.TrimPrefix(phonenumbers.Format(num, phonenumbers.E164), "+")
	if len(e) > 15 {
		return 0, false
	}
	// Documented rule: a reading whose E.164 text reads back as another
	// number is rejected (ambiguous).
	again, err := phonenumbers.Parse("+"+e, region)
	if err != nil || phonenumbers.IsPossibleNumberWithReason(again) != phonenumbers.IS_POSSIBLE ||
		phonenumbers.Format(again, phonenumbers.E164) != "+"+e {
		return 0, false
	}
	n, err := strconv.ParseInt(e, 10, 64)
	return n, err == nil
}

// refLine is one candidate line of an input with the number field.
type refLine struct {
	line   int64
	number string
}

var inlineComment = regexp.MustCompile(`[ \t]#([ \t].*)?$`)

// refTextLines reads a text list: blank and '#' lines are not candidates;
// an inline comment (" # ...") is dropped.
func refTextLines(t *testing.T, r io.Reader) []refLine {
	t.Helper()
	var out []refLine
	br := bufio.NewReader(r)
	for ln := int64(1); ; ln++ {
		s, err := br.ReadString('\n')
		if s == "" && err != nil {
			return out
		}
		s = strings.TrimRight(s, "\r\n")
		if ln == 1 {
			s = strings.TrimPrefix(s, "\uFEFF")
		}
		trimmed := strings.TrimSpace(s)
		if trimmed == "" || trimmed[0] == '#' {
			continue
		}
		out = append(out, refLine{ln, inlineComment.ReplaceAllString(trimmed, "")})
	}
}

// refCSVLines reads a CSV/TSV list with a header naming the number column.
func refCSVLines(t *testing.T, r io.Reader, comma rune, column string) []refLine {
	t.Helper()
	cr := csv.NewReader(r)
	cr.Comma, cr.FieldsPerRecord, cr.LazyQuotes = comma, -1, true
	header, err := cr.Read()
	if err != nil {
		t.Fatal(err)
	}
	col := -1
	for i, h := range header {
		if strings.EqualFold(strings.TrimSpace(strings.TrimPrefix(h, "\uFEFF")), column) {
			col = i
		}
	}
	if col < 0 {
		t.Fatalf("no column %q in %v", column, header)
	}
	var out []refLine
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return out
		}
		if err != nil {
			continue // the compiler rejects such lines too; they are checked as rejects
		}
		ln, _ := cr.FieldPos(0)
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" || strings.HasPrefix(strings.TrimSpace(rec[0]), "#") {
			continue
		}
		if col < len(rec) {
			out = append(out, refLine{int64(ln), rec[col]})
		}
	}
}

// refSourceLines reads the candidate lines of a text or CSV/TSV source,
// gzip or not.
func refSourceLines(t *testing.T, s refSource) []refLine {
	t.Helper()
	f, err := os.Open(s.path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var r io.Reader = f
	if strings.HasSuffix(s.path, ".gz") {
		zr, err := gzip.NewReader(f)
		if err != nil {
			t.Fatal(err)
		}
		r = zr
	}
	if s.comma == 0 {
		return refTextLines(t, r)
	}
	return refCSVLines(t, r, s.comma, s.column)
}

// refRejects reads a --rejects report into source -> line -> reason.
func refRejects(t *testing.T, path string) map[string]map[int64]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]map[int64]string{}
	for _, r := range recs[1:] {
		ln, _ := strconv.ParseInt(r[1], 10, 64)
		if out[r[0]] == nil {
			out[r[0]] = map[int64]string{}
		}
		out[r[0]][ln] = r[2]
	}
	return out
}

type refSource struct {
	path   string
	comma  rune   // 0 for text
	column string // CSV number column
}

// checkAgainstReference compiles sources with the CLI and compares the dump
// with the reference applied to every accepted line; it also checks that
// the reference rejects what the build rejected for a number reason.
func checkAgainstReference(t *testing.T, region string, srcs []refSource, extra ...string) (accepted int) {
	t.Helper()
	dir := t.TempDir()
	out, rej := filepath.Join(dir, "build"), filepath.Join(dir, "rejects.csv")
	args := append([]string{"compile", "-q", "--region", region, "--out", out, "--rejects", rej}, extra...)
	for _, s := range srcs {
		args = append(args, s.path)
	}
	mustCLI(t, 0, args...)
	rejects := refRejects(t, rej)
	var want []int64
	for _, s := range srcs {
		for _, l := range refSourceLines(t, s) {
			n, ok := refNormalize(l.number, region)
			reason, rejected := rejects[s.path][l.line]
			switch {
			case !rejected && !ok:
				t.Errorf("%s:%d: %q accepted by calldir, rejected by phonenumbers", s.path, l.line, l.number)
			case !rejected:
				want = append(want, n)
				accepted++
			case ok && reason != "line-too-long" && reason != "bad-csv" && reason != "missing-column":
				t.Errorf("%s:%d: %q rejected by calldir (%s), phonenumbers gives +%d", s.path, l.line, l.number, reason, n)
			}
		}
	}
	dump, _ := mustCLI(t, 0, "inspect", "--dump", out)
	if exp := e164Lines(sortedUnique(want)); dump != exp {
		gl, wl := strings.Split(dump, "\n"), strings.Split(exp, "\n")
		for i := 0; i < len(gl) && i < len(wl); i++ {
			if gl[i] != wl[i] {
				t.Fatalf("dump differs from the reference at line %d: got %s, want %s (%d vs %d lines)", i+1, gl[i], wl[i], len(gl), len(wl))
			}
		}
		t.Fatalf("dump has %d lines, the reference %d", len(gl), len(wl))
	}
	return accepted
}

func TestDumpMatchesPhonenumbersOnSample(t *testing.T) {
	sample := filepath.Join("..", "..", "fixtures", "sample")
	n := checkAgainstReference(t, "US", []refSource{
		{path: filepath.Join(sample, "spam-us.txt")},
		{path: filepath.Join(sample, "vendor-feed.csv"), comma: ',', column: "phone"},
	})
	n += checkAgainstReference(t, "GB", []refSource{
		{path: filepath.Join(sample, "complaints-gb.tsv.gz"), comma: '\t', column: "number"},
	})
	if n < 4000 {
		t.Errorf("only %d accepted sample lines checked", n)
	}
}

func TestDumpMatchesPhonenumbersOnGenerated(t *testing.T) {
	r := rand.New(rand.NewPCG(2026, 11))
	for _, region := range []string{"US", "GB", "FR", "DE", "IN", "JP", "BR", "AU"} {
		t.Run(region, func(t *testing.T) {
			dir := t.TempDir()
			lines := genRegionLines(r, region, 4000)
			txt := mustWrite(t, filepath.Join(dir, "list.txt"), strings.Join(lines, "\n")+"\n")
			var csvb bytes.Buffer
			cw := csv.NewWriter(&csvb)
			cw.Write([]string{"id", "phone"})
			for i, l := range lines[:1000] {
				cw.Write([]string{strconv.Itoa(i), l})
			}
			cw.Flush()
			csvp := mustWrite(t, filepath.Join(dir, "list.csv"), csvb.String())
			if n := checkAgainstReference(t, region, []refSource{{path: txt}, {path: csvp, comma: ',', column: "phone"}}); n < 1000 {
				t.Errorf("%s: only %d accepted lines", region, n)
			}
		})
	}
}

// genRegionLines renders varied example numbers of a region (and a few of
// other regions) in several formats, with some damage.
func genRegionLines(r *rand.Rand, region string, n int) []string {
	types := []phonenumbers.PhoneNumberType{phonenumbers.FIXED_LINE, phonenumbers.MOBILE, phonenumbers.TOLL_FREE, phonenumbers.VOIP}
	others := []string{"US", "GB", "FR", "DE", "IT", "ES", "IN", "CN", "JP", "BR", "MX", "NG"}
	var out []string
	for len(out) < n {
		reg := region
		if r.IntN(4) == 0 {
			reg = others[r.IntN(len(others))]
		}
		ex := phonenumbers.GetExampleNumberForType(reg, types[r.IntN(len(types))])
		if ex == nil {
			continue
		}
		num := phonenumbers.PhoneNumber{CountryCode: ex.CountryCode, ItalianLeadingZero: ex.ItalianLeadingZero, NumberOfLeadingZeros: ex.NumberOfLeadingZeros}
		nsn := []byte(strconv.FormatUint(ex.GetNationalNumber(), 10))
		for k := r.IntN(4); k > 0; k-- { // vary the subscriber digits
			nsn[len(nsn)-1-r.IntN(min(4, len(nsn)))] = byte('0' + r.IntN(10))
		}
		v, _ := strconv.ParseUint(string(nsn), 10, 64)
		num.NationalNumber = &v
		var s string
		switch r.IntN(7) {
		case 0:
			s = phonenumbers.Format(&num, phonenumbers.E164)
		case 1:
			s = phonenumbers.Format(&num, phonenumbers.INTERNATIONAL)
		case 2:
			s = phonenumbers.Format(&num, phonenumbers.NATIONAL)
		case 3:
			s = phonenumbers.Format(&num, phonenumbers.RFC3966)
		case 4:
			s = "00 " + strings.TrimPrefix(phonenumbers.Format(&num, phonenumbers.INTERNATIONAL), "+")
		case 5:
			s = phonenumbers.FormatOutOfCountryCallingNumber(&num, region)
		default:
			s = fmt.Sprintf("  %s\t", phonenumbers.Format(&num, phonenumbers.NATIONAL))
		}
		switch r.IntN(20) {
		case 0:
			s = s[:len(s)/2] // truncated
		case 1:
			s += " ext. " + strconv.Itoa(r.IntN(999))
		case 2:
			s = "+" + strconv.Itoa(990+r.IntN(9)) + " 1234567"
		}
		out = append(out, s)
	}
	return out
}

// TestReadmeSampleCommand runs the README's sample command as written
// (with its output paths moved to a temporary directory) and checks its
// dump against the reference: the accepted lines of its sources, minus the
// numbers of its allowlist.
func TestReadmeSampleCommand(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	readme := mustRead(t, filepath.Join(root, "README.md"))
	const prefix = "go run ./cmd/calldir "
	var line string
	for _, l := range strings.Split(readme, "\n") {
		if strings.HasPrefix(l, prefix+"compile ") {
			line = strings.TrimPrefix(l, prefix)
			break
		}
	}
	if line == "" {
		t.Fatal("README has no `go run ./cmd/calldir compile …` sample command")
	}
	tmp := t.TempDir()
	args := strings.Fields(line)
	var sources []refSource
	var allow []string
	for i := 1; i < len(args); i++ {
		switch args[i] {
		case "--out", "-o":
			i++
			args[i] = filepath.Join(tmp, "build")
		case "--rejects":
			i++
			args[i] = filepath.Join(tmp, "rejects.csv")
		case "--allow":
			i++
			allow = append(allow, args[i])
		default:
			if strings.HasPrefix(args[i], "-") {
				t.Fatalf("the sample command has a flag this test does not know: %s", args[i])
			}
			s := refSource{path: args[i]}
			if strings.HasSuffix(args[i], ".csv") {
				s.comma, s.column = ',', "phone"
			}
			sources = append(sources, s)
		}
	}
	t.Chdir(root)
	mustCLI(t, 0, args...)
	rejects := refRejects(t, filepath.Join(tmp, "rejects.csv"))
	var want []int64
	for _, s := range sources {
		for _, l := range refSourceLines(t, s) {
			if _, rejected := rejects[s.path][l.line]; rejected {
				continue
			}
			n, ok := refNormalize(l.number, "US")
			if !ok {
				t.Errorf("%s:%d: %q accepted by calldir, rejected by the reference", s.path, l.line, l.number)
			}
			want = append(want, n)
		}
	}
	drop := map[int64]bool{}
	for _, a := range allow {
		f, err := os.Open(a)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range refTextLines(t, f) {
			if n, ok := refNormalize(l.number, "US"); ok {
				drop[n] = true
			}
		}
		f.Close()
	}
	var kept []int64
	for _, n := range sortedUnique(want) {
		if !drop[n] {
			kept = append(kept, n)
		}
	}
	dump, _ := mustCLI(t, 0, "inspect", "--dump", filepath.Join(tmp, "build"))
	if exp := e164Lines(kept); dump != exp {
		t.Fatalf("dump of the README's build (%d lines) differs from the reference (%d lines)", strings.Count(dump, "\n"), len(kept))
	}
	if len(kept) < 2000 || len(drop) == 0 {
		t.Errorf("only %d entries, %d allowlisted: is the sample still there?", len(kept), len(drop))
	}
}
