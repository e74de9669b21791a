// Package e164 turns one raw phone-number string into the Int64 that CallKit
// expects (the E.164 digits without '+'), or a reject reason from a fixed set.
//
// The reference for every decision is phonenumbers' Parse, the policy check
// (IsPossibleNumberWithReason or IsValidNumber) and Format(E164), with these
// documented differences:
//
//   - surrounding white space, tabs included, is trimmed first (phonenumbers
//     v1.8.1 rejects "+12015550169\t", which upstream libphonenumber accepts);
//   - decimal digits of every script (Devanagari, Thai, …) are read as their
//     ASCII digits first, as upstream libphonenumber does (phonenumbers
//     v1.8.1 maps only Arabic-Indic and full-width digits, and misreads the
//     others: see asciiDigits);
//   - a number the default region rejects and whose digits start with "00" is
//     retried as international ("+"), because many lists use the European
//     international prefix whatever their origin;
//   - a number that is possible only when dialled locally (a US number without
//     its area code, say) is rejected as ReasonLocalOnly: its E.164 form would
//     never match a real caller;
//   - a reading whose E.164 text, parsed again under the same rules, is not
//     accepted as the same number is rejected as ReasonAmbiguous (and so
//     gets the 00 retry): Parse strips a national prefix only once, also
//     after "+cc", so "+49 0 030 1234567" reads as +490301234567, which
//     itself reads as +49301234567. Normalize(Format(x)) is x for every
//     accepted x.
//
// This is the only package that imports phonenumbers.
package e164

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers"
)

// Policy decides how strict acceptance is.
type Policy uint8

const (
	// PolicyPossible accepts numbers whose length is possible for their
	// country (phonenumbers.IsPossibleNumberWithReason == IS_POSSIBLE). The
	// default: spoofed numbers in spam lists are often outside assigned
	// ranges, so "valid" would drop real spam.
	PolicyPossible Policy = iota
	// PolicyValid accepts numbers that match the full numbering-plan metadata
	// (phonenumbers.IsValidNumber).
	PolicyValid
	// PolicyAny accepts every number with a known country calling code and
	// at most 15 E.164 digits.
	PolicyAny
)

var policyNames = [...]string{PolicyPossible: "possible", PolicyValid: "valid", PolicyAny: "any"}

func (p Policy) String() string {
	if int(p) < len(policyNames) {
		return policyNames[p]
	}
	return "Policy(" + strconv.Itoa(int(p)) + ")"
}

// ParsePolicy parses "valid", "possible" or "any".
func ParsePolicy(s string) (Policy, error) {
	for i, n := range policyNames {
		if strings.EqualFold(s, n) {
			return Policy(i), nil
		}
	}
	return 0, fmt.Errorf("unknown accept policy %q (want valid, possible or any)", s)
}

// MaxDigits is the E.164 maximum length: country code plus national
// significant number, at most 15 digits (ITU-T E.164 §6).
const MaxDigits = 15

// Normalizer normalizes raw strings for one default region and policy. The
// zero value is not usable; build one with New. A Normalizer is safe for
// concurrent use.
type Normalizer struct {
	region string
	policy Policy
}

// New returns a Normalizer for a default region (ISO 3166 alpha-2, such as
// "US") and an accept policy.
func New(region string, policy Policy) (*Normalizer, error) {
	region = strings.ToUpper(strings.TrimSpace(region))
	if !phonenumbers.GetSupportedRegions()[region] {
		return nil, fmt.Errorf("unknown region %q (want an ISO 3166 code that phonenumbers supports, such as US, GB, FR)", region)
	}
	if policy > PolicyAny {
		return nil, fmt.Errorf("unknown accept policy %d", policy)
	}
	return &Normalizer{region: region, policy: policy}, nil
}

// Region returns the default region.
func (n *Normalizer) Region() string { return n.region }

// Policy returns the accept policy.
func (n *Normalizer) Policy() Policy { return n.policy }

// Result is an accepted number.
type Result struct {
	// Number is the CallKit number: the E.164 digits as an integer.
	Number int64
	// HadExtension reports that the raw text carried an extension
	// ("x123", "ext. 123", ";ext=123"), which CallKit cannot use and which
	// was dropped.
	HadExtension bool
}

// Normalize decides one raw string. It returns the number and ReasonNone, or
// a zero Result and the reject reason. It never panics: a panic inside
// phonenumbers is turned into ReasonNotANumber.
func (n *Normalizer) Normalize(raw string) (res Result, reason Reason) {
	defer func() {
		if recover() != nil {
			res, reason = Result{}, ReasonNotANumber
		}
	}()
	s := strings.TrimFunc(raw, isTrimmable)
	if s == "" {
		return Result{}, ReasonEmpty
	}
	if !hasDigit(s) {
		return Result{}, ReasonNoDigits
	}
	s = asciiDigits(s)
	res, reason = n.decide(s)
	if reason != ReasonNone {
		if rest, ok := afterDoubleZero(s); ok {
			if r2, why := n.decide("+" + rest); why == ReasonNone {
				return r2, ReasonNone
			}
		}
	}
	return res, reason
}

