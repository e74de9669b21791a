package e164

import (
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers"
)

func mustNew(tb testing.TB, region string, p Policy) *Normalizer {
	tb.Helper()
	n, err := New(region, p)
	if err != nil {
		tb.Fatalf("New(%q, %v): %v", region, p, err)
	}
	return n
}

// normCase is one line of the normalization table. The zero policy is
// PolicyPossible, the default; want is 0 for a reject.
type normCase struct {
	name   string
	region string
	policy Policy
	in     string
	want   int64
	ext    bool
	why    Reason
}

// normCases is the table of the spellings lists use (punctuation, +, 00 and
// 011, trunk prefixes, extensions, vanity letters, tel: URIs, full-width
// digits, …) and of every reject reason the package returns. FuzzNormalize seeds its corpus from it.
var normCases = []normCase{
	// US national formats.
	{name: "parens", region: "US", in: "(212) 555-0123", want: 12125550123},
	{name: "dots", region: "US", in: "212.555.0123", want: 12125550123},
	{name: "dashes", region: "US", in: "212-555-0123", want: 12125550123},
	{name: "bare digits", region: "US", in: "2125550123", want: 12125550123},
	{name: "trunk 1", region: "US", in: "1 (212) 555-0123", want: 12125550123},
	{name: "trunk 1 dashes", region: "US", in: "1-212-555-0123", want: 12125550123},
	{name: "plus spaces", region: "US", in: "+1 212 555 0123", want: 12125550123},
	{name: "plus compact", region: "US", in: "+12125550123", want: 12125550123},
	{name: "plus parens", region: "US", in: "+1 (212) 555-0123", want: 12125550123},

	// International prefixes under region US.
	{name: "00 retry", region: "US", in: "00 44 20 7946 0958", want: 442079460958},
	{name: "00 retry compact", region: "US", in: "00442079460958", want: 442079460958},
	{name: "00 retry after punctuation", region: "US", in: "(00) 44 20 7946 0958", want: 442079460958},
	{name: "00 retry dash", region: "US", in: "-0044-20-7946-0958", want: 442079460958},
	{name: "00 retry FR", region: "US", in: "0033 6 12 34 56 78", want: 33612345678},
	{name: "00 retry US", region: "US", in: "00 1 212 555 0123", want: 12125550123},
	{name: "011 IDD GB", region: "US", in: "011 44 20 7946 0958", want: 442079460958},
	{name: "011 IDD FR", region: "US", in: "011 33 6 12 34 56 78", want: 33612345678},

	// GB.
	{name: "GB trunk 0", region: "GB", in: "020 7946 0958", want: 442079460958},
	{name: "GB mobile", region: "GB", in: "07700 900123", want: 447700900123},
	{name: "GB plus (0)", region: "GB", in: "+44 (0)20 7946 0958", want: 442079460958},
	{name: "GB 00 IDD", region: "GB", in: "00 33 6 12 34 56 78", want: 33612345678},
	{name: "GB US number", region: "GB", in: "+1 212 555 0123", want: 12125550123},

	// FR.
	{name: "FR mobile", region: "FR", in: "06 12 34 56 78", want: 33612345678},
	{name: "FR mobile dots", region: "FR", in: "06.12.34.56.78", want: 33612345678},
	{name: "FR fixed", region: "FR", in: "01 23 45 67 89", want: 33123456789},
	{name: "FR 0033", region: "FR", in: "0033 6 12 34 56 78", want: 33612345678},
	{name: "FR plus (0)", region: "FR", in: "+33 (0)6 12 34 56 78", want: 33612345678},
	{name: "FR 00 US", region: "FR", in: "00 1 212 555 0123", want: 12125550123},

	// DE.
	{name: "DE fixed", region: "DE", in: "030 1234567", want: 49301234567},
	{name: "DE fixed slash", region: "DE", in: "030/1234567", want: 49301234567},
	{name: "DE plus", region: "DE", in: "+49 30 1234567", want: 49301234567},
	{name: "DE 0049", region: "DE", in: "0049 30 1234567", want: 49301234567},
	{name: "DE mobile", region: "DE", in: "01512 3456789", want: 4915123456789},

	// IN.
	{name: "IN mobile trunk", region: "IN", in: "098765 43210", want: 919876543210},
	{name: "IN mobile", region: "IN", in: "98765 43210", want: 919876543210},
	{name: "IN plus", region: "IN", in: "+91 98765 43210", want: 919876543210},
	{name: "IN Delhi fixed", region: "IN", in: "011 2345 6789", want: 911123456789},
	{name: "IN 00 IDD", region: "IN", in: "00 44 20 7946 0958", want: 442079460958},

	// JP.
	{name: "JP fixed", region: "JP", in: "03-1234-5678", want: 81312345678},
	{name: "JP mobile", region: "JP", in: "090-1234-5678", want: 819012345678},
	{name: "JP plus", region: "JP", in: "+81 3 1234 5678", want: 81312345678},
	{name: "JP 010 IDD", region: "JP", in: "010 1 212 555 0123", want: 12125550123},

	// Extensions: dropped and counted.
	{name: "ext x", region: "US", in: "212-555-0123 x123", want: 12125550123, ext: true},
	{name: "ext x no space", region: "US", in: "212-555-0123x123", want: 12125550123, ext: true},
	{name: "ext dot", region: "US", in: "212-555-0123 ext. 123", want: 12125550123, ext: true},
	{name: "ext rfc3966", region: "US", in: "212-555-0123;ext=123", want: 12125550123, ext: true},
	{name: "ext tel uri", region: "US", in: "tel:+1-212-555-0123;ext=123", want: 12125550123, ext: true},
	{name: "ext GB", region: "GB", in: "020 7946 0958 ext. 42", want: 442079460958, ext: true},

	// Vanity, URIs, Unicode.
	{name: "vanity", region: "US", in: "1-800-FLOWERS", want: 18003569377},
	{name: "vanity plus", region: "US", in: "+1 (800) FLOWERS", want: 18003569377},
	{name: "tel uri", region: "US", in: "tel:+1-201-555-0169", want: 12015550169},
	{name: "tel uri GB region", region: "GB", in: "tel:+1-201-555-0169", want: 12015550169},
	{name: "full-width digits", region: "US", in: "２１２５５５０１２３", want: 12125550123},
	{name: "full-width plus", region: "US", in: "＋１ ２１２ ５５５ ０１２３", want: 12125550123},
	{name: "Arabic-Indic digits", region: "US", in: "٢١٢ ٥٥٥ ٠١٢٣", want: 12125550123},
	{name: "Devanagari digits", region: "IN", in: "९८७६५ ४३२१०", want: 919876543210},
	{name: "Devanagari plus", region: "IN", in: "+९१ ९८७६५ ४३२१०", want: 919876543210},
	{name: "Bengali digits", region: "BD", in: "০১৭১১ ১২৩৪৫৬", want: 8801711123456},
	{name: "Thai digits", region: "TH", in: "๐๘ ๑๒๓๔ ๕๖๗๘", want: 66812345678},
	{name: "N'Ko digit", region: "US", in: "212 555 012߃", want: 12125550123},
	{name: "mathematical digits", region: "US", in: "𝟐𝟏𝟐 555 𝟘𝟙𝟚𝟛", want: 12125550123},
	{name: "Devanagari 00 retry", region: "US", in: "०० ४४ २० ७९४६ ०९५८", want: 442079460958},
	{name: "nbsp inside", region: "US", in: "212\u00a0555\u00a00123", want: 12125550123},
	{name: "nbsp around", region: "US", in: "\u00a0+1\u00a0212\u00a0555\u00a00123\u00a0", want: 12125550123},
	{name: "trailing tab", region: "US", in: "+12015550169\t", want: 12015550169},
	{name: "leading tab", region: "US", in: "\t+12015550169", want: 12015550169},
	{name: "CRLF", region: "US", in: "+12015550169\r\n", want: 12015550169},
	{name: "BOM", region: "US", in: "\ufeff+12015550169", want: 12015550169},
	{name: "BOM national", region: "US", in: "\ufeff(201) 555-0169", want: 12015550169},
	{name: "zero-width space", region: "US", in: "\u200b+12015550169\u200b", want: 12015550169},
	{name: "word joiner", region: "US", in: "\u2060+12015550169\u2060", want: 12015550169},
	{name: "BOM and tab", region: "US", in: "\ufeff\t+12015550169 \u200b", want: 12015550169},

	// A reading whose E.164 text reads as another number is rejected, and
	// then gets the 00 retry.
	{name: "re-read 00 retry", region: "BR", in: "00 49 30 123456", want: 4930123456},

	// Rejects, one group per reason.
	{name: "empty", region: "US", in: "", why: ReasonEmpty},
	{name: "spaces", region: "US", in: "   ", why: ReasonEmpty},
	{name: "white space", region: "US", in: "\t\r\n\u00a0", why: ReasonEmpty},
	{name: "BOM only", region: "US", in: "\ufeff\u200b", why: ReasonEmpty},
	{name: "letters", region: "US", in: "abc", why: ReasonNoDigits},
	{name: "plus only", region: "US", in: "+", why: ReasonNoDigits},
	{name: "vanity only", region: "US", in: "FLOWERS", why: ReasonNoDigits},
	{name: "punctuation", region: "US", in: "(--)", why: ReasonNoDigits},
	{name: "one digit", region: "US", in: "1", why: ReasonNotANumber},
	{name: "letters and a digit", region: "US", in: "abc1", why: ReasonNotANumber},
	{name: "x1", region: "US", in: "x1", why: ReasonNotANumber},
	{name: "plus one digit", region: "US", in: "+1 2", why: ReasonNotANumber},
	{name: "unknown cc", region: "US", in: "+999 1234567", why: ReasonInvalidCountryCode},
	{name: "unknown cc GB", region: "GB", in: "+999 1234567", why: ReasonInvalidCountryCode},
	{name: "too short national", region: "US", in: "12", why: ReasonTooShort},
	{name: "too short plus", region: "US", in: "+1 12", why: ReasonTooShort},
	{name: "too short NSN", region: "US", in: "+44 1", why: ReasonTooShort},
	{name: "too short after IDD", region: "US", in: "011", why: ReasonTooShort},
	{name: "too short GB", region: "GB", in: "012", why: ReasonTooShort},
	{name: "too long US", region: "US", in: "+1 212 555 01234", why: ReasonTooLong},
	{name: "too long national", region: "US", in: "212 555 01234", why: ReasonTooLong},
	{name: "too long over 15", region: "US", in: "+1 2125550123456789", why: ReasonTooLong},
	{name: "too long for parser", region: "US", in: "1234567890123456789012", why: ReasonTooLong},
	{name: "too long DE", region: "DE", in: "+49 12345678901234567", why: ReasonTooLong},
	{name: "invalid length AD", region: "US", in: "+376 234 5678", why: ReasonInvalidLength},
	{name: "invalid length AU", region: "AU", in: "+61 2345 678 9012", why: ReasonInvalidLength},
	{name: "local only", region: "US", in: "555-0123", why: ReasonLocalOnly},
	{name: "local only spaces", region: "US", in: "555 0123", why: ReasonLocalOnly},
	{name: "not valid US", region: "US", policy: PolicyValid, in: "+1 555 555 5555", why: ReasonNotValid},
	{name: "not valid GB", region: "US", policy: PolicyValid, in: "+44 20 7946 095", why: ReasonNotValid},
	{name: "not valid DE", region: "DE", policy: PolicyValid, in: "+49 1234", why: ReasonNotValid},
	{name: "valid US", region: "US", policy: PolicyValid, in: "+1 201 555 0169", want: 12015550169},
	// The E.164 text of the reading reads as another number.
	{name: "unstable trunk prefix twice", region: "DE", in: "+49 0 030 1234567", why: ReasonAmbiguous},
	{name: "unstable two prefixes", region: "VN", in: "+84 00 768 2073", why: ReasonAmbiguous},
	{name: "unstable zeros", region: "DE", in: "0000B00", why: ReasonAmbiguous},
	// A failed 00 retry reports the first attempt's reason.
	{name: "unstable after 00 retry", region: "US", in: "0049 0 030 1234567", why: ReasonTooLong},
	{name: "00 retry fails", region: "US", in: "00 999 1234567", why: ReasonTooLong},
}

