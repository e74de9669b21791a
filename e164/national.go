package e164

import (
	"strconv"

	"github.com/nyaruka/phonenumbers"
)

// National returns the national form of a CallKit number as its country
// writes it to dial inside the country, digits only, with the trunk prefix
// where the country uses one: +447700900123 is "07700900123",
// +33162000000 is "0162000000", +14155550123 is "4155550123" (the NANP
// writes no trunk prefix). It is phonenumbers' NATIONAL format with every
// non-digit dropped. ok is false when the number's leading digits name no
// country calling code, or the format gives no digits.
//
// Within one country calling code two numbers never share a national form
// (a national dial string reaches one line); across codes they can:
// +49 30 12345678 and +43 3012345678 are both "03012345678"-shaped.
func National(number int64) (string, bool) {
	if number <= 0 || CountryCode(number) == 0 {
		return "", false
	}
	num, err := phonenumbers.Parse("+"+strconv.FormatInt(number, 10), "ZZ")
	if err != nil {
		return "", false
	}
	f := phonenumbers.Format(num, phonenumbers.NATIONAL)
	b := make([]byte, 0, len(f))
	for i := 0; i < len(f); i++ {
		if c := f[i]; c >= '0' && c <= '9' {
			b = append(b, c)
		}
	}
	if len(b) == 0 {
		return "", false
	}
	return string(b), true
}