// decide reads s (see read) and accepts the result only if its own E.164
// text reads back as the same number.
//
// phonenumbers strips a national prefix from the national significant
// number of international numbers too ("+49 030 1234567" is +49301234567),
// but only once per Parse. So a reading whose NSN still starts with a
// national prefix after that one strip is another number once its E.164
// text is parsed: "+49 0 030 1234567" reads as +490301234567, which reads
// as +49301234567, and "00 49 30 123456" in BR (where 00 alone is not the
// international prefix) as +5504930123456, which reads as +554930123456, a
// real Brazilian landline. Such a reading is the sign of a malformed or
// misread input, not of a number: it is rejected as ReasonAmbiguous, which
// also lets Normalize's 00 retry find +49 30 123456 in the second example.
// Taking the second reading instead would block a number nobody listed.
// This makes Normalize idempotent, Normalize(Format(x)) == x, so a number
// means the same in national and in E.164 form (the allowlist, a diff
// against the last build).
func (n *Normalizer) decide(s string) (Result, Reason) {
	res, stable, why := n.read(s)
	if why != ReasonNone || stable {
		return res, why
	}
	again, _, why := n.read(Format(res.Number))
	if why != ReasonNone || again.Number != res.Number {
		return Result{}, ReasonAmbiguous
	}
	return res, ReasonNone
}

// read runs phonenumbers Parse, the policy check and Format(E164). It also
// reports whether the result is settled (see settled).
func (n *Normalizer) read(s string) (res Result, stable bool, why Reason) {
	num, err := phonenumbers.Parse(s, n.region)
	if err != nil {
		return Result{}, false, parseReason(err)
	}
	if r := n.check(num); r != ReasonNone {
		return Result{}, false, r
	}
	digits := phonenumbers.Format(num, phonenumbers.E164)
	digits = strings.TrimPrefix(digits, "+")
	if len(digits) > MaxDigits {
		return Result{}, false, ReasonTooLong
	}
	v, err := strconv.ParseInt(digits, 10, 64)
	if err != nil || v <= 0 {
		return Result{}, false, ReasonNotANumber
	}
	res = Result{Number: v, HadExtension: num.GetExtension() != ""}
	return res, settled(num.GetCountryCode(), digits), ReasonNone
}

// settled reports that Parse of "+"+digits, the E.164 digits of a number of
// country calling code cc, cannot strip or transform a national prefix, so
// that it reads back as the same number; it saves decide's re-read (a
// second Parse) for nearly every number. It errs towards false: a false only costs
// a re-read. Parse of "+cc…" takes the national prefix rule of the country
// calling code's main region (metadata national_prefix_for_parsing, anchored
// at the start of the national significant number); a rule that does not
// match, or matches the empty string without capturing a group (nothing to
// strip, nothing to transform), leaves the number as it is.
func settled(cc int32, digits string) bool {
	rule, ok := nationalPrefixRules()[cc]
	if !ok {
		return false
	}
	if rule == nil {
		return true
	}
	ccLen := 1
	for c := cc; c >= 10; c /= 10 {
		ccLen++
	}
	if len(digits) < ccLen+2 {
		return false // an NSN shorter than Parse's minimum: let the re-read reject it
	}
	m := rule.FindStringSubmatchIndex(digits[ccLen:])
	if m == nil {
		return true
	}
	return m[1] == 0 && !slices.ContainsFunc(m[2:], func(i int) bool { return i >= 0 })
}

// nationalPrefixRules maps each country calling code to the compiled
// national_prefix_for_parsing rule of its main region (nil when it has
// none), the metadata that Parse applies to a "+cc…" number.
var nationalPrefixRules = sync.OnceValue(func() map[int32]*regexp.Regexp {
	rules := make(map[int32]*regexp.Regexp)
	coll, err := phonenumbers.MetadataCollection()
	if err != nil {
		return rules // every number gets re-read: slower, still right
	}
	for _, md := range coll.GetMetadata() {
		cc := md.GetCountryCode()
		if md.GetId() != phonenumbers.GetRegionCodeForCountryCode(int(cc)) {
			continue // not the main region; "001" entries match by code
		}
		var rule *regexp.Regexp
		if p := md.GetNationalPrefixForParsing(); p != "" {
			r, err := regexp.Compile("^(?:" + p + ")")
			if err != nil {
				continue // no entry: re-read
			}
			rule = r
		}
		rules[cc] = rule
	}
	return rules
})

func (n *Normalizer) check(num *phonenumbers.PhoneNumber) Reason {
	if phonenumbers.GetRegionCodeForCountryCode(int(num.GetCountryCode())) == phonenumbers.UNKNOWN_REGION {
		return ReasonInvalidCountryCode
	}
	if n.policy == PolicyAny {
		return ReasonNone
	}
	poss := possibleReason(phonenumbers.IsPossibleNumberWithReason(num))
	if n.policy == PolicyValid {
		if phonenumbers.IsValidNumber(num) {
			return ReasonNone
		}
		if poss != ReasonNone {
			return poss
		}
		return ReasonNotValid
	}
	return poss
}

