package compiler

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/calldir/calldir/e164"
	"github.com/calldir/calldir/shard"
)

// TestRangeRow: one row of a register in each layout, as its columns read
// it: the E.164 range, a filtered row, or the reject reason.
func TestRangeRow(t *testing.T) {
	arcep := RangeColumns{Start: "2", End: "3", Where: []Filter{{Column: "4", Values: []string{"Métropole"}}}}
	ofcom := RangeColumns{Prefix: "1"}
	nanpa := RangeColumns{Prefix: "1+2"}
	for _, tc := range []struct {
		region string
		cols   RangeColumns
		row    string
		lo, hi int64
		drop   bool
		why    e164.Reason
	}{
		{"FR", arcep, "0140002;0140002000;0140002999;Métropole", 33140002000, 33140002999, false, 0},
		{"FR", arcep, "0140002;0140002000;0140002999; métropole ", 33140002000, 33140002999, false, 0}, // trimmed, any case
		{"FR", arcep, "0262120;0262120000;0262120999;La Réunion", 0, 0, true, 0},
		{"FR", arcep, "x;01 40 00 20 00;01.40.00.29.99;Métropole", 33140002000, 33140002999, false, 0},
		{"FR", arcep, "x;0140002999;0140002000;Métropole", 0, 0, false, e164.ReasonRangeReversed},
		{"FR", arcep, "x;0140002000;014000299;Métropole", 0, 0, false, e164.ReasonRangeLengths},
		{"FR", arcep, "x;01400X2000;0140002999;Métropole", 0, 0, false, e164.ReasonBadRange},
		{"FR", arcep, "x;0140002000;0140002999", 0, 0, false, e164.ReasonMissingColumn},
		{"FR", arcep, "x;01;02;Métropole", 0, 0, false, e164.ReasonTooShort},
		{"FR", arcep, "x;0199999990;0200000009;Métropole", 33199999990, 33200000009, false, 0}, // across a prefix: contiguous
		{"GB", ofcom, "7000 0", 447000000000, 447000099999, false, 0},
		{"GB", ofcom, "20 7123 4", 442071234000, 442071234999, false, 0},
		{"GB", ofcom, "7700 900", 0, 0, false, e164.ReasonPrefixLength}, // the drama range: valid in no length
		{"GB", ofcom, "", 0, 0, false, e164.ReasonBadRange},
		{"US", nanpa, "415;555", 14155550000, 14155559999, false, 0},
		{"US", nanpa, "613;555", 16135550000, 16135559999, false, 0}, // CNAC's, one plan
		{"CA", nanpa, "613;555", 16135550000, 16135559999, false, 0},
		{"US", nanpa, "415", 0, 0, false, e164.ReasonMissingColumn},
	} {
		norm, err := e164.New(tc.region, e164.PolicyPossible)
		if err != nil {
			t.Fatal(err)
		}
		m, err := tc.cols.resolve(nil)
		if err != nil {
			t.Fatal(err)
		}
		fields, _ := splitFields([]byte(tc.row), ';', nil)
		r, keep, why := m.row(fields, norm)
		switch {
		case keep == tc.drop:
			t.Errorf("%s %q: kept %v, want %v", tc.region, tc.row, keep, !tc.drop)
		case why != tc.why:
			t.Errorf("%s %q: %v, want %v", tc.region, tc.row, why, tc.why)
		case why == e164.ReasonNone && keep && (r.Lo != tc.lo || r.Hi != tc.hi):
			t.Errorf("%s %q: %d..%d, want %d..%d", tc.region, tc.row, r.Lo, r.Hi, tc.lo, tc.hi)
		}
	}
	// An explicit length overrides the plan; a prefix as long as it is
	// one number, and a longer one is refused.
	norm, _ := e164.New("GB", e164.PolicyAny)
	m := &rangeMode{start: -1, end: -1, prefix: []int{0}, length: 11, lengthCol: -1}
	if r, _, why := m.row([]string{"7000 0"}, norm); why != e164.ReasonNone || r.Lo != 4470000000000 {
		t.Errorf("length 11: %d, %v", r.Lo, why)
	}
	m.length = 5
	if r, _, why := m.row([]string{"7000 0"}, norm); why != e164.ReasonNone || r.Lo != 4470000 || r.Hi != 4470000 {
		t.Errorf("length 5 for a prefix of 5: %d..%d, %v", r.Lo, r.Hi, why)
	}
	m.length = 4
	if _, _, why := m.row([]string{"7000 0"}, norm); why != e164.ReasonRangeLengths {
		t.Errorf("length 4 for a prefix of 5: %v", why)
	}
}

