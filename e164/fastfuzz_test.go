package e164

import "testing"

// fastFuzzRegions are the default regions FuzzNormalizeBytes tries: the
// fuzz regions of FuzzNormalize plus the national prefix rules that
// transform (BR, SX, JE), capture (CN, KR, CO) or are unusual (BY, HU).
var fastFuzzRegions = append(append([]string{}, fuzzRegions...), "BR", "SX", "JE", "CN", "KR", "CO", "BY", "HU", "AU", "MX")

// fastAlphabet is what fastBytes maps arbitrary bytes to: the characters
// the fast path reads, white space around them included.
const fastAlphabet = "0123456789012345678900 -./()+ \t\r\n"

// fastBytes maps raw into the fast path's alphabet, so that mutations of
// any input explore the fast path and not only its refusal.
func fastBytes(raw string) string {
	b := []byte(raw)
	for i, c := range b {
		b[i] = fastAlphabet[int(c)%len(fastAlphabet)]
	}
	return string(b)
}

// FuzzNormalizeBytes checks NormalizeBytes against Normalize for arbitrary
// text, and for the text mapped into the characters the fast path reads,
// under every policy and several default regions.
func FuzzNormalizeBytes(f *testing.F) {
	for _, c := range normCases {
		f.Add(c.in)
	}
	for _, s := range fastBenchUS {
		f.Add(s)
	}
	for _, s := range []string{"+54 9 11 2345 6789", "0343 15 555 1212", "+55 0 21 2345 6789", "01534 456789", "+1 721 542 5557", "00 49 30 123456", "+49 0 030 1234567"} {
		f.Add(s)
	}
	var norms []*Normalizer
	for _, p := range fastPolicies {
		for _, r := range fastFuzzRegions {
			norms = append(norms, mustNew(f, r, p))
		}
	}
	f.Fuzz(func(t *testing.T, raw string) {
		for _, s := range []string{raw, fastBytes(raw)} {
			b := []byte(s)
			for i, n := range norms {
				// A line the fast path declines is Normalize(string(b)):
				// check NormalizeBytes whole once, and the fast path alone
				// under the other Normalizers.
				got, gotWhy, fast := n.fastNormalize(b)
				if !fast {
					if i > 0 {
						continue
					}
					got, gotWhy = n.NormalizeBytes(b)
				}
				if want, wantWhy := n.Normalize(s); got != want || gotWhy != wantWhy {
					t.Errorf("%s/%v: NormalizeBytes(%q) = %+v, %v (fast path: %v); Normalize = %+v, %v",
						n.Region(), n.Policy(), s, got, gotWhy, fast, want, wantWhy)
				}
			}
		}
	})
}
