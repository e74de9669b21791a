package livelookup

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/calldir/calldir/shard"
)

// ParseKey reads a key as an export writes it: "+" and 1 to 15 digits not
// starting with 0, at most shard.MaxNumber (FormE164, with its number), or
// 1 to maxPackedDigits digits (FormNational, number 0).
func ParseKey(key []byte) (Form, int64, error) {
	if len(key) > 0 && key[0] == '+' {
		d := key[1:]
		if len(d) == 0 || len(d) > 15 || d[0] == '0' || !allDigits(d) {
			return "", 0, fmt.Errorf("key %q: an E.164 key is + and 1 to 15 digits, the first not 0", key)
		}
		n, err := strconv.ParseInt(string(d), 10, 64)
		if err != nil || n > shard.MaxNumber {
			return "", 0, fmt.Errorf("key %q: above the largest CallKit number", key)
		}
		return FormE164, n, nil
	}
	if len(key) == 0 || len(key) > maxPackedDigits || !allDigits(key) {
		return "", 0, fmt.Errorf("key %q: want + and digits (E.164) or 1 to %d digits (national)", key, maxPackedDigits)
	}
	return FormNational, 0, nil
}

func allDigits(b []byte) bool {
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// CheckValue checks a row's value for a database of kind ("block" or
// "identity"): a blocking value is the one byte BlockValue; an identity
// value is a CallIdentity of at most MaxIdentityBytes with a name, the
// category person or business, and an icon of at most MaxIconBytes.
func CheckValue(kind string, v []byte) (Identity, error) {
	if kind == "block" {
		if len(v) != 1 || v[0] != BlockValue {
			return Identity{}, fmt.Errorf("blocking value %x: want the one byte %02x", v, BlockValue)
		}
		return Identity{}, nil
	}
	if len(v) > MaxIdentityBytes {
		return Identity{}, fmt.Errorf("identity of %d bytes, over %d", len(v), MaxIdentityBytes)
	}
	id, err := DecodeIdentity(v)
	switch {
	case err != nil:
		return id, err
	case id.Name == "":
		return id, errors.New("identity without a name")
	case id.Category != CategoryPerson && id.Category != CategoryBusiness:
		return id, fmt.Errorf("identity category %s: want person or business", id.Category)
	case len(id.Icon) > MaxIconBytes:
		return id, fmt.Errorf("icon of %d bytes, over %d", len(id.Icon), MaxIconBytes)
	}
	return id, nil
}