func possibleReason(v phonenumbers.ValidationResult) Reason {
	switch v {
	case phonenumbers.IS_POSSIBLE:
		return ReasonNone
	case phonenumbers.IS_POSSIBLE_LOCAL_ONLY:
		return ReasonLocalOnly
	case phonenumbers.TOO_SHORT:
		return ReasonTooShort
	case phonenumbers.TOO_LONG:
		return ReasonTooLong
	case phonenumbers.INVALID_COUNTRY_CODE:
		return ReasonInvalidCountryCode
	default:
		return ReasonInvalidLength
	}
}

func parseReason(err error) Reason {
	switch {
	case errors.Is(err, phonenumbers.ErrInvalidCountryCode):
		return ReasonInvalidCountryCode
	case errors.Is(err, phonenumbers.ErrTooShortNSN), errors.Is(err, phonenumbers.ErrTooShortAfterIDD):
		return ReasonTooShort
	case errors.Is(err, phonenumbers.ErrNumTooLong):
		return ReasonTooLong
	default:
		return ReasonNotANumber
	}
}

// isTrimmable is unicode.IsSpace plus the zero-width and byte-order marks
// that spreadsheets and web pages leave around numbers.
func isTrimmable(r rune) bool {
	return unicode.IsSpace(r) || r == '\uFEFF' || r == '\u200B' || r == '\u2060'
}

func hasDigit(s string) bool {
	for _, r := range s {
		if unicode.IsDigit(r) {
			return true
		}
	}
	return false
}

// asciiDigits rewrites every Unicode decimal digit (category Nd) of s as its
// ASCII digit and leaves every other byte as it is. phonenumbers v1.8.1 maps
// only the Arabic-Indic and full-width digits itself; the others (Devanagari,
// Bengali, Thai, N'Ko, …) pass its \p{Nd} patterns, are counted in bytes,
// and end in a strconv.ParseUint whose error it ignores, so "212 555 012߃"
// (an N'Ko 3) read as +10 and every Devanagari number as too long. Upstream
// libphonenumber reads all of them (Character.digit).
func asciiDigits(s string) string {
	i := 0
	for i < len(s) && s[i] < utf8.RuneSelf {
		i++
	}
	if i == len(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	b.WriteString(s[:i])
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		if d, ok := digitValue(r); ok {
			b.WriteByte('0' + d)
		} else {
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// digitValue returns the value of a decimal digit of any script. Unicode
// encodes decimal digits (Nd) in contiguous runs of ten, 0 to 9, so each
// range of the unicode.Nd table is one or more whole runs (TestDigitValue
// checks it) and a digit's value is its distance from the start of its
// range, modulo 10.
func digitValue(r rune) (byte, bool) {
	if r < utf8.RuneSelf {
		if '0' <= r && r <= '9' {
			return byte(r - '0'), true
		}
		return 0, false
	}
	if !unicode.Is(unicode.Nd, r) {
		return 0, false
	}
	for _, rg := range unicode.Nd.R16 {
		if rune(rg.Lo) <= r && r <= rune(rg.Hi) {
			return byte((r - rune(rg.Lo)) % 10), true
		}
	}
	for _, rg := range unicode.Nd.R32 {
		if rune(rg.Lo) <= r && r <= rune(rg.Hi) {
			return byte((r - rune(rg.Lo)) % 10), true
		}
	}
	return 0, false
}

// afterDoubleZero reports whether s, once leading punctuation and spaces are
// skipped, starts with the digits "00", and returns what follows them.
func afterDoubleZero(s string) (string, bool) {
	i := 0
	for i < len(s) {
		c := s[i]
		if c == '0' {
			break
		}
		if c == ' ' || c == '(' || c == ')' || c == '-' || c == '.' || c == '/' || c == '\t' {
			i++
			continue
		}
		return "", false
	}
	if strings.HasPrefix(s[i:], "00") {
		return s[i+2:], true
	}
	return "", false
}

// Format renders a CallKit number as E.164 text ("+14085555555").
func Format(number int64) string {
	return "+" + strconv.FormatInt(number, 10)
}

// CountryCode returns the country calling code of a CallKit number, or 0 if
// its leading digits name none.
func CountryCode(number int64) int {
	if number >= 100 {
		return int(natCodes[lead3(uint64(number))])
	}
	return countryCodeSlow(number)
}

// countryCodeSlow is CountryCode by phonenumbers' lookups.
func countryCodeSlow(number int64) int {
	s := strconv.FormatInt(number, 10)
	for l := 1; l <= 3 && l <= len(s); l++ {
		cc, _ := strconv.Atoi(s[:l])
		if phonenumbers.GetRegionCodeForCountryCode(cc) != phonenumbers.UNKNOWN_REGION {
			return cc
		}
	}
	return 0
}
