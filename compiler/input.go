package compiler

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/calldir/calldir/shard"
)

// Format is how an input's lines are laid out.
type Format string

const (
	FormatAuto Format = "auto" // by file name (.csv, .tsv, optionally .gz), else text
	FormatText Format = "text" // one number per line, '#' comments
	FormatCSV  Format = "csv"  // comma- or semicolon-separated, header detected
	FormatTSV  Format = "tsv"  // tab-separated, header detected
	// FormatRanges is a register of number ranges (ranges.go): a CSV/TSV
	// table whose rows give a start and an end, or a prefix. Never
	// detected: it is asked for.
	FormatRanges Format = "ranges"
)

// ParseFormat parses auto, text, csv, tsv or ranges.
func ParseFormat(s string) (Format, error) {
	switch f := Format(strings.ToLower(s)); f {
	case FormatAuto, FormatText, FormatCSV, FormatTSV, FormatRanges:
		return f, nil
	case "":
		return FormatAuto, nil
	}
	return "", fmt.Errorf("unknown input format %q (want auto, text, csv, tsv or ranges)", s)
}

// MaxLineBytes is the longest line the reader keeps. A longer line is
// consumed to its end and rejected as line-too-long, so a 10 MB line costs
// no more memory than this.
const MaxLineBytes = 64 << 10

// sniffBytes is how much of the (decompressed) input is inspected for NUL
// bytes to tell text from binary data, as grep and git do.
const sniffBytes = 8000

// InputError is an input that cannot be read at all (as opposed to a line
// that is rejected). Line is 0 when the problem is not tied to a line.
type InputError struct {
	Path string
	Line int64
	Err  error
}

func (e *InputError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %v", e.Path, e.Line, e.Err)
	}
	return fmt.Sprintf("%s: %v", e.Path, e.Err)
}

func (e *InputError) Unwrap() error { return e.Err }

// input is an open source: decompressed, sniffed, hashed as it is read.
type input struct {
	path   string
	format Format
	gzip   bool
	closer io.Closer
	hash   hash.Hash
	raw    *shard.CountingReader
	body   *bufio.Reader // the decompressed input; its buffer holds the sniffed head
}

// openInput opens path ("-" is stdin), detects gzip by content, decodes
// the text from enc to UTF-8 and refuses binary data and UTF-16 with a
// message that says what the file looks like.
func openInput(path string, format Format, enc Encoding, stdin io.Reader) (*input, error) {
	in := &input{path: path, hash: sha256.New()}
	var r io.Reader
	if path == "-" {
		if stdin == nil {
			stdin = os.Stdin
		}
		r = stdin
		in.path = "-"
	} else {
		f, err := os.Open(path)
		if err != nil {
			return nil, &InputError{Path: path, Err: unwrapPathError(err)}
		}
		if st, err := f.Stat(); err == nil && st.IsDir() {
			f.Close()
			return nil, &InputError{Path: path, Err: errors.New("is a directory, not a list file")}
		}
		in.closer = f
		r = f
	}
	in.raw = &shard.CountingReader{R: io.TeeReader(r, in.hash)}
	br := bufio.NewReaderSize(in.raw, 256<<10)
	var body io.Reader = br
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			in.close()
			return nil, &InputError{Path: path, Err: gzipErr(err)}
		}
		in.gzip = true
		body = zr
	}
	// Hide body's type: bufio.NewReaderSize would return body itself if it
	// were a bufio.Reader at least as big (the 256 KiB br above), and a line
	// reader over in.body (the tests' reference reader) would then have a
	// line limit of 256 KiB instead of MaxLineBytes.
	in.body = bufio.NewReaderSize(struct{ io.Reader }{enc.decoder(body)}, MaxLineBytes)
	head, err := in.body.Peek(sniffBytes)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		in.close()
		return nil, &InputError{Path: path, Err: readErr(err, in.gzip)}
	}
	if len(head) == 0 {
		in.close()
		return nil, &InputError{Path: path, Err: &EmptyInputError{}}
	}
	if why := binaryKind(head); why != "" {
		in.close()
		return nil, &InputError{Path: path, Err: errors.New(why)}
	}
	in.format = detectFormat(path, format)
	return in, nil
}

