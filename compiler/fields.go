package compiler

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"

	"github.com/calldir/calldir/e164"
)

// splitFields splits one CSV/TSV line (RFC 4180 quoting, fields do not span
// lines). It returns ok=false for an unterminated quote. dst is reused.
func splitFields(line []byte, delim byte, dst []string) ([]string, bool) {
	dst = dst[:0]
	for {
		if len(line) > 0 && line[0] == '"' {
			var b strings.Builder
			i := 1
			for {
				j := bytes.IndexByte(line[i:], '"')
				if j < 0 {
					return dst, false
				}
				b.Write(line[i : i+j])
				i += j + 1
				if i < len(line) && line[i] == '"' { // escaped quote
					b.WriteByte('"')
					i++
					continue
				}
				break
			}
			// Anything between the closing quote and the delimiter is kept,
			// as encoding/csv's LazyQuotes would.
			k := bytes.IndexByte(line[i:], delim)
			if k < 0 {
				b.Write(line[i:])
				return append(dst, b.String()), true
			}
			b.Write(line[i : i+k])
			dst = append(dst, b.String())
			line = line[i+k+1:]
			continue
		}
		k := bytes.IndexByte(line, delim)
		if k < 0 {
			return append(dst, string(line)), true
		}
		dst = append(dst, string(line[:k]))
		line = line[k+1:]
	}
}

// csvField is splitFields for one column, without allocating: it returns
// field col of line (a quoted field unquoted into *scratch) and ReasonNone,
// ReasonBadCSV when any field of the line has an unterminated quote, or
// ReasonMissingColumn when the line has col fields or fewer, in that
// order. The block workers cut a CSV/TSV source's fields with it once its
// header has settled the delimiter and the columns.
func csvField(line []byte, delim byte, col int, scratch *[]byte) ([]byte, e164.Reason) {
	var field []byte
	found := false
	for i := 0; ; i++ {
		if len(line) > 0 && line[0] == '"' {
			// Only the wanted field is unquoted; the others are checked
			// for their closing quote and skipped.
			keep := i == col
			if keep {
				*scratch = (*scratch)[:0]
			}
			j := 1
			for {
				k := bytes.IndexByte(line[j:], '"')
				if k < 0 {
					return nil, e164.ReasonBadCSV
				}
				if keep {
					*scratch = append(*scratch, line[j:j+k]...)
				}
				j += k + 1
				if j < len(line) && line[j] == '"' { // escaped quote
					if keep {
						*scratch = append(*scratch, '"')
					}
					j++
					continue
				}
				break
			}
			k := bytes.IndexByte(line[j:], delim)
			end := len(line)
			if k >= 0 {
				end = j + k
			}
			if keep {
				*scratch = append(*scratch, line[j:end]...)
				field, found = *scratch, true
			}
			if k < 0 {
				break
			}
			line = line[end+1:]
			continue
		}
		k := bytes.IndexByte(line, delim)
		if i == col {
			field, found = line, true
			if k >= 0 {
				field = line[:k]
			}
		}
		if k < 0 {
			break
		}
		line = line[k+1:]
	}
	if !found {
		return nil, e164.ReasonMissingColumn
	}
	return field, e164.ReasonNone
}

// sniffDelimiter picks the CSV delimiter of a line: the most frequent of
// comma, semicolon and tab outside quotes; comma on a tie or none.
func sniffDelimiter(line []byte) byte {
	counts := map[byte]int{}
	in := false
	for _, c := range line {
		switch {
		case c == '"':
			in = !in
		case !in && (c == ',' || c == ';' || c == '\t'):
			counts[c]++
		}
	}
	best := byte(',')
	for _, c := range []byte{';', '\t'} {
		if counts[c] > counts[best] {
			best = c
		}
	}
	return best
}

func digitCount(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			n++
		}
	}
	return n
}

// looksLikeHeader: a first record in which no field carries three digits is
// a header (no phone number has fewer).
func looksLikeHeader(fields []string) bool {
	for _, f := range fields {
		if digitCount(f) >= 3 {
			return false
		}
	}
	return true
}

var numberColumnNames = []string{"phone", "number", "phone_number", "phonenumber", "phone number", "msisdn", "tel", "telephone", "e164", "caller", "caller_id", "callerid", "mobile", "cell"}
var labelColumnNames = []string{"label", "name", "caller_name", "description", "category", "tag"}

// columnSpec is a --column or --label-column value: a header name or a
// 1-based index.
type columnSpec struct {
	name  string
	index int // 0-based; -1 when given by name or unset
}

func parseColumn(s string) columnSpec {
	s = strings.TrimSpace(s)
	if s == "" {
		return columnSpec{index: -1}
	}
	if n, err := strconv.Atoi(s); err == nil && n >= 1 {
		return columnSpec{index: n - 1}
	}
	return columnSpec{name: s, index: -1}
}

func (c columnSpec) set() bool { return c.name != "" || c.index >= 0 }

func (c columnSpec) String() string {
	if c.name != "" {
		return strconv.Quote(c.name)
	}
	return strconv.Itoa(c.index + 1)
}

// resolve finds the column in a header, by the given name or, when unset,
// by one of the usual names. It returns -1 when not found.
func (c columnSpec) resolve(header []string, usual []string) int {
	if c.index >= 0 {
		return c.index
	}
	find := func(name string) int {
		for i, h := range header {
			if strings.EqualFold(strings.TrimSpace(h), name) {
				return i
			}
		}
		return -1
	}
	if c.name != "" {
		return find(c.name)
	}
	for _, n := range usual {
		if i := find(n); i >= 0 {
			return i
		}
	}
	return -1
}

func headerList(h []string) string {
	q := make([]string, len(h))
	for i, s := range h {
		q[i] = strconv.Quote(strings.TrimSpace(s))
	}
	return strings.Join(q, ", ")
}

func errNoColumn(what string, c columnSpec, header []string) error {
	if header == nil {
		return fmt.Errorf("%s column %s given by name, but the file has no header line", what, c)
	}
	return fmt.Errorf("no %s column %s in the header (columns: %s)", what, c, headerList(header))
}
