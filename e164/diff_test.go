package e164

import (
	"hash/fnv"
	"math/rand/v2"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"unicode"

	"github.com/nyaruka/phonenumbers"
)

// The differential test checks Normalize against reference, a direct
// transcription of the package doc's rules that shares no code with e164.go, on numbers made
// from phonenumbers' own examples for every supported region: digits varied
// (seeded, so every run tests the same inputs), rendered in the formats that
// lists use, and parsed with their own region and with another one.

// diffTypes are the number types whose examples seed the inputs.
var diffTypes = []phonenumbers.PhoneNumberType{
	phonenumbers.FIXED_LINE, phonenumbers.MOBILE, phonenumbers.TOLL_FREE,
	phonenumbers.PREMIUM_RATE, phonenumbers.SHARED_COST, phonenumbers.VOIP,
	phonenumbers.PERSONAL_NUMBER, phonenumbers.PAGER, phonenumbers.UAN,
	phonenumbers.VOICEMAIL,
}

// diffOtherRegions are the second default regions inputs are parsed with.
var diffOtherRegions = []string{"US", "GB", "FR", "DE", "IN", "JP", "RU", "AR", "BR", "CN", "IT", "AU"}

// refDoubleZero is the package doc's 00 retry ("digits start with 00"): the
// punctuation Normalize skips before them is space, tab and ( ) - . /.
var refDoubleZero = regexp.MustCompile(`^[ \t()\-./]*00((?s).*)$`)

// refReader computes the reference decision for one input under one default
// region, caching Parse results across the three policies.
type refReader struct {
	region string
	parsed map[string]refParse
}

type refParse struct {
	num *phonenumbers.PhoneNumber
	err error
}

func (r *refReader) parse(s string) (*phonenumbers.PhoneNumber, error) {
	if p, ok := r.parsed[s]; ok {
		return p.num, p.err
	}
	num, err := phonenumbers.Parse(s, r.region)
	r.parsed[s] = refParse{num, err}
	return num, err
}

func refAccepts(num *phonenumbers.PhoneNumber, p Policy) bool {
	switch p {
	case PolicyPossible:
		return phonenumbers.IsPossibleNumberWithReason(num) == phonenumbers.IS_POSSIBLE
	case PolicyValid:
		return phonenumbers.IsValidNumber(num)
	default:
		return phonenumbers.GetRegionCodeForCountryCode(int(num.GetCountryCode())) != phonenumbers.UNKNOWN_REGION
	}
}

// attempt is Parse + policy + Format(E164) + at most 15 digits, then the
// re-read rule: the E.164 text, parsed again under the same rules, must give
// the same digits. It returns the E.164 digits.
func (r *refReader) attempt(s string, p Policy) (digits string, ext bool, ok bool) {
	read := func(s string) (string, *phonenumbers.PhoneNumber, bool) {
		num, err := r.parse(s)
		if err != nil || !refAccepts(num, p) {
			return "", nil, false
		}
		e := phonenumbers.Format(num, phonenumbers.E164)[1:]
		return e, num, len(e) <= 15
	}
	digits, num, ok := read(s)
	if !ok {
		return "", false, false
	}
	if again, _, ok := read("+" + digits); !ok || again != digits {
		return "", false, false
	}
	return digits, num.GetExtension() != "", true
}

// reference is the package doc's rules: trim white space, read decimal
// digits of every script as ASCII, attempt, and when that rejects a number
// that starts with 00, attempt it again as "+…".
func (r *refReader) reference(s string, p Policy) (digits string, ext, ok bool) {
	s = refASCIIDigits(strings.TrimSpace(s))
	if digits, ext, ok = r.attempt(s, p); ok {
		return digits, ext, ok
	}
	if m := refDoubleZero.FindStringSubmatch(s); m != nil {
		return r.attempt("+"+m[1], p)
	}
	return "", false, false
}

// refASCIIDigits replaces each decimal digit with its value, found by
// counting the digits below it: Unicode assigns them in runs of ten from 0.
func refASCIIDigits(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x80 || !unicode.IsDigit(r) {
			return r
		}
		v := 0
		for unicode.IsDigit(r - rune(v) - 1) {
			v++
		}
		return '0' + rune(v%10)
	}, s)
}

