// Package livelookup is calldir's export for iOS Live Caller ID Lookup: the
// KeywordDatabase files that Apple's PIRProcessDatabase turns into the
// private-lookup databases a caller-ID service answers from, their
// PIRProcessDatabase configurations, and a manifest (live-lookup.json) with
// counts and SHA-256s. docs/LIVE-LOOKUP.md has the byte diagram.
//
// A KeywordDatabase is a protobuf message whose only field is
// "repeated KeywordDatabaseRow rows = 1", so its binary form is a sequence
// of independent records, each the tag byte 0x0a, a varint length and one
// row (keyword = 1, value = 2, both bytes). The writer streams rows one by
// one in the numeric order of the builds, and the reader decodes them one
// by one: neither holds more than one row.
package livelookup

import "fmt"

// The files of an export directory.
const (
	ManifestName       = "live-lookup.json"
	BlockFile          = "block.binpb"
	IdentityFile       = "identity.binpb"
	BlockConfigFile    = "block-config.json"
	IdentityConfigFile = "identity-config.json"
)

// Limits, from Apple's Live Caller ID Lookup example service and the
// PIRProcessDatabase documentation (docs/LIVE-LOOKUP.md §4 has the
// evidence). Every other package takes them from here.
const (
	// MaxIdentityBytes bounds a serialized CallIdentity: the example service
	// stores a value's length in 16 bits.
	MaxIdentityBytes = 65_535
	// MaxIconBytes bounds an icon file (HEIC). A smaller icon is cheaper:
	// the PIR response grows with the largest value of a shard.
	MaxIconBytes = 64 << 10
	// BlockEntriesPerShard and IdentityEntriesPerShard are the rows per
	// PIR shard of Apple's example (its entryCountPerShard): blocking values
	// are one byte, identity values larger.
	BlockEntriesPerShard    = 50_000
	IdentityEntriesPerShard = 5_000
	// DefaultCacheExpiryMinutes is how long a phone reuses an identity
	// answer when neither flag nor configuration says: one day.
	DefaultCacheExpiryMinutes = 1_440
	// RLWEParameters is the PIRProcessDatabase encryption parameter set
	// written into the configurations: the one Apple's documentation and
	// example use.
	RLWEParameters = "n_4096_logq_27_28_28_logt_5"
	// MaxKeyBytes bounds a keyword read back: a key is a phone number as
	// text (E.164 has at most 15 digits and a '+'; national forms are
	// shorter than 20 digits).
	MaxKeyBytes = 20
)

// BlockValue is the value of every blocking row: 1 = block (0 would say
// "don't block", which an export never writes: absent numbers are not
// blocked).
const BlockValue = 1

// Category is the IdentityCategory enum of CallIdentity.
type Category int32

const (
	CategoryUnspecified Category = 0
	CategoryPerson      Category = 1
	CategoryBusiness    Category = 2
)

func (c Category) String() string {
	switch c {
	case CategoryUnspecified:
		return "unspecified"
	case CategoryPerson:
		return "person"
	case CategoryBusiness:
		return "business"
	}
	return fmt.Sprintf("Category(%d)", int32(c))
}

// ParseCategory reads "person" or "business", the two categories an export
// writes.
func ParseCategory(s string) (Category, error) {
	switch s {
	case "person":
		return CategoryPerson, nil
	case "business":
		return CategoryBusiness, nil
	}
	return 0, &CategoryError{Value: s}
}

// CategoryError is a category other than person or business.
type CategoryError struct{ Value string }

func (e *CategoryError) Error() string {
	return fmt.Sprintf("identity category %q: want person or business", e.Value)
}

// Form is a written form of a number's key.
type Form string

const (
	FormE164     Form = "e164"     // "+14155550123": Apple's example
	FormNational Form = "national" // "07700900123": the country's national dialling form
)

// ParseForm reads "e164" or "national".
func ParseForm(s string) (Form, error) {
	switch Form(s) {
	case FormE164, FormNational:
		return Form(s), nil
	}
	return "", fmt.Errorf("key form %q: want e164 or national", s)
}