func TestNormalize(t *testing.T) {
	for _, c := range normCases {
		t.Run(c.region+"/"+c.name, func(t *testing.T) {
			n := mustNew(t, c.region, c.policy)
			got, why := n.Normalize(c.in)
			want := Result{Number: c.want, HadExtension: c.ext}
			if got != want || why != c.why {
				t.Errorf("Normalize(%q) = %+v, %v; want %+v, %v", c.in, got, why, want, c.why)
			}
		})
	}
}

// TestNormalizePolicies runs the same inputs under every policy.
func TestNormalizePolicies(t *testing.T) {
	type outcome struct {
		want int64
		why  Reason
	}
	ok := func(n int64) outcome { return outcome{want: n} }
	no := func(r Reason) outcome { return outcome{why: r} }
	cases := []struct {
		region, in             string
		possible, valid, anyOK outcome
	}{
		{"US", "+1 212 555 0123", ok(12125550123), ok(12125550123), ok(12125550123)},
		{"US", "(212) 555-0123", ok(12125550123), ok(12125550123), ok(12125550123)},
		{"US", "+1 555 555 5555", ok(15555555555), no(ReasonNotValid), ok(15555555555)},
		{"US", "+1 000 555 0123", ok(10005550123), no(ReasonNotValid), ok(10005550123)},
		{"US", "+44 20 7946 095", ok(44207946095), no(ReasonNotValid), ok(44207946095)},
		{"US", "555-0123", no(ReasonLocalOnly), no(ReasonLocalOnly), ok(15550123)},
		{"US", "+1 12", no(ReasonTooShort), no(ReasonTooShort), ok(112)},
		{"US", "+1 212 555 01234", no(ReasonTooLong), no(ReasonTooLong), ok(121255501234)},
		{"US", "+1 212 555 0123 4567", no(ReasonTooLong), no(ReasonTooLong), ok(121255501234567)},
		{"US", "+1 2125550123456789", no(ReasonTooLong), no(ReasonTooLong), no(ReasonTooLong)},
		{"US", "+376 234 5678", no(ReasonInvalidLength), no(ReasonInvalidLength), ok(3762345678)},
		{"US", "+999 1234567", no(ReasonInvalidCountryCode), no(ReasonInvalidCountryCode), no(ReasonInvalidCountryCode)},
		{"US", "abc1", no(ReasonNotANumber), no(ReasonNotANumber), no(ReasonNotANumber)},
		{"US", "", no(ReasonEmpty), no(ReasonEmpty), no(ReasonEmpty)},
		{"US", "abc", no(ReasonNoDigits), no(ReasonNoDigits), no(ReasonNoDigits)},
		{"US", "011 44 20 7946 0958", ok(442079460958), ok(442079460958), ok(442079460958)},
		// The 00 retry happens only when the default region rejects the
		// number; under PolicyAny it accepts "+1 00442079460958".
		{"US", "00 44 20 7946 0958", ok(442079460958), ok(442079460958), ok(100442079460958)},
		{"GB", "020 7946 0958", ok(442079460958), ok(442079460958), ok(442079460958)},
		// The reading +490301234567 is not valid, and where it is accepted,
		// its E.164 text reads as +49301234567.
		{"DE", "+49 0 030 1234567", no(ReasonAmbiguous), no(ReasonNotValid), no(ReasonAmbiguous)},
		{"US", "+1 1 1 212 555 0123", no(ReasonTooLong), no(ReasonTooLong), no(ReasonAmbiguous)},
		{"BR", "00 49 30 123456", ok(4930123456), ok(4930123456), ok(4930123456)},
		// phonenumbers alone reads a N'Ko digit as +10 (found by the fuzzer).
		{"US", "212 555 012߃", ok(12125550123), ok(12125550123), ok(12125550123)},
		{"US", "߀0", no(ReasonTooShort), no(ReasonTooShort), ok(100)},
		{"DE", "+49 1234", ok(491234), no(ReasonNotValid), ok(491234)},
		{"FR", "06 12 34 56 78", ok(33612345678), ok(33612345678), ok(33612345678)},
		{"IN", "98765 43210", ok(919876543210), ok(919876543210), ok(919876543210)},
		{"JP", "090-1234-5678", ok(819012345678), ok(819012345678), ok(819012345678)},
	}
	for _, c := range cases {
		for p, want := range map[Policy]outcome{PolicyPossible: c.possible, PolicyValid: c.valid, PolicyAny: c.anyOK} {
			n := mustNew(t, c.region, p)
			got, why := n.Normalize(c.in)
			if got.Number != want.want || why != want.why {
				t.Errorf("%s/%v: Normalize(%q) = %d, %v; want %d, %v", c.region, p, c.in, got.Number, why, want.want, want.why)
			}
		}
	}
}

