package e164

import (
	"strings"

	"github.com/nyaruka/phonenumbers"
)

// PrefixLengths returns the lengths, in digits as written, of the numbers
// of the default region that begin with prefix, national digits as a
// register writes them (with or without the trunk prefix): the lengths L
// for which both the first (prefix then 0s) and the last (prefix then 9s)
// number of L digits are valid numbers of the region's plan in the full
// metadata.
// Registers publish blocks such as Ofcom's "7000 0" without their length;
// the numbering plan settles it when one length fits, as it does for
// nearly every block. The answer is in ascending order; empty when no
// length fits. It never panics (a panic in phonenumbers is no length).
func (n *Normalizer) PrefixLengths(prefix string) (lengths []int) {
	defer func() {
		if recover() != nil {
			lengths = nil
		}
	}()
	if prefix == "" || strings.Trim(prefix, "0123456789") != "" {
		return nil
	}
	// A national number with its trunk prefix has at most one digit more
	// than the E.164 maximum less a one-digit country code.
	for l := len(prefix) + 1; l <= MaxDigits; l++ {
		first := prefix + strings.Repeat("0", l-len(prefix))
		last := prefix + strings.Repeat("9", l-len(prefix))
		if n.validIn(first) && n.validIn(last) {
			lengths = append(lengths, l)
		}
	}
	return lengths
}

// validIn reports whether the national digits s, read in the default
// region, are a valid number: of any region of its country calling code,
// so that one plan's registers (NANPA's and CNAC's codes) read alike.
func (n *Normalizer) validIn(s string) bool {
	num, err := phonenumbers.Parse(s, n.region)
	return err == nil && phonenumbers.IsValidNumber(num)
}