// TestEncodings: Latin-1 and Windows-1252 are decoded to UTF-8 however
// the reads cut them, and a line that is not UTF-8 is found with its line
// and column.
func TestEncodings(t *testing.T) {
	raw := []byte("Mn\xe9mo;\x80 \x9f \x81\n")
	for _, tc := range []struct {
		enc  Encoding
		want string
	}{
		{EncodingLatin1, "Mnémo;\u0080 \u009f \u0081\n"},
		{EncodingWindows1252, "Mnémo;€ Ÿ \u0081\n"},
		{EncodingUTF8, string(raw)},
	} {
		got, err := readAllOneByte(tc.enc.decoder(&oneByteReader{b: raw}))
		if err != nil || got != tc.want {
			t.Errorf("%s: %q, %v; want %q", tc.enc, got, err, tc.want)
		}
	}
	for _, s := range []string{"latin1", "ISO-8859-1", "cp1252", "UTF8", ""} {
		if _, err := ParseEncoding(s); err != nil {
			t.Errorf("ParseEncoding(%q): %v", s, err)
		}
	}
	if _, err := ParseEncoding("utf-16"); err == nil {
		t.Error("utf-16 accepted")
	}
	ln, bad := utf8Check([]byte("ok\nstill é ok\nbad \xe9 here\n"), 10)
	if ln != 13 || bad == nil || bad.Column != 5 || bad.Byte != 0xE9 {
		t.Errorf("utf8Check: line %d, %+v", ln, bad)
	}
	if _, bad := utf8Check([]byte("é\n"), 0); bad != nil {
		t.Errorf("valid UTF-8 refused: %v", bad)
	}
}

type oneByteReader struct{ b []byte }

func (r *oneByteReader) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, errors.New("EOF")
	}
	p[0], r.b = r.b[0], r.b[1:]
	return 1, nil
}

func readAllOneByte(r interface{ Read([]byte) (int, error) }) (string, error) {
	var b strings.Builder
	buf := make([]byte, 3)
	for {
		n, err := r.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			if err.Error() == "EOF" {
				return b.String(), nil
			}
			return b.String(), err
		}
	}
}

// majnum is an ARCEP-like register in Latin-1.
const majnum = "EZABPQM;Tranche_Debut;Tranche_Fin;Mn\xe9mo;Territoire\r\n" +
	"0140002;0140002000;0140002999;STDF;M\xe9tropole\r\n" +
	"0262120;0262120000;0262120999;RCRE;La R\xe9union\r\n" +
	"0970101;0970101999;0970101000;OPRI;M\xe9tropole\r\n" +
	"0140002;0140002500;0140002599;STDF;M\xe9tropole\r\n"

