package compiler

import (
	"slices"
	"testing"
)

func TestParsePattern(t *testing.T) {
	for _, tc := range []struct {
		in     string
		lo, hi int64
		bad    bool
	}{
		{"+33 162 ######", 33162000000, 33162999999, false},
		{"+33 1 62 XX XX XX", 33162000000, 33162999999, false},
		{"+33 162 xxxxxx", 0, 0, true}, // lowercase x is an extension marker, not a wildcard
		{"33162#", 331620, 331629, false},
		{"+33162000000..+33162999999", 33162000000, 33162999999, false},
		{"14155550100..14155550199", 14155550100, 14155550199, false},
		{"+33 162 ##1", 0, 0, true}, // digits after a wildcard
		{"+33162", 0, 0, true},      // no wildcard
		{"12..5", 0, 0, true},       // backwards
		{"+1 415 555 01##..+1 415 555 0199", 0, 0, true},
		{"+999 ####", 0, 0, true},            // no such country code
		{"+1 ################", 0, 0, true},  // over 15 digits
		{"1415555..14155550000", 0, 0, true}, // ends of different lengths
	} {
		r, err := ParsePattern(tc.in)
		if tc.bad != (err != nil) {
			t.Errorf("ParsePattern(%q): error %v, want bad=%v", tc.in, err, tc.bad)
			continue
		}
		if !tc.bad && (r.Lo != tc.lo || r.Hi != tc.hi) {
			t.Errorf("ParsePattern(%q) = %d..%d, want %d..%d", tc.in, r.Lo, r.Hi, tc.lo, tc.hi)
		}
	}
}

func TestIsPattern(t *testing.T) {
	for in, want := range map[string]bool{
		"+33 162 ######":             true,
		"+33162000000..+33162999999": true,
		"1-855-DEBT-FIX":             false, // vanity, ends in X
		"+1 212 555 0123":            false,
		"212 555 0123 x":             false,
		"#":                          false,
		"call me..later":             false,
	} {
		if got := IsPattern(in); got != want {
			t.Errorf("IsPattern(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestCoalesce(t *testing.T) {
	got := coalesce([]Range{{Lo: 10, Hi: 20}, {Lo: 1, Hi: 5}, {Lo: 6, Hi: 8}, {Lo: 15, Hi: 30}, {Lo: 40, Hi: 40}})
	want := intervals{{1, 8}, {10, 30}, {40, 40}}
	if !slices.Equal(got, want) {
		t.Errorf("coalesce = %v, want %v", got, want)
	}
}

func TestSplitFields(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
		ok   bool
	}{
		{`a,b,c`, []string{"a", "b", "c"}, true},
		{`"a,1",b`, []string{"a,1", "b"}, true},
		{`"say ""hi""",x`, []string{`say "hi"`, "x"}, true},
		{`a,,`, []string{"a", "", ""}, true},
		{`"open,b`, nil, false},
	} {
		got, ok := splitFields([]byte(tc.in), ',', nil)
		if ok != tc.ok || (ok && !slices.Equal(got, tc.want)) {
			t.Errorf("splitFields(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestThreshold(t *testing.T) {
	for _, tc := range []struct {
		s               string
		rejected, lines int64
		over            bool
	}{
		{"", 100, 100, false},
		{"0", 1, 100, true},
		{"5", 5, 100, false},
		{"5", 6, 100, true},
		{"1%", 1, 100, false},
		{"1%", 2, 100, true},
		{"0%", 1, 100, true},
	} {
		th, err := ParseThreshold(tc.s)
		if err != nil {
			t.Fatal(err)
		}
		if got := th.Exceeded(tc.rejected, tc.lines); got != tc.over {
			t.Errorf("%q with %d/%d: %v, want %v", tc.s, tc.rejected, tc.lines, got, tc.over)
		}
	}
	for _, bad := range []string{"x", "-1", "101%", "%"} {
		if _, err := ParseThreshold(bad); err == nil {
			t.Errorf("ParseThreshold(%q) accepted", bad)
		}
	}
}
