package livelookup

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protowire"
)

// MaxRowBytes bounds one row record's body as read back: the longest key
// and the largest identity, with their tags and lengths. A longer length
// prefix is refused before anything is allocated.
var MaxRowBytes = protowire.SizeTag(fieldKeyword) + protowire.SizeBytes(MaxKeyBytes) +
	protowire.SizeTag(fieldValue) + protowire.SizeBytes(MaxIdentityBytes)

// Row is one decoded KeywordDatabase row. Key and Value are valid until
// the next call of Next.
type Row struct {
	Index  int64 // 0-based row number in the file
	Offset int64 // byte offset of the row's record
	Key    []byte
	Value  []byte
}

// DecodeError is a file that is not a KeywordDatabase as calldir writes
// it: at byte Offset, in row Index (-1 when the fault is before any row).
type DecodeError struct {
	Offset int64
	Index  int64
	Msg    string
}

func (e *DecodeError) Error() string {
	if e.Index < 0 {
		return fmt.Sprintf("byte %d: %s", e.Offset, e.Msg)
	}
	return fmt.Sprintf("row %d (byte %d): %s", e.Index, e.Offset, e.Msg)
}

// Reader streams the rows of a binary KeywordDatabase.
type Reader struct {
	br   *bufio.Reader
	off  int64
	n    int64
	body []byte
	err  error
}

// NewReader reads a KeywordDatabase from r.
func NewReader(r io.Reader) *Reader {
	return &Reader{br: bufio.NewReaderSize(r, 256<<10)}
}

// Rows is the number of rows read so far.
func (rd *Reader) Rows() int64 { return rd.n }

// Next returns the next row, or io.EOF at the clean end of the file. A
// damaged file gives a *DecodeError, and Next keeps returning it.
func (rd *Reader) Next() (Row, error) {
	if rd.err != nil {
		return Row{}, rd.err
	}
	row, err := rd.next()
	if err != nil {
		rd.err = err
	}
	return row, err
}

func (rd *Reader) next() (Row, error) {
	start := rd.off
	fail := func(msg string) (Row, error) {
		return Row{}, &DecodeError{Offset: start, Index: rd.n, Msg: msg}
	}
	tag, err := rd.uvarint()
	if errors.Is(err, io.EOF) {
		return Row{}, io.EOF
	}
	if err != nil {
		return fail("record tag: " + err.Error())
	}
	if num, typ := protowire.DecodeTag(tag); num != fieldRows || typ != protowire.BytesType {
		return fail(fmt.Sprintf("field %d of wire type %d, want rows (field 1, length-delimited)", num, typ))
	}
	size, err := rd.uvarint()
	if err != nil {
		return fail("row length: " + noEOF(err).Error())
	}
	if size > uint64(MaxRowBytes) {
		return fail(fmt.Sprintf("row of %d bytes, more than the %d a key and an identity can take", size, MaxRowBytes))
	}
	if cap(rd.body) < int(size) {
		rd.body = make([]byte, size)
	}
	rd.body = rd.body[:size]
	if _, err := io.ReadFull(rd.br, rd.body); err != nil {
		return fail(fmt.Sprintf("row of %d bytes: %v", size, noEOF(err)))
	}
	rd.off += int64(size)
	key, value, msg := splitRow(rd.body)
	if msg != "" {
		return fail(msg)
	}
	row := Row{Index: rd.n, Offset: start, Key: key, Value: value}
	rd.n++
	return row, nil
}

// uvarint reads a varint, counting its bytes.
func (rd *Reader) uvarint() (uint64, error) {
	v, err := binary.ReadUvarint(byteCounter{rd})
	return v, err
}

type byteCounter struct{ rd *Reader }

func (c byteCounter) ReadByte() (byte, error) {
	b, err := c.rd.br.ReadByte()
	if err == nil {
		c.rd.off++
	}
	return b, err
}

// noEOF turns a clean EOF inside a record into an unexpected one.
func noEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return fmt.Errorf("file ends inside the record: %w", io.ErrUnexpectedEOF)
	}
	return err
}

