// Package e164 turns one raw phone-number string into the Int64 that CallKit
// expects (the E.164 digits without '+'), or a reject reason from a fixed set.
//
// The reference for every decision is phonenumbers' Parse, the policy check
// (IsPossibleNumberWithReason or IsValidNumber) and Format(E164), with three
// documented differences:
//
//   - surrounding white space, tabs included, is trimmed first (phonenumbers
//     v1.8.1 rejects "+12015550169\t", which upstream libphonenumber accepts);
//   - a number the default region rejects and whose digits start with "00" is
//     retried as international ("+"), because many lists use the European
//     international prefix whatever their origin;
//   - a number that is possible only when dialled locally (a US number without
//     its area code, say) is rejected as ReasonLocalOnly: its E.164 form would
//     never match a real caller.
//
// This is the only package that imports phonenumbers.
package e164

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"

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

// decide runs phonenumbers Parse, the policy check and Format(E164).
func (n *Normalizer) decide(s string) (Result, Reason) {
	num, err := phonenumbers.Parse(s, n.region)
	if err != nil {
		return Result{}, parseReason(err)
	}
	if r := n.check(num); r != ReasonNone {
		return Result{}, r
	}
	digits := phonenumbers.Format(num, phonenumbers.E164)
	digits = strings.TrimPrefix(digits, "+")
	if len(digits) > MaxDigits {
		return Result{}, ReasonTooLong
	}
	v, err := strconv.ParseInt(digits, 10, 64)
	if err != nil || v <= 0 {
		return Result{}, ReasonNotANumber
	}
	return Result{Number: v, HadExtension: num.GetExtension() != ""}, ReasonNone
}

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
	s := strconv.FormatInt(number, 10)
	for l := 1; l <= 3 && l <= len(s); l++ {
		cc, _ := strconv.Atoi(s[:l])
		if phonenumbers.GetRegionCodeForCountryCode(cc) != phonenumbers.UNKNOWN_REGION {
			return cc
		}
	}
	return 0
}