// EmptyInputError is an input with nothing in it: 0 bytes, or (HeaderOnly)
// a CSV/TSV header line and no data line. It comes inside an *InputError,
// which names the file. Loading a build made from nothing empties the
// extension, so the caller must say an empty input is expected
// (Options.AllowEmpty); the CLI words how.
//
// A ranges source none of whose rows passes its filters (Filtered > 0) is
// one too, even when rows were rejected (those that lack a filter's
// column): it says what each filter's column held.
type EmptyInputError struct {
	HeaderOnly bool
	Filtered   int64 // rows of a ranges source that its filters dropped
	Rejected   int64 // with Filtered: rows rejected, none having passed the filters
	// What each filter saw in the rows it dropped: the values of its
	// column, so that a misspelt value shows (filter.go).
	Filters []FilterValues
}

func (e *EmptyInputError) Error() string {
	if e.Filtered > 0 {
		s := "no data lines that pass the filters"
		if e.HeaderOnly {
			s = "a header line and " + s
		}
		if e.Rejected > 0 {
			s += fmt.Sprintf(" (%d dropped, %d rejected)", e.Filtered, e.Rejected)
		} else {
			s += fmt.Sprintf(" (%d dropped)", e.Filtered)
		}
		if len(e.Filters) > 0 {
			s += ": " + filtersText(e.Filters)
		}
		return s
	}
	if e.HeaderOnly {
		return "a header line and no data lines"
	}
	return "empty input (0 bytes)"
}

// IsEmptyInput reports whether err is an empty-input error.
func IsEmptyInput(err error) bool {
	var e *EmptyInputError
	return errors.As(err, &e)
}

func binaryKind(head []byte) string {
	if bytes.HasPrefix(head, []byte{0xFF, 0xFE}) || bytes.HasPrefix(head, []byte{0xFE, 0xFF}) {
		return "looks like UTF-16 text (byte-order mark " + hex.EncodeToString(head[:2]) + "); save it as UTF-8"
	}
	if i := bytes.IndexByte(head, 0); i >= 0 {
		return fmt.Sprintf("looks like binary data (NUL byte at offset %d), not a text, CSV/TSV or gzip list", i)
	}
	return ""
}

func detectFormat(path string, f Format) Format {
	if f != FormatAuto && f != "" {
		return f
	}
	name := strings.ToLower(strings.TrimSuffix(strings.ToLower(path), ".gz"))
	switch filepath.Ext(name) {
	case ".csv":
		return FormatCSV
	case ".tsv", ".tab":
		return FormatTSV
	}
	return FormatText
}

func (in *input) close() {
	if in.closer != nil {
		in.closer.Close()
	}
}

// finish drains what is left (so the hash covers the whole file) and
// returns the file's SHA-256 and size.
func (in *input) finish() (string, int64, error) {
	if _, err := io.Copy(io.Discard, in.raw); err != nil {
		return "", 0, err
	}
	return hex.EncodeToString(in.hash.Sum(nil)), in.raw.N, nil
}

func readErr(err error, gz bool) error {
	if gz && errors.Is(err, io.ErrUnexpectedEOF) {
		return errors.New("gzip: unexpected end of data (truncated download?)")
	}
	if gz {
		return gzipErr(err)
	}
	return err
}

// gzipErr gives a decompression error its context once: compress/gzip's
// own errors (ErrHeader, ErrChecksum) already begin with "gzip: ", which
// wrapping again made "gzip: gzip: invalid header".
func gzipErr(err error) error {
	if errors.Is(err, gzip.ErrHeader) || errors.Is(err, gzip.ErrChecksum) {
		return err
	}
	return fmt.Errorf("gzip: %w", err)
}

func unwrapPathError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