// diffInput is one raw string and the default regions to parse it with.
type diffInput struct {
	raw     string
	regions []string
}

// diffInputs builds the inputs for one region's examples. short keeps one
// example and two variants of it.
func diffInputs(region string, short bool) []diffInput {
	h := fnv.New64a()
	h.Write([]byte(region))
	rng := rand.New(rand.NewPCG(h.Sum64(), 0x5eed))

	var examples []*phonenumbers.PhoneNumber
	seen := map[string]bool{}
	add := func(num *phonenumbers.PhoneNumber) {
		if num == nil {
			return
		}
		if e := phonenumbers.Format(num, phonenumbers.E164); !seen[e] {
			seen[e] = true
			examples = append(examples, num)
		}
	}
	own := region
	if cc, err := strconv.Atoi(region); err == nil {
		add(phonenumbers.GetExampleNumberForNonGeoEntity(cc))
		own = "US"
	} else {
		add(phonenumbers.GetExampleNumber(region))
		for _, typ := range diffTypes {
			add(phonenumbers.GetExampleNumberForType(region, typ))
		}
	}
	variants := 5
	if short {
		examples = examples[:min(1, len(examples))]
		variants = 2
	}
	ndd := phonenumbers.GetNddPrefixForRegion(own, true)

	var out []diffInput
	for _, ex := range examples {
		cc := strconv.Itoa(int(ex.GetCountryCode()))
		for v := range variants {
			nsn := varyNSN(rng, phonenumbers.GetNationalSignificantNumber(ex), v, ndd)
			regions := []string{own}
			if !short {
				regions = append(regions, diffOtherRegions[rng.IntN(len(diffOtherRegions))])
			}
			for _, raw := range renderings(rng, cc, nsn, ndd) {
				out = append(out, diffInput{raw: raw, regions: regions})
			}
		}
	}
	return out
}

// varyNSN returns variant v of a national significant number: v 0 is the
// example itself, the others change, add or drop digits, or put the
// national prefix in front.
func varyNSN(rng *rand.Rand, nsn string, v int, ndd string) string {
	if v == 0 || nsn == "" {
		return nsn
	}
	b := []byte(nsn)
	digit := func() byte { return byte('0' + rng.IntN(10)) }
	switch rng.IntN(7) {
	case 0: // one digit changed
		b[rng.IntN(len(b))] = digit()
	case 1: // two or three digits changed
		for range 2 + rng.IntN(2) {
			b[rng.IntN(len(b))] = digit()
		}
	case 2: // one digit more
		b = append(b, digit())
	case 3: // one digit less
		b = b[:len(b)-1]
	case 4: // a random number in the same range
		for i := min(2, len(b)); i < len(b); i++ {
			b[i] = digit()
		}
	case 5: // the national prefix kept after the country code
		if ndd != "" {
			return ndd + nsn
		}
		b = append([]byte{digit()}, b...)
	case 6: // a random length around the example's
		n := max(1, len(b)+rng.IntN(5)-2)
		b = b[:0]
		for range n {
			b = append(b, digit())
		}
	}
	return string(b)
}

// renderings writes cc+nsn the ways lists do.
func renderings(rng *rand.Rand, cc, nsn, ndd string) []string {
	e164 := "+" + cc + nsn
	out := []string{
		e164,
		"00" + cc + " " + nsn,
		"011 " + cc + " " + nsn,
		ndd + nsn,
		noisy(rng, ndd+nsn),
		noisy(rng, "00"+cc+nsn),
	}
	num, err := phonenumbers.Parse(e164, "ZZ")
	if err != nil {
		return append(out, noisy(rng, e164))
	}
	intl := phonenumbers.Format(num, phonenumbers.INTERNATIONAL)
	return append(out,
		intl,
		phonenumbers.Format(num, phonenumbers.NATIONAL),
		phonenumbers.Format(num, phonenumbers.RFC3966),
		noisy(rng, intl)+extensions[rng.IntN(len(extensions))],
	)
}

var (
	separators = []string{" ", " ", "-", ".", "/", "\u00a0", " - "}
	extensions = []string{" x7", " ext. 123", ";ext=42", " ext 9", "#"}
	spaces     = []string{"", "", " ", "\t", "\u00a0", " \t"}
)