func TestParsePolicy(t *testing.T) {
	cases := []struct {
		in      string
		want    Policy
		wantErr bool
	}{
		{"possible", PolicyPossible, false},
		{"valid", PolicyValid, false},
		{"any", PolicyAny, false},
		{"VALID", PolicyValid, false},
		{"Any", PolicyAny, false},
		{"", 0, true},
		{"strict", 0, true},
		{" valid", 0, true},
	}
	for _, c := range cases {
		got, err := ParsePolicy(c.in)
		if (err != nil) != c.wantErr || got != c.want {
			t.Errorf("ParsePolicy(%q) = %v, %v; want %v, error %v", c.in, got, err, c.want, c.wantErr)
		}
		if err == nil {
			if s := got.String(); !strings.EqualFold(s, c.in) {
				t.Errorf("ParsePolicy(%q).String() = %q", c.in, s)
			}
		}
	}
	if got, want := Policy(7).String(), "Policy(7)"; got != want {
		t.Errorf("Policy(7).String() = %q; want %q", got, want)
	}
}

func TestNew(t *testing.T) {
	for _, region := range []string{"", "XX", "ZZ", "001", "USA", "U S", "UK"} {
		if n, err := New(region, PolicyPossible); err == nil {
			t.Errorf("New(%q) = %+v; want an error", region, n)
		}
	}
	if _, err := New("US", PolicyAny+1); err == nil {
		t.Errorf("New(US, %v): want an error", PolicyAny+1)
	}
	n := mustNew(t, " gb ", PolicyValid)
	if n.Region() != "GB" || n.Policy() != PolicyValid {
		t.Errorf("New(\" gb \", valid) = %q, %v; want GB, valid", n.Region(), n.Policy())
	}
	got, why := n.Normalize("020 7946 0958")
	if got.Number != 442079460958 || why != ReasonNone {
		t.Errorf("lower-case region: Normalize = %d, %v", got.Number, why)
	}
}

