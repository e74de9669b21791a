// Package shard is calldir's on-disk shard format: a 64-byte header, an
// optional label table, then fixed-width little-endian records, so that a
// Call Directory extension can stream a shard into addBlockingEntry or
// addIdentificationEntry with constant memory. docs/FORMAT.md has the byte
// diagram.
//
//	offset  size  field
//	     0     4  magic "CDSH"
//	     4     2  version (1)
//	     6     1  kind (1 block, 2 identify)
//	     7     1  flags (0)
//	     8     8  count: records
//	    16     8  first number (0 when count is 0)
//	    24     8  last number (0 when count is 0)
//	    32     8  body size in bytes: label table + records
//	    40     4  label count
//	    44     4  CRC-32C of the body
//	    48    12  reserved, zero
//	    60     4  CRC-32C of bytes 0..59
//	    64     …  label table (identify only): per label, u16 length + UTF-8 bytes
//	     …     …  records: block = i64 number (8 bytes);
//	                       identify = i64 number + u32 label index + u32 zero (16 bytes)
package shard

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"strconv"
)

const (
	// Magic opens every shard file.
	Magic = "CDSH"
	// Version is the format version this package writes and reads.
	Version = 1
	// HeaderSize is the fixed header length in bytes.
	HeaderSize = 64
	// BlockRecordSize is the size of a blocking record: one int64 number.
	BlockRecordSize = 8
	// IdentifyRecordSize is the size of an identification record: int64
	// number, uint32 label index, uint32 zero padding. It matches the
	// daemon's own 16-byte identification wire entry (CALLKIT.md §1.2).
	IdentifyRecordSize = 16
	// LabelLenSize is the size of a label's length prefix in the label table.
	LabelLenSize = 2
)

// Kind is what a shard's entries do: block calls or identify callers.
type Kind uint8

const (
	KindBlock    Kind = 1 // addBlockingEntry
	KindIdentify Kind = 2 // addIdentificationEntry with a label
)