// zeros are the digit 0 of scripts that lists use; noisy writes a number
// in one of them now and then. phonenumbers itself maps only the first
// three; Normalize reads all.
var zeros = []rune{'０', '٠', '۰', '०', '০', '๐', '߀', '𝟎'}

// noisy regroups s's characters with random separators, sometimes puts the
// first group in parentheses or switches to another script's digits, and
// pads the result with white space.
func noisy(rng *rand.Rand, s string) string {
	var b strings.Builder
	b.WriteString(spaces[rng.IntN(len(spaces))])
	zero := '0'
	if rng.IntN(6) == 0 {
		zero = zeros[rng.IntN(len(zeros))]
	}
	paren := rng.IntN(4) == 0
	group := 0
	for i, c := range s {
		if c >= '0' && c <= '9' {
			c += zero - '0'
		}
		if i > 0 && group >= 2 && rng.IntN(3) == 0 {
			if paren {
				b.WriteString(")")
				paren = false
			}
			b.WriteString(separators[rng.IntN(len(separators))])
			group = 0
		} else if i == 0 && paren && c != '+' {
			b.WriteString("(")
		}
		b.WriteRune(c)
		group++
	}
	b.WriteString(spaces[rng.IntN(len(spaces))])
	return b.String()
}

func TestNormalizeDifferential(t *testing.T) {
	var regions []string
	for r := range phonenumbers.GetSupportedRegions() {
		regions = append(regions, r)
	}
	slices.Sort(regions)
	for cc := range phonenumbers.GetSupportedGlobalNetworkCallingCodes() {
		regions = append(regions, strconv.Itoa(cc))
	}
	slices.Sort(regions[len(regions)-len(phonenumbers.GetSupportedGlobalNetworkCallingCodes()):])

	var cases, accepted, retried, unstable atomic.Int64
	t.Cleanup(func() {
		t.Logf("%d cases (input × region × policy) over %d regions: %d accepted (%d by the 00 retry), %d rejected (%d of them only by the re-read rule)",
			cases.Load(), len(regions), accepted.Load(), retried.Load(), cases.Load()-accepted.Load(), unstable.Load())
	})
	policies := []Policy{PolicyPossible, PolicyValid, PolicyAny}
	for _, region := range regions {
		t.Run(region, func(t *testing.T) {
			t.Parallel()
			norms := map[string][]*Normalizer{}
			failures := 0
			for _, in := range diffInputs(region, !long) {
				for _, r := range in.regions {
					if norms[r] == nil {
						for _, p := range policies {
							norms[r] = append(norms[r], mustNew(t, r, p))
						}
					}
					ref := &refReader{region: r, parsed: map[string]refParse{}}
					for i, p := range policies {
						cases.Add(1)
						n := norms[r][i]
						got, why := n.Normalize(in.raw)
						digits, ext, ok := ref.reference(in.raw, p)
						var want Result
						if ok {
							v, err := strconv.ParseInt(digits, 10, 64)
							if err != nil {
								t.Fatalf("reference(%q) = %q: %v", in.raw, digits, err)
							}
							want = Result{Number: v, HadExtension: ext}
						}
						if (why == ReasonNone) != ok || got != want {
							if failures++; failures <= 10 {
								t.Errorf("%s/%v: Normalize(%q) = %+v, %v; reference %+v, accepted %v", r, p, in.raw, got, why, want, ok)
							}
							continue
						}
						if !ok {
							if num, err := ref.parse(refASCIIDigits(strings.TrimSpace(in.raw))); err == nil && refAccepts(num, p) &&
								len(phonenumbers.Format(num, phonenumbers.E164)) <= 16 {
								unstable.Add(1)
							}
							continue
						}
						accepted.Add(1)
						if _, _, ok1 := ref.attempt(refASCIIDigits(strings.TrimSpace(in.raw)), p); !ok1 {
							retried.Add(1)
						}
						if again, why := n.Normalize(Format(got.Number)); why != ReasonNone || again.Number != got.Number {
							if failures++; failures <= 10 {
								t.Errorf("%s/%v: Normalize(%q) = %d, but Normalize(%q) = %d, %v", r, p, in.raw, got.Number, Format(got.Number), again.Number, why)
							}
						}
					}
				}
			}
			if failures > 10 {
				t.Errorf("… and %d more", failures-10)
			}
		})
	}
}