// splitRow decodes a row's body: keyword (1) and value (2), each bytes and
// at most once; anything else is refused, since calldir never writes it.
func splitRow(b []byte) (key, value []byte, msg string) {
	var seen [3]bool
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return nil, nil, "row field tag: " + protowire.ParseError(n).Error()
		}
		b = b[n:]
		if (num != fieldKeyword && num != fieldValue) || typ != protowire.BytesType {
			return nil, nil, fmt.Sprintf("row field %d of wire type %d: a row holds keyword (1) and value (2), both bytes", num, typ)
		}
		v, n := protowire.ConsumeBytes(b)
		if n < 0 {
			return nil, nil, fmt.Sprintf("row field %d: %v", num, protowire.ParseError(n))
		}
		b = b[n:]
		if seen[num] {
			return nil, nil, fmt.Sprintf("row field %d given twice", num)
		}
		seen[num] = true
		if num == fieldKeyword {
			key = v
		} else {
			value = v
		}
	}
	return key, value, ""
}

// DecodeIdentity decodes a serialized CallIdentity, strictly: the four
// known fields with their wire types, each at most once, the name valid
// UTF-8, the category one of the enum's values, the icon HEIC.
func DecodeIdentity(b []byte) (Identity, error) {
	var id Identity
	var seen [5]bool
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return id, fmt.Errorf("identity: field tag: %v", protowire.ParseError(n))
		}
		b = b[n:]
		if num < fieldName || num > fieldCategory {
			return id, fmt.Errorf("identity: unknown field %d", num)
		}
		if seen[num] {
			return id, fmt.Errorf("identity: field %d given twice", num)
		}
		seen[num] = true
		var err error
		if b, err = identityField(&id, num, typ, b); err != nil {
			return id, fmt.Errorf("identity: %w", err)
		}
	}
	return id, nil
}

// identityField decodes one field of a CallIdentity and returns the rest.
func identityField(id *Identity, num protowire.Number, typ protowire.Type, b []byte) ([]byte, error) {
	want := protowire.VarintType
	if num == fieldName || num == fieldIcon {
		want = protowire.BytesType
	}
	if typ != want {
		return nil, fmt.Errorf("field %d has wire type %d, want %d", num, typ, want)
	}
	if want == protowire.BytesType {
		v, n := protowire.ConsumeBytes(b)
		if n < 0 {
			return nil, fmt.Errorf("field %d: %v", num, protowire.ParseError(n))
		}
		if num == fieldName {
			if !utf8.Valid(v) {
				return nil, errors.New("name is not valid UTF-8")
			}
			id.Name = string(v)
		} else {
			img, err := decodeIcon(v)
			if err != nil {
				return nil, err
			}
			id.Icon = img
		}
		return b[n:], nil
	}
	v, n := protowire.ConsumeVarint(b)
	if n < 0 {
		return nil, fmt.Errorf("field %d: %v", num, protowire.ParseError(n))
	}
	if num == fieldExpiry {
		if v > math.MaxUint32 {
			return nil, fmt.Errorf("cache_expiry_minutes %d does not fit uint32", v)
		}
		id.CacheExpiryMinutes = uint32(v)
	} else {
		if v > uint64(CategoryBusiness) {
			return nil, fmt.Errorf("category %d: not a value of IdentityCategory (0, 1, 2)", v)
		}
		id.Category = Category(v)
	}
	return b[n:], nil
}

// decodeIcon decodes an Icon message and returns its image (never nil).
func decodeIcon(b []byte) ([]byte, error) {
	var format uint64
	img := []byte{}
	var seen [3]bool
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return nil, fmt.Errorf("icon: field tag: %v", protowire.ParseError(n))
		}
		b = b[n:]
		switch {
		case num == fieldFormat && typ == protowire.VarintType && !seen[num]:
			format, n = protowire.ConsumeVarint(b)
		case num == fieldImage && typ == protowire.BytesType && !seen[num]:
			img, n = protowire.ConsumeBytes(b)
		default:
			return nil, fmt.Errorf("icon: field %d of wire type %d unexpected or repeated", num, typ)
		}
		if n < 0 {
			return nil, fmt.Errorf("icon: field %d: %v", num, protowire.ParseError(n))
		}
		seen[num] = true
		b = b[n:]
	}
	if format != formatHEIC {
		return nil, fmt.Errorf("icon: image format %d, want HEIC (1)", format)
	}
	return img, nil
}
