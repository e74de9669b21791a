package compiler

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/calldir/calldir/e164"
	"github.com/calldir/calldir/shard"
)

// TestParseFilter: a filter's values are a CSV record, so a value with a
// comma is quoted; String writes what ParseFilter reads back.
func TestParseFilter(t *testing.T) {
	for _, tc := range []struct {
		in   string
		col  string
		vals []string
	}{
		{" Status = Allocated, Allocated(Closed Range) ,", "Status", []string{"Allocated", "Allocated(Closed Range)"}},
		{`Territoire="Guadeloupe, St Martin et St Barthélemy"`, "Territoire", []string{"Guadeloupe, St Martin et St Barthélemy"}},
		{`Territoire= "Guadeloupe, St Martin" , Martinique`, "Territoire", []string{"Guadeloupe, St Martin", "Martinique"}},
		{`Note="say ""hi"", then go",x`, "Note", []string{`say "hi", then go`, "x"}},
		{`Size=5" disk`, "Size", []string{`5" disk`}}, // a quote inside an unquoted value is kept
		{`"Code=Zone"=A`, "Code=Zone", []string{"A"}},
		{`Status=a=b`, "Status", []string{"a=b"}},
	} {
		f, err := ParseFilter(tc.in)
		if err != nil || f.Column != tc.col || !slices.Equal(f.Values, tc.vals) {
			t.Errorf("ParseFilter(%q): %q %q, %v; want %q %q", tc.in, f.Column, f.Values, err, tc.col, tc.vals)
			continue
		}
		back, err := ParseFilter(f.String())
		if err != nil || back.Column != f.Column || !slices.Equal(back.Values, f.Values) {
			t.Errorf("ParseFilter(%q.String() = %q): %+v, %v", tc.in, f.String(), back, err)
		}
	}
	for _, bad := range []string{"Status", "=Allocated", "Status=", "Status= , ", `T="Guadeloupe, St`, `T="a" b`, `"T" x=1`, `"T=1`} {
		if f, err := ParseFilter(bad); err == nil {
			t.Errorf("ParseFilter(%q) accepted: %+v", bad, f)
		}
	}
}

// FuzzParseFilter: any text is a filter or an error, never a panic; a
// filter reads back from its String.
func FuzzParseFilter(f *testing.F) {
	for _, s := range []string{"Status=Allocated,Reserved", `T="a, b",c`, `"C=D"=x`, `N="say ""hi"""`, `x=""`, `="`, `a="b`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		flt, err := ParseFilter(s)
		if err != nil {
			return
		}
		if flt.Column == "" || len(flt.Values) == 0 {
			t.Fatalf("%q: %+v", s, flt)
		}
		back, err := ParseFilter(flt.String())
		if err != nil || back.Column != flt.Column || !slices.Equal(back.Values, flt.Values) {
			t.Errorf("%q: %+v writes %q, which reads %+v, %v", s, flt, flt.String(), back, err)
		}
	})
}

// TestRowLength: a row's length field, as registers write it.
func TestRowLength(t *testing.T) {
	for _, tc := range []struct {
		field string
		n     int
		why   e164.Reason
	}{
		{"10", 10, 0}, {" 7 ", 7, 0}, {"10 digits", 10, 0}, {"7 digit numbers", 7, 0}, {"(0)+10", 10, 0}, {"(0) + 9", 9, 0},
		{"", 9, 0}, // the default
		{"ten", 0, e164.ReasonPrefixLength}, {"0", 0, e164.ReasonPrefixLength}, {"16", 0, e164.ReasonPrefixLength},
		{"10 or 11", 0, e164.ReasonPrefixLength}, {"(0)+", 0, e164.ReasonPrefixLength}, {"-7", 0, e164.ReasonPrefixLength},
	} {
		n, why := rowLength(tc.field, 9)
		if n != tc.n || why != tc.why {
			t.Errorf("rowLength(%q): %d, %v; want %d, %v", tc.field, n, why, tc.n, tc.why)
		}
	}
}

// TestRangeRowLengths: a register mixing lengths in one run, each row's
// length from its column; a prefix as long as its numbers is one number.
func TestRangeRowLengths(t *testing.T) {
	norm := blockNormalizer(t, "GB")
	m, err := RangeColumns{Prefix: "1", LengthColumn: "2", Length: 9}.resolve(nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		row    string
		lo, hi int64
		why    e164.Reason
	}{
		{"800 1111;(0)+7", 448001111, 448001111, 0},  // one number
		{"800 012 3;9", 44800012300, 44800012399, 0}, // 100 numbers of 9 digits
		{"808 157 01;10", 448081570100, 448081570199, 0},
		{"800 015 6;", 44800015600, 44800015699, 0},     // empty: Length
		{"800 1112 3;7", 0, 0, e164.ReasonRangeLengths}, // longer than its numbers
		{"800 014 5;ten", 0, 0, e164.ReasonPrefixLength},
		{"800 014 5", 0, 0, e164.ReasonMissingColumn},
	} {
		fields, _ := splitFields([]byte(tc.row), ';', nil)
		r, keep, why := m.row(fields, norm)
		if !keep || why != tc.why || why == e164.ReasonNone && (r.Lo != tc.lo || r.Hi != tc.hi) {
			t.Errorf("%q: %d..%d, %v; want %d..%d, %v", tc.row, r.Lo, r.Hi, why, tc.lo, tc.hi, tc.why)
		}
	}
	// A length is a prefix's: start and end columns give whole numbers.
	var ce *RangeColumnsError
	for _, rc := range []RangeColumns{{Start: "1", End: "2", Length: 7}, {Start: "1", End: "2", LengthColumn: "3"}} {
		if err := rc.check(); !errors.As(err, &ce) || !ce.LengthWithEnds {
			t.Errorf("%+v: %v", rc, err)
		}
	}
}

