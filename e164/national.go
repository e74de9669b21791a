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
// +33 6 12 34 56 78 and +31 6 12345678 are both "0612345678".
func National(number int64) (string, bool) {
	var buf [24]byte
	b, _, ok := AppendNational(buf[:0], number)
	return string(b), ok
}

// AppendNational appends the national form of number (National) to dst,
// and returns it with the number's country calling code (CountryCode). It
// does not allocate for the numbers the fast path decides (nearly all:
// fast_national.go); the others go through phonenumbers. With ok false,
// dst is returned as it was.
func AppendNational(dst []byte, number int64) (out []byte, cc int, ok bool) {
	if number <= 0 {
		return dst, 0, false
	}
	if out, cc, ok, decided := appendNationalFast(dst, number); decided {
		return out, cc, ok
	}
	s, ok := nationalSlow(number)
	return append(dst, s...), CountryCode(number), ok
}

// nationalSlow is National through phonenumbers: Parse of "+digits"
// without a default region, Format(NATIONAL), its digits.
func nationalSlow(number int64) (string, bool) {
	if number <= 0 || countryCodeSlow(number) == 0 {
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
