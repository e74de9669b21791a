package e164

import (
	"strconv"
	"strings"
	"testing"

	"github.com/nyaruka/phonenumbers"
)

// The fast path against bare phonenumbers (Parse + IsPossibleNumber +
// Format(E164) + the Int64), one line per op, on the same lines; compare
// BenchmarkFastUS with BenchmarkPhonenumbersUS and BenchmarkFastIntl with
// BenchmarkPhonenumbersIntl of the same run (-cpu 1 for one core).

// fastBenchUS are US list lines in the spellings lists use.
var fastBenchUS = []string{
	"(212) 555-0123",
	"212.555.0123",
	"+1 212 555 0123",
	"1-212-555-0123",
	"12125550123",
	"011 44 20 7946 0958",
	"212-555-0123",
	"+12015550169",
	"1 (646) 555-0199",
	"415 555 2671",
	"+1-312-555-0143",
}

// fastBenchIntlRegions are the countries of the international lines.
var fastBenchIntlRegions = []string{
	"GB", "FR", "DE", "IN", "JP", "BR", "MX", "AU", "CN", "RU", "IT", "ES",
	"NL", "SE", "PL", "TR", "ZA", "NG", "EG", "KR", "AR", "CO", "CH", "BE",
	"PH", "ID", "VN", "TH", "PK", "SA", "AE", "IL", "NZ", "SG", "HK", "IE",
}

// fastBenchIntl are "+cc" lines, phonenumbers' example fixed-line and
// mobile numbers of those countries in international format.
func fastBenchIntl(tb testing.TB) []string {
	var out []string
	for _, r := range fastBenchIntlRegions {
		for _, typ := range []phonenumbers.PhoneNumberType{phonenumbers.FIXED_LINE, phonenumbers.MOBILE} {
			num := phonenumbers.GetExampleNumberForType(r, typ)
			if num == nil {
				tb.Fatalf("no example number for %s", r)
			}
			out = append(out, phonenumbers.Format(num, phonenumbers.INTERNATIONAL))
		}
	}
	return out
}

// phonenumbersE164 is the baseline: bare phonenumbers.
func phonenumbersE164(s, region string) (int64, bool) {
	num, err := phonenumbers.Parse(s, region)
	if err != nil || !phonenumbers.IsPossibleNumber(num) {
		return 0, false
	}
	v, err := strconv.ParseInt(strings.TrimPrefix(phonenumbers.Format(num, phonenumbers.E164), "+"), 10, 64)
	return v, err == nil
}

func meanLen(lines []string) int64 {
	n := 0
	for _, s := range lines {
		n += len(s)
	}
	return int64(n / len(lines))
}

// benchFast runs NormalizeBytes over lines, after checking that the fast
// path decides every one of them as the baseline does.
func benchFast(b *testing.B, lines []string) {
	n := mustNew(b, "US", PolicyPossible)
	bs := make([][]byte, len(lines))
	for i, s := range lines {
		bs[i] = []byte(s)
		res, why, ok := n.fastNormalize(bs[i])
		want, wantOK := phonenumbersE164(s, "US")
		if !ok || why != ReasonNone || !wantOK || res.Number != want {
			b.Fatalf("%q: fast path %d, %v (decided: %v); phonenumbers %d, %v", s, res.Number, why, ok, want, wantOK)
		}
	}
	b.ReportAllocs()
	b.SetBytes(meanLen(lines))
	for i := 0; b.Loop(); i++ {
		n.NormalizeBytes(bs[i%len(bs)])
	}
}

func benchPhonenumbers(b *testing.B, lines []string) {
	b.ReportAllocs()
	b.SetBytes(meanLen(lines))
	for i := 0; b.Loop(); i++ {
		phonenumbersE164(lines[i%len(lines)], "US")
	}
}

func BenchmarkFastUS(b *testing.B)         { benchFast(b, fastBenchUS) }
func BenchmarkPhonenumbersUS(b *testing.B) { benchPhonenumbers(b, fastBenchUS) }

func BenchmarkFastIntl(b *testing.B)         { benchFast(b, fastBenchIntl(b)) }
func BenchmarkPhonenumbersIntl(b *testing.B) { benchPhonenumbers(b, fastBenchIntl(b)) }
