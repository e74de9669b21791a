package livelookup

import "google.golang.org/protobuf/encoding/protowire"

// Field numbers of the messages calldir writes (docs/LIVE-LOOKUP.md §2):
//
//	KeywordDatabase    { repeated KeywordDatabaseRow rows = 1; }
//	KeywordDatabaseRow { bytes keyword = 1; bytes value = 2; }
//	CallIdentity       { string name = 1; Icon icon = 2;
//	                     uint32 cache_expiry_minutes = 3; IdentityCategory category = 4; }
//	Icon               { ImageFormat format = 1; bytes image = 2; }   (HEIC = 1)
const (
	fieldRows     protowire.Number = 1
	fieldKeyword  protowire.Number = 1
	fieldValue    protowire.Number = 2
	fieldName     protowire.Number = 1
	fieldIcon     protowire.Number = 2
	fieldExpiry   protowire.Number = 3
	fieldCategory protowire.Number = 4
	fieldFormat   protowire.Number = 1
	fieldImage    protowire.Number = 2
	formatHEIC                     = 1
)

// Identity is a CallIdentity: what the phone shows for a caller.
type Identity struct {
	Name               string
	Icon               []byte // HEIC image, or nil
	CacheExpiryMinutes uint32
	Category           Category
}

// AppendIdentity appends id serialized as proto3 does: fields in number
// order, fields holding their zero value left out.
func AppendIdentity(b []byte, id Identity) []byte {
	if id.Name != "" {
		b = protowire.AppendTag(b, fieldName, protowire.BytesType)
		b = protowire.AppendString(b, id.Name)
	}
	if id.Icon != nil {
		b = protowire.AppendTag(b, fieldIcon, protowire.BytesType)
		b = protowire.AppendVarint(b, uint64(iconSize(len(id.Icon))))
		b = protowire.AppendTag(b, fieldFormat, protowire.VarintType)
		b = protowire.AppendVarint(b, formatHEIC)
		b = protowire.AppendTag(b, fieldImage, protowire.BytesType)
		b = protowire.AppendBytes(b, id.Icon)
	}
	if id.CacheExpiryMinutes != 0 {
		b = protowire.AppendTag(b, fieldExpiry, protowire.VarintType)
		b = protowire.AppendVarint(b, uint64(id.CacheExpiryMinutes))
	}
	if id.Category != CategoryUnspecified {
		b = protowire.AppendTag(b, fieldCategory, protowire.VarintType)
		b = protowire.AppendVarint(b, uint64(id.Category))
	}
	return b
}

// iconSize is the size of an Icon message holding n image bytes.
func iconSize(n int) int {
	return protowire.SizeTag(fieldFormat) + protowire.SizeVarint(formatHEIC) +
		protowire.SizeTag(fieldImage) + protowire.SizeBytes(n)
}

// AppendRow appends one KeywordDatabase row record: the rows field's tag,
// the row's length, then keyword and value. Each record stands alone, so
// a database is written row by row and its length never needs to be known.
func AppendRow(b []byte, key, value []byte) []byte {
	n := protowire.SizeTag(fieldKeyword) + protowire.SizeBytes(len(key)) +
		protowire.SizeTag(fieldValue) + protowire.SizeBytes(len(value))
	b = protowire.AppendTag(b, fieldRows, protowire.BytesType)
	b = protowire.AppendVarint(b, uint64(n))
	b = protowire.AppendTag(b, fieldKeyword, protowire.BytesType)
	b = protowire.AppendBytes(b, key)
	b = protowire.AppendTag(b, fieldValue, protowire.BytesType)
	return protowire.AppendBytes(b, value)
}