// TestFiltersMatchNothing: a register none of whose rows passes its
// filters is refused with what each filter's column held, first seen
// first however the blocks cut the file, bounded; a row that lacks the
// filter column is rejected and does not make the register pass.
func TestFiltersMatchNothing(t *testing.T) {
	setBlockBytes(t, 64)
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString("Debut;Fin;Statut;Territoire\n")
	for i := range 40 {
		fmt.Fprintf(&b, "01400%02d000;01400%02d099;Attribuée;Zone %d, Nord\n", i, i, i%5)
	}
	b.WriteString("0140098000;0140098099;Réservée;Zone 9, Sud\n")
	b.WriteString("0140099000;0140099099\n") // no Statut: rejected
	reg := writeTestFile(t, dir, "reg.csv", b.String())
	compile := func(where ...Filter) error {
		src := Source{Path: reg, Format: FormatRanges, Ranges: RangeColumns{Start: "Debut", End: "Fin", Where: where}}
		opts := Options{Kind: shard.KindBlock, Normalizer: blockNormalizer(t, "FR"), MaxPerShard: 1000, TempDir: t.TempDir(), Sources: []Source{src}}
		res, err := Compile(context.Background(), opts)
		if err == nil {
			res.Close()
		}
		return err
	}
	var e *EmptyInputError
	err := compile(Filter{Column: "Statut", Values: []string{"Attribuée"}}, Filter{Column: "Territoire", Values: []string{"Zone 3"}})
	if !errors.As(err, &e) || e.Filtered != 41 || e.Rejected != 1 || len(e.Filters) != 2 {
		t.Fatalf("err %v", err)
	}
	if f := e.Filters[0]; f.Matched != 40 || !slices.Equal(f.Values, []string{"Attribuée", "Réservée"}) {
		t.Errorf("Statut: %+v", f)
	}
	want := []string{"Zone 0, Nord", "Zone 1, Nord", "Zone 2, Nord", "Zone 3, Nord", "Zone 4, Nord", "Zone 9, Sud"}
	if f := e.Filters[1]; f.Matched != 0 || !slices.Equal(f.Values, want) || f.More {
		t.Errorf("Territoire: %+v", f)
	}
	msg := err.Error()
	for _, s := range []string{`(41 dropped, 1 rejected)`, `Statut holds "Attribuée" in 40 row(s)`, `Territoire never holds "Zone 3"; it holds 6 distinct values: "Zone 0, Nord", "Zone 1, Nord"`,
		`quote a value that holds a comma: Territoire="Zone 3, Nord"`} {
		if !strings.Contains(msg, s) {
			t.Errorf("%s\nlacks %s", msg, s)
		}
	}
	// Both filters hold somewhere, never together.
	err = compile(Filter{Column: "Statut", Values: []string{"Réservée"}}, Filter{Column: "Territoire", Values: []string{"Nowhere", "Zone 3, Nord"}})
	if err == nil || !strings.Contains(err.Error(), `Statut holds "Réservée" in 1 row(s); Territoire holds "Nowhere" or "Zone 3, Nord" in 8 row(s); but no row holds them all`) {
		t.Errorf("never together: %v", err)
	}
	if err := compile(Filter{Column: "Territoire", Values: []string{"Zone 3, Nord"}}); err != nil {
		t.Errorf("8 rows pass: %v", err)
	}
}

// TestFilterSeenBound: the values remembered are bounded, and the message
// names the first few.
func TestFilterSeenBound(t *testing.T) {
	var s filterSeen
	for i := range maxFilterDistinct + 5 {
		s.add(fmt.Sprint("v", i), false)
		s.add("v0", true)
	}
	if len(s.values) != maxFilterDistinct || !s.more || s.matched != maxFilterDistinct+5 {
		t.Fatalf("%d values, more %v, matched %d", len(s.values), s.more, s.matched)
	}
	got := valuesText(FilterValues{Values: s.values, More: s.more})
	if !strings.HasPrefix(got, `it holds more than 1000 distinct values: "v0", "v1",`) || !strings.HasSuffix(got, `"v7", …`) {
		t.Errorf("valuesText: %s", got)
	}
}
