package e164

import (
	"testing"

	"github.com/nyaruka/phonenumbers"
)

// benchInputs are the common US spellings of normCases that both Normalize
// and the bare phonenumbers baseline accept, with the same result, so the two
// benchmarks do the same work and differ only by Normalize's own cost
// (trimming, the re-read check, the Int64).
var benchInputs = []string{
	"(212) 555-0123",
	"212.555.0123",
	"212-555-0123",
	"+1 212 555 0123",
	"+12015550169",
	"1-800-FLOWERS",
	"tel:+1-201-555-0169",
	"212-555-0123 ext. 123",
	"２１２５５５０１２３",
	"011 44 20 7946 0958",
}

func benchBytes() int64 {
	n := 0
	for _, s := range benchInputs {
		n += len(s)
	}
	return int64(n / len(benchInputs))
}

// baseline is phonenumbers' own Parse + IsPossibleNumber + Format(E164).
func baseline(s string) (string, bool) {
	num, err := phonenumbers.Parse(s, "US")
	if err != nil || !phonenumbers.IsPossibleNumber(num) {
		return "", false
	}
	return phonenumbers.Format(num, phonenumbers.E164), true
}

// BenchmarkNormalize normalizes one number per op, cycling through
// benchInputs; compare it with BenchmarkPhonenumbersBaseline of the same run.
func BenchmarkNormalize(b *testing.B) {
	n := mustNew(b, "US", PolicyPossible)
	for _, s := range benchInputs {
		res, why := n.Normalize(s)
		want, ok := baseline(s)
		if why != ReasonNone || !ok || Format(res.Number) != want {
			b.Fatalf("%q: Normalize = %d, %v; baseline %q, %v", s, res.Number, why, want, ok)
		}
	}
	b.ReportAllocs()
	b.SetBytes(benchBytes())
	for i := 0; b.Loop(); i++ {
		n.Normalize(benchInputs[i%len(benchInputs)])
	}
}

// BenchmarkPhonenumbersBaseline is the same inputs through bare
// phonenumbers.
func BenchmarkPhonenumbersBaseline(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(benchBytes())
	for i := 0; b.Loop(); i++ {
		baseline(benchInputs[i%len(benchInputs)])
	}
}