// TestReasons pins the reason names: they are part of the interface
// (reports, --format json), so a rename must fail here.
func TestReasons(t *testing.T) {
	want := []string{
		"empty", "no-digits", "not-a-number", "invalid-country-code", "too-short",
		"too-long", "invalid-length", "local-only", "not-valid", "line-too-long",
		"bad-csv", "missing-column", "bad-label", "ambiguous", "bad-pattern",
		"bad-range", "range-reversed", "range-lengths", "prefix-length",
	}
	rs := Reasons()
	var names []string
	helps := map[string]bool{}
	for i, r := range rs {
		if int(r) != i+1 {
			t.Errorf("Reasons()[%d] = %d; want %d", i, r, i+1)
		}
		names = append(names, r.String())
		h := r.Help()
		if h == "" || h == "unknown reason" || helps[h] {
			t.Errorf("%v.Help() = %q: empty, unknown or duplicate", r, h)
		}
		helps[h] = true
	}
	if !slices.Equal(names, want) {
		t.Errorf("reason names = %q; want %q", names, want)
	}
	if NumReasons != len(rs)+1 {
		t.Errorf("NumReasons = %d; want %d", NumReasons, len(rs)+1)
	}
	if ReasonNone.String() != "ok" || ReasonNone.Help() != "accepted" {
		t.Errorf("ReasonNone = %q, %q", ReasonNone.String(), ReasonNone.Help())
	}
	if r := Reason(NumReasons); r.String() != "unknown" || r.Help() != "unknown reason" {
		t.Errorf("Reason(%d) = %q, %q", NumReasons, r.String(), r.Help())
	}
}

