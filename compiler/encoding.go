package compiler

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// Encoding is the character encoding of an input's text. Numbers are
// ASCII in every encoding here; the encoding matters for what else a line
// holds: the header names and filter values of a register (ARCEP's
// registers are Latin-1, with accented operator names), and labels.
type Encoding string

const (
	// EncodingDefault is UTF-8, checked only for a ranges source, whose
	// header and filter values are compared as text: a text or CSV list
	// with a stray byte in a comment is read as it always was.
	EncodingDefault     Encoding = ""
	EncodingUTF8        Encoding = "utf-8"        // checked: a byte sequence that is not UTF-8 stops the read
	EncodingLatin1      Encoding = "latin1"       // ISO 8859-1: every byte is the code point of its value
	EncodingWindows1252 Encoding = "windows-1252" // Latin-1 with printable characters at 0x80-0x9F
)

// ParseEncoding reads utf-8, latin1 or windows-1252 (and the usual other
// names of each: utf8, iso-8859-1, latin-1, cp1252).
func ParseEncoding(s string) (Encoding, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "":
		return EncodingDefault, nil
	case "utf-8", "utf8":
		return EncodingUTF8, nil
	case "latin1", "latin-1", "iso-8859-1", "iso8859-1":
		return EncodingLatin1, nil
	case "windows-1252", "cp1252", "win1252":
		return EncodingWindows1252, nil
	}
	return "", fmt.Errorf("unknown encoding %q (want utf-8, latin1 or windows-1252)", s)
}

// checked reports whether an input of format f in encoding e must be valid
// UTF-8 (NotUTF8Error otherwise).
func (e Encoding) checked(f Format) bool {
	return e == EncodingUTF8 || e == EncodingDefault && f == FormatRanges
}

// decoder returns r decoded to UTF-8 (r itself for UTF-8).
func (e Encoding) decoder(r io.Reader) io.Reader {
	switch e {
	case EncodingLatin1:
		return &singleByteDecoder{r: r}
	case EncodingWindows1252:
		return &singleByteDecoder{r: r, high: &windows1252}
	}
	return r
}

// NotUTF8Error is a line of an input read as UTF-8 that is not: Column is
// the 1-based byte of the line where the first bad sequence starts, Byte
// its first byte. It comes inside an *InputError, which names the file and
// line. A Latin-1 file is the usual cause; the CLI says how to read one.
type NotUTF8Error struct {
	Column int
	Byte   byte
}

func (e *NotUTF8Error) Error() string {
	return fmt.Sprintf("not valid UTF-8 (byte 0x%02X at column %d)", e.Byte, e.Column)
}

// utf8Check finds the first sequence of buf that is not UTF-8. lines is the
// count of lines before buf; it returns the error with the line and column
// of the bad sequence, or nil.
func utf8Check(buf []byte, lines int64) (line int64, err *NotUTF8Error) {
	if utf8.Valid(buf) {
		return 0, nil
	}
	for i := 0; i < len(buf); {
		if buf[i] < utf8.RuneSelf {
			i++
			continue
		}
		r, size := utf8.DecodeRune(buf[i:])
		if r == utf8.RuneError && size <= 1 {
			start := bytes.LastIndexByte(buf[:i], '\n') + 1
			return lines + int64(bytes.Count(buf[:i], []byte{'\n'})) + 1, &NotUTF8Error{Column: i - start + 1, Byte: buf[i]}
		}
		i += size
	}
	return 0, nil
}

// singleByteDecoder decodes a single-byte encoding to UTF-8: bytes below
// 0x80 are ASCII, 0xA0-0xFF are U+00A0-U+00FF, and 0x80-0x9F are high's
// characters (nil: U+0080-U+009F, as Latin-1 has them).
type singleByteDecoder struct {
	r    io.Reader
	high *[32]rune
	in   [16 << 10]byte
	out  []byte // decoded and not yet returned
	err  error
}

func (d *singleByteDecoder) Read(p []byte) (int, error) {
	for len(d.out) == 0 {
		if d.err != nil {
			return 0, d.err
		}
		n, err := d.r.Read(d.in[:])
		d.err = err
		d.out = d.decode(d.in[:n], d.out[:0])
	}
	n := copy(p, d.out)
	d.out = d.out[n:]
	return n, nil
}

// decode appends the UTF-8 of src to dst: at most 3 bytes a byte.
func (d *singleByteDecoder) decode(src, dst []byte) []byte {
	for _, c := range src {
		switch {
		case c < utf8.RuneSelf:
			dst = append(dst, c)
		case c < 0xA0 && d.high != nil:
			dst = utf8.AppendRune(dst, d.high[c-0x80])
		default:
			dst = utf8.AppendRune(dst, rune(c))
		}
	}
	return dst
}

// windows1252 is 0x80-0x9F of Windows-1252. Its five unassigned bytes
// (0x81, 0x8D, 0x8F, 0x90, 0x9D) keep their Latin-1 meaning, as WHATWG's
// decoder does.
var windows1252 = [32]rune{
	'€', 0x81, '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', 0x8D, 'Ž', 0x8F,
	0x90, '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', 0x9D, 'ž', 'Ÿ',
}