func (k Kind) String() string {
	switch k {
	case KindBlock:
		return "block"
	case KindIdentify:
		return "identify"
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// ParseKind parses "block" or "identify".
func ParseKind(s string) (Kind, error) {
	switch s {
	case "block", "blocking":
		return KindBlock, nil
	case "identify", "identification":
		return KindIdentify, nil
	}
	return 0, fmt.Errorf("unknown kind %q (want block or identify)", s)
}

// RecordSize is the size of one record of kind k, or 0 for an unknown kind.
func (k Kind) RecordSize() int {
	switch k {
	case KindBlock:
		return BlockRecordSize
	case KindIdentify:
		return IdentifyRecordSize
	}
	return 0
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Header is the fixed 64-byte shard header.
type Header struct {
	Kind       Kind
	Count      uint64 // records in the body
	First      int64  // smallest number; 0 when Count is 0
	Last       int64  // largest number; 0 when Count is 0
	BodySize   uint64 // bytes after the header: label table + records
	LabelCount uint32 // labels in the table (identify only)
	BodyCRC    uint32 // CRC-32C (Castagnoli) of the body
}

// MarshalBinary encodes the header, including its own checksum.
func (h *Header) MarshalBinary() ([]byte, error) {
	if err := h.Validate(); err != nil {
		return nil, err
	}
	b := make([]byte, HeaderSize)
	copy(b[0:4], Magic)
	binary.LittleEndian.PutUint16(b[4:6], Version)
	b[6] = byte(h.Kind)
	binary.LittleEndian.PutUint64(b[8:16], h.Count)
	binary.LittleEndian.PutUint64(b[16:24], uint64(h.First))
	binary.LittleEndian.PutUint64(b[24:32], uint64(h.Last))
	binary.LittleEndian.PutUint64(b[32:40], h.BodySize)
	binary.LittleEndian.PutUint32(b[40:44], h.LabelCount)
	binary.LittleEndian.PutUint32(b[44:48], h.BodyCRC)
	binary.LittleEndian.PutUint32(b[60:64], crc32.Checksum(b[:60], castagnoli))
	return b, nil
}

// UnmarshalBinary decodes and validates a header.
func (h *Header) UnmarshalBinary(b []byte) error {
	if len(b) < HeaderSize {
		return hdrErr("header", fmt.Sprintf("%d bytes, want %d", len(b), HeaderSize))
	}
	if string(b[0:4]) != Magic {
		return hdrErr("magic", fmt.Sprintf("%q, want %q: not a calldir shard", b[0:4], Magic))
	}
	if v := binary.LittleEndian.Uint16(b[4:6]); v != Version {
		return hdrErr("version", fmt.Sprintf("%d, this calldir reads version %d", v, Version))
	}
	if got, want := binary.LittleEndian.Uint32(b[60:64]), crc32.Checksum(b[:60], castagnoli); got != want {
		return hdrErr("header checksum", fmt.Sprintf("%08x, computed %08x: header damaged", got, want))
	}
	if b[7] != 0 {
		return hdrErr("flags", fmt.Sprintf("%#x, want 0", b[7]))
	}
	for _, c := range b[48:60] {
		if c != 0 {
			return hdrErr("reserved", "non-zero reserved bytes")
		}
	}
	*h = Header{
		Kind:       Kind(b[6]),
		Count:      binary.LittleEndian.Uint64(b[8:16]),
		First:      int64(binary.LittleEndian.Uint64(b[16:24])),
		Last:       int64(binary.LittleEndian.Uint64(b[24:32])),
		BodySize:   binary.LittleEndian.Uint64(b[32:40]),
		LabelCount: binary.LittleEndian.Uint32(b[40:44]),
		BodyCRC:    binary.LittleEndian.Uint32(b[44:48]),
	}
	return h.Validate()
}

// Validate checks the header fields against each other and CallKit's rules.
func (h *Header) Validate() error {
	rs := h.Kind.RecordSize()
	if rs == 0 {
		return hdrErr("kind", fmt.Sprintf("%d, want 1 (block) or 2 (identify)", h.Kind))
	}
	if h.Kind == KindBlock && h.LabelCount != 0 {
		return hdrErr("label count", fmt.Sprintf("%d in a block shard", h.LabelCount))
	}
	if h.Count > MaxEntriesPerRequest {
		return hdrErr("count", fmt.Sprintf("%d, above CallKit's %d entries per request (error %d)", h.Count, MaxEntriesPerRequest, ErrorMaximumEntriesExceeded))
	}
	recBytes := h.Count * uint64(rs)
	if h.BodySize < recBytes {
		return hdrErr("body size", fmt.Sprintf("%d bytes, too small for %d records", h.BodySize, h.Count))
	}
	// Every label takes at least its length prefix plus one byte.
	if uint64(h.LabelCount)*(LabelLenSize+1) > h.BodySize-recBytes {
		return hdrErr("label count", fmt.Sprintf("%d labels cannot fit in %d bytes", h.LabelCount, h.BodySize-recBytes))
	}
	if h.Kind == KindIdentify && h.Count > 0 && h.LabelCount == 0 {
		return hdrErr("label count", fmt.Sprintf("0 labels for %d identification records", h.Count))
	}
	if h.Kind == KindBlock && h.BodySize != recBytes {
		return hdrErr("body size", fmt.Sprintf("%d bytes, want %d for %d block records", h.BodySize, recBytes, h.Count))
	}
	if h.Count == 0 {
		if h.First != 0 || h.Last != 0 {
			return hdrErr("first/last", "non-zero in an empty shard")
		}
		return nil
	}
	if h.First <= 0 || h.First > MaxNumber {
		return hdrErr("first", fmt.Sprintf("%d, outside 1..%d", h.First, MaxNumber))
	}
	if h.Last < h.First || h.Last > MaxNumber {
		return hdrErr("last", fmt.Sprintf("%d, below first %d or above %d", h.Last, h.First, MaxNumber))
	}
	if h.Count > 1 && uint64(h.Last-h.First) < h.Count-1 {
		return hdrErr("count", fmt.Sprintf("%d strictly ascending numbers cannot fit in %d..%d", h.Count, h.First, h.Last))
	}
	return nil
}

// FileSize is the total file size the header implies.
func (h *Header) FileSize() uint64 { return HeaderSize + h.BodySize }

// FormatError reports a shard that breaks the format. Index is the record
// index (0-based) for record-level errors, or -1 for header and table errors.
type FormatError struct {
	Field  string // what is wrong: "magic", "order", "checksum", …
	Index  int64  // record index, or -1
	Number int64  // the offending number, when there is one
	Msg    string
}

func hdrErr(field, msg string) *FormatError {
	return &FormatError{Field: field, Index: -1, Msg: msg}
}

func (e *FormatError) Error() string {
	if e.Index >= 0 {
		return fmt.Sprintf("record %d (number %d): %s: %s", e.Index, e.Number, e.Field, e.Msg)
	}
	return e.Field + ": " + e.Msg
}
