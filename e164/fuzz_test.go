package e164

import (
	"strconv"
	"testing"
)

// fuzzRegions are the default regions FuzzNormalize tries every input with:
// the main regions of normCases plus RU and AR, whose national prefix rules (8, and
// 0…15 rewritten to 9…) are the most intricate in the metadata.
var fuzzRegions = []string{"US", "GB", "FR", "DE", "IN", "JP", "RU", "AR"}

// FuzzNormalize checks Normalize's contract on arbitrary text: it never
// panics, a reject is a zero Result with one of the package's reasons, and an
// accepted number is a CallKit number (1 … INT64_MAX-1, at most 15 digits)
// whose E.164 text Format(number) normalizes back to itself, accepted, under
// every default region.
func FuzzNormalize(f *testing.F) {
	for _, c := range normCases {
		f.Add(c.in)
	}
	norms := make(map[Policy][]*Normalizer)
	for _, p := range []Policy{PolicyPossible, PolicyValid, PolicyAny} {
		for _, r := range fuzzRegions {
			norms[p] = append(norms[p], mustNew(f, r, p))
		}
	}
	f.Fuzz(func(t *testing.T, raw string) {
		for p, ns := range norms {
			for i, n := range ns {
				res, why := n.Normalize(raw)
				if why != ReasonNone {
					if res != (Result{}) {
						t.Errorf("%s/%v: Normalize(%q) = %+v with reason %v; want a zero Result", n.Region(), p, raw, res, why)
					}
					if why > ReasonNotValid && why != ReasonAmbiguous {
						t.Errorf("%s/%v: Normalize(%q): reason %v is not one of the package's", n.Region(), p, raw, why)
					}
					continue
				}
				if res.Number < 1 || res.Number > 1<<63-2 {
					t.Fatalf("%s/%v: Normalize(%q) = %d: outside 1 … INT64_MAX-1", n.Region(), p, raw, res.Number)
				}
				if d := len(strconv.FormatInt(res.Number, 10)); d > MaxDigits {
					t.Errorf("%s/%v: Normalize(%q) = %d: %d digits", n.Region(), p, raw, res.Number, d)
				}
				// Idempotence, in this region and in another one: "+digits"
				// does not depend on the default region.
				e := Format(res.Number)
				for _, m := range []*Normalizer{n, ns[(i+1)%len(ns)]} {
					again, why2 := m.Normalize(e)
					if why2 != ReasonNone || again.Number != res.Number || again.HadExtension {
						t.Errorf("%s/%v: Normalize(%q) = %d, but %s: Normalize(%q) = %+v, %v",
							n.Region(), p, raw, res.Number, m.Region(), e, again, why2)
					}
				}
			}
		}
	})
}
