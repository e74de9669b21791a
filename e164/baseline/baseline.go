// Package baseline is what calldir's normalization is measured against in
// `calldir bench`: phonenumbers' own Parse + IsPossibleNumber +
// Format(E164) of one raw string, with none of e164.Normalize's rules. It
// is not a normalization to use; it lives under e164/ because phonenumbers
// is imported nowhere else.
package baseline

import (
	"strconv"
	"strings"

	"github.com/nyaruka/phonenumbers"
)

// Normalize parses raw with phonenumbers in region and returns its E.164
// digits when the number is possible.
func Normalize(raw, region string) (int64, bool) {
	num, err := phonenumbers.Parse(raw, region)
	if err != nil || !phonenumbers.IsPossibleNumber(num) {
		return 0, false
	}
	v, err := strconv.ParseInt(strings.TrimPrefix(phonenumbers.Format(num, phonenumbers.E164), "+"), 10, 64)
	return v, err == nil
}