func TestCountryCode(t *testing.T) {
	cases := []struct {
		in   int64
		want int
	}{
		{12125550123, 1},
		{442079460958, 44},
		{33612345678, 33},
		{4915123456789, 49},
		{919876543210, 91},
		{81312345678, 81},
		{74951234567, 7},
		{80012345678, 800},
		{3762345678, 376},
		{2125221234567, 212},
		{8821234, 882},
		{99912345, 0},
		{2812345, 0},
		{0, 0},
		{-12125550123, 0},
	}
	for _, c := range cases {
		if got := CountryCode(c.in); got != c.want {
			t.Errorf("CountryCode(%d) = %d; want %d", c.in, got, c.want)
		}
	}
}

func TestFormat(t *testing.T) {
	cases := []struct {
		in   int64
		want string
	}{
		{12125550123, "+12125550123"},
		{442079460958, "+442079460958"},
		{1, "+1"},
		{1<<63 - 2, "+9223372036854775806"},
	}
	for _, c := range cases {
		if got := Format(c.in); got != c.want {
			t.Errorf("Format(%d) = %q; want %q", c.in, got, c.want)
		}
	}
}

// TestNormalizeConcurrent backs the "safe for concurrent use" promise; run
// it with -race.
func TestNormalizeConcurrent(t *testing.T) {
	n := mustNew(t, "US", PolicyPossible)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for _, c := range normCases {
				if c.region == "US" && c.policy == PolicyPossible {
					got, why := n.Normalize(c.in)
					if got.Number != c.want || why != c.why {
						t.Errorf("Normalize(%q) = %d, %v; want %d, %v", c.in, got.Number, why, c.want, c.why)
					}
				}
			}
		})
	}
	wg.Wait()
}