// TestCompileRegister: a register's ranges reach the build through the
// lazy merge, overlapping ones counted once, the allowlist applied inside
// them, and its bad rows rejected with their lines.
func TestCompileRegister(t *testing.T) {
	dir := t.TempDir()
	reg := writeTestFile(t, dir, "majnum.csv", majnum)
	allow := writeTestFile(t, dir, "allow.txt", "+33 1 40 00 20 42\n+33 1 40 00 25 50\n")
	var rejects []Reject
	src := Source{Path: reg, Format: FormatRanges, Encoding: EncodingLatin1,
		Ranges: RangeColumns{Start: "Tranche_Debut", End: "Tranche_Fin", Where: []Filter{{Column: "Territoire", Values: []string{"Métropole"}}}}}
	opts := Options{Kind: shard.KindBlock, Normalizer: blockNormalizer(t, "FR"), MaxPerShard: 1000, TempDir: t.TempDir(),
		Sources: []Source{src}, Allow: []Source{{Path: allow}}, OnReject: func(r Reject) { rejects = append(rejects, r) }}
	res, err := Compile(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Close()
	var got []int64
	res.Entries().Each(func(_ int, n int64) error { got = append(got, n); return nil })
	if len(got) != 998 || got[0] != 33140002000 || got[len(got)-1] != 33140002999 || slices.Contains(got, 33140002042) || slices.Contains(got, 33140002550) {
		t.Errorf("%d entries, %d..%d", len(got), got[0], got[len(got)-1])
	}
	in := res.Inputs[0]
	if in.Lines != 3 || in.Accepted != 2 || in.Rejected != 1 || in.Patterns != 2 || in.Format != "ranges" {
		t.Errorf("input stats %+v", in)
	}
	if len(rejects) != 1 || rejects[0].Line != 4 || rejects[0].Reason != e164.ReasonRangeReversed {
		t.Errorf("rejects %+v", rejects)
	}
	if len(res.Patterns) != 2 || res.Patterns[0].Pattern != "0140002000..0140002999" || res.Patterns[0].Line != 2 || res.Patterns[0].Allowlisted != 2 {
		t.Errorf("patterns %+v", res.Patterns)
	}

	// Read as UTF-8 (the default), the header is refused with its line.
	opts.Sources[0].Encoding = EncodingDefault
	_, err = Compile(context.Background(), opts)
	var ie *InputError
	var nu *NotUTF8Error
	if !errors.As(err, &ie) || ie.Line != 1 || !errors.As(err, &nu) || nu.Column != 37 {
		t.Errorf("not UTF-8: %v", err)
	}
}

// TestRegisterRefusals: a register cannot be an allowlist or feed an
// identification build, needs its columns, and one whose ranges cannot fit
// a build is refused with the numbers and shards it would need.
func TestRegisterRefusals(t *testing.T) {
	dir := t.TempDir()
	reg := writeTestFile(t, dir, "codes.csv", "NPA,NXX,Use\n415,555,AS\n415,556,AS\n")
	cols := RangeColumns{Prefix: "NPA+NXX"}
	base := func() Options {
		return Options{Kind: shard.KindBlock, Normalizer: blockNormalizer(t, "US"), MaxPerShard: 1000, TempDir: t.TempDir(),
			Sources: []Source{{Path: reg, Format: FormatRanges, Ranges: cols}}}
	}
	opts := base()
	opts.Allow = []Source{{Path: reg, Format: FormatRanges, Ranges: cols}}
	if _, err := Compile(context.Background(), opts); err == nil || !strings.Contains(err.Error(), "cannot be an allowlist") {
		t.Errorf("allowlist: %v", err)
	}
	opts = base()
	opts.Kind = shard.KindIdentify
	if _, err := Compile(context.Background(), opts); err == nil || !strings.Contains(err.Error(), "identification") {
		t.Errorf("identify: %v", err)
	}
	opts = base()
	opts.Sources[0].Ranges = RangeColumns{Start: "NPA"}
	var ce *RangeColumnsError
	if _, err := Compile(context.Background(), opts); !errors.As(err, &ce) {
		t.Errorf("one end: %v", err)
	}
	opts = base()
	opts.Sources[0].Ranges.Where = []Filter{{Column: "Status", Values: []string{"x"}}}
	if _, err := Compile(context.Background(), opts); err == nil || !strings.Contains(err.Error(), `no filter column "Status"`) {
		t.Errorf("missing filter column: %v", err)
	}
	// 20,000 numbers at 2 a shard: 10,000 shards, one more than a build
	// holds.
	opts = base()
	opts.MaxPerShard = 2
	var ts *TooManyShardsError
	_, err := Compile(context.Background(), opts)
	if !errors.As(err, &ts) || ts.Entries != 20000 || ts.Shards != 10000 || ts.Pattern == nil || ts.Pattern.Line != 2 {
		t.Errorf("too many shards: %v", err)
	}
}

func writeTestFile(t *testing.T, dir, name, data string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// FuzzRangeRow: any row, in any of the layouts, is a range of one
// country's numbers within CallKit's, a filtered row or a reject; never a
// panic.
func FuzzRangeRow(f *testing.F) {
	for _, s := range []string{"0140002;0140002000;0140002999;Métropole", "7000 0;Allocated", "415;555;AS", "x;0199999990;0200000009;M",
		`"01 40";"0140002999";Métropole`, "99999999999999999;99999999999999999;x", ";;;", "0;9;x", "800 1111;(0)+7", "808 157 01;10 digits"} {
		f.Add(s, uint8(0))
		f.Add(s, uint8(1))
		f.Add(s, uint8(2))
		f.Add(s, uint8(3))
	}
	layouts := []RangeColumns{
		{Start: "2", End: "3", Where: []Filter{{Column: "4", Values: []string{"Métropole", "M"}}}},
		{Prefix: "1", Where: []Filter{{Column: "2", Values: []string{"Allocated"}}}},
		{Prefix: "1+2"},
		{Prefix: "1", LengthColumn: "2"}, // each row's own length
	}
	regions := []string{"FR", "GB", "US", "GB"}
	f.Fuzz(func(t *testing.T, row string, layout uint8) {
		i := int(layout) % len(layouts)
		norm, err := e164.New(regions[i], e164.PolicyPossible)
		if err != nil {
			t.Fatal(err)
		}
		m, err := layouts[i].resolve(nil)
		if err != nil {
			t.Fatal(err)
		}
		fields, ok := splitFields([]byte(row), ';', nil)
		if !ok {
			return
		}
		r, keep, why := m.row(fields, norm)
		if !keep || why != e164.ReasonNone {
			return
		}
		if r.Lo < 1 || r.Hi < r.Lo || r.Hi > shard.MaxNumber || e164.CountryCode(r.Lo) != e164.CountryCode(r.Hi) || e164.CountryCode(r.Lo) == 0 {
			t.Errorf("%q: range %d..%d", row, r.Lo, r.Hi)
		}
		if err := checkRange(r); err != nil || r.Text == "" {
			t.Errorf("%q: %v, text %q", row, err, r.Text)
		}
	})
}
