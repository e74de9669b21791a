package e164

import (
	"strconv"
	"strings"

	"github.com/nyaruka/phonenumbers"
)

// Baseline is what calldir's normalization is measured against in
// benchmarks: phonenumbers' own Parse + IsPossibleNumber + Format(E164) of
// one raw string, with none of Normalize's rules. It is not a
// normalization to use: see Normalize.
func Baseline(raw, region string) (int64, bool) {
	num, err := phonenumbers.Parse(raw, region)
	if err != nil || !phonenumbers.IsPossibleNumber(num) {
		return 0, false
	}
	v, err := strconv.ParseInt(strings.TrimPrefix(phonenumbers.Format(num, phonenumbers.E164), "+"), 10, 64)
	return v, err == nil
}
