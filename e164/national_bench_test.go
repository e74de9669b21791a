package e164

import (
	"strconv"
	"testing"

	"github.com/nyaruka/phonenumbers"
)

// The national form against the E.164 text of the same numbers (what an
// export writes for each key form) and against phonenumbers' Parse +
// Format(NATIONAL), the way National worked before its fast path; compare
// BenchmarkNationalFast with BenchmarkNationalE164 of the same run.

// nationalBenchNumbers are phonenumbers' example fixed-line and mobile
// numbers of the countries of the international benchmark lines.
func nationalBenchNumbers(tb testing.TB) []int64 {
	var out []int64
	for _, r := range fastBenchIntlRegions {
		for _, typ := range []phonenumbers.PhoneNumberType{phonenumbers.FIXED_LINE, phonenumbers.MOBILE} {
			num := phonenumbers.GetExampleNumberForType(r, typ)
			if num == nil {
				tb.Fatalf("no example number for %s", r)
			}
			n, err := strconv.ParseInt(phonenumbers.Format(num, phonenumbers.E164)[1:], 10, 64)
			if err != nil {
				tb.Fatal(err)
			}
			if _, _, _, decided := appendNationalFast(nil, n); !decided {
				tb.Fatalf("+%d: the fast path does not decide it", n)
			}
			out = append(out, n)
		}
	}
	return out
}

func BenchmarkNationalFast(b *testing.B) {
	ns := nationalBenchNumbers(b)
	var buf []byte
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		buf, _, _ = AppendNational(buf[:0], ns[i%len(ns)])
	}
}

func BenchmarkNationalE164(b *testing.B) {
	ns := nationalBenchNumbers(b)
	var buf []byte
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		buf = strconv.AppendInt(append(buf[:0], '+'), ns[i%len(ns)], 10)
	}
}

func BenchmarkNationalPhonenumbers(b *testing.B) {
	ns := nationalBenchNumbers(b)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		nationalSlow(ns[i%len(ns)])
	}
}