// TestSettled checks the shortcut that skips the re-read: whenever settled
// says so, Parse of the E.164 text gives the same digits back. Inputs are
// every region's example numbers, and the same with the national prefix
// (once and twice) after the country code.
func TestSettled(t *testing.T) {
	checked, skipped := 0, 0
	for region := range phonenumbers.GetSupportedRegions() {
		ndd := phonenumbers.GetNddPrefixForRegion(region, true)
		for _, typ := range []phonenumbers.PhoneNumberType{phonenumbers.FIXED_LINE, phonenumbers.MOBILE, phonenumbers.TOLL_FREE} {
			ex := phonenumbers.GetExampleNumberForType(region, typ)
			if ex == nil {
				continue
			}
			cc := strconv.Itoa(int(ex.GetCountryCode()))
			nsn := phonenumbers.GetNationalSignificantNumber(ex)
			for _, in := range []string{"+" + cc + nsn, "+" + cc + ndd + nsn, "+" + cc + ndd + ndd + nsn} {
				num, err := phonenumbers.Parse(in, "ZZ")
				if err != nil {
					continue
				}
				digits := phonenumbers.Format(num, phonenumbers.E164)[1:]
				if !settled(num.GetCountryCode(), digits) {
					skipped++
					continue
				}
				checked++
				again, err := phonenumbers.Parse("+"+digits, "ZZ")
				if err != nil {
					t.Errorf("%s: %q reads as +%s, which does not parse: %v", region, in, digits, err)
					continue
				}
				if got := phonenumbers.Format(again, phonenumbers.E164)[1:]; got != digits {
					t.Errorf("%s: settled(+%s), but it reads back as +%s", region, digits, got)
				}
			}
		}
	}
	t.Logf("settled: %d checked, %d left to the re-read", checked, skipped)
	if checked == 0 || skipped == 0 {
		t.Errorf("settled: %d checked, %d re-read; want some of each", checked, skipped)
	}
}

// TestDigitValue checks the invariant digitValue relies on, that every range
// of unicode.Nd is whole runs of ten starting at a 0, and a few digits.
func TestDigitValue(t *testing.T) {
	check := func(lo, hi, stride uint32) {
		if stride != 1 || (hi-lo+1)%10 != 0 {
			t.Errorf("unicode.Nd range %U-%U stride %d: not whole runs of ten", lo, hi, stride)
		}
	}
	for _, r := range unicode.Nd.R16 {
		check(uint32(r.Lo), uint32(r.Hi), uint32(r.Stride))
	}
	for _, r := range unicode.Nd.R32 {
		check(r.Lo, r.Hi, r.Stride)
	}
	cases := []struct {
		in   rune
		want byte
		ok   bool
	}{
		{'0', 0, true}, {'9', 9, true}, {'٣', 3, true}, {'۷', 7, true}, {'３', 3, true},
		{'३', 3, true}, {'๙', 9, true}, {'߃', 3, true}, {'𝟑', 3, true}, {'𝟛', 3, true},
		{'𝟿', 9, true}, {'a', 0, false}, {'Ⅻ', 0, false}, {'½', 0, false}, {'²', 0, false},
		{utf8.RuneError, 0, false},
	}
	for _, c := range cases {
		if got, ok := digitValue(c.in); got != c.want || ok != c.ok {
			t.Errorf("digitValue(%q) = %d, %v; want %d, %v", c.in, got, ok, c.want, c.ok)
		}
	}
	for _, c := range []struct{ in, want string }{
		{"", ""},
		{"+1 212", "+1 212"},
		{"٢١٢-५५५ ๐๑๒๓", "212-555 0123"},
		{"\xff१\xfe", "\xff1\xfe"}, // invalid UTF-8 kept byte for byte
		{"１-800-FLOWERS", "1-800-FLOWERS"},
	} {
		if got := asciiDigits(c.in); got != c.want {
			t.Errorf("asciiDigits(%q) = %q; want %q", c.in, got, c.want)
		}
	}
}
