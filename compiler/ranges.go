package compiler

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/calldir/calldir/e164"
	"github.com/calldir/calldir/shard"
)

// Regulators publish registers of number ranges, not numbers: ARCEP's
// MAJNUM (start and end columns, national numbers with the trunk 0),
// Ofcom's S-files (a block prefix such as "7000 0", without the 0),
// NANPA's and CNAC's NPA-NXX codes (the first 6 of 10 digits). A source of
// format ranges is such a table, cut like a CSV/TSV list (the delimiter
// sniffed, quotes, a header line), whose rows are ranges: each row that
// passes the filters becomes a Range, fed to the same lazy merge as the
// patterns of a list (compilation.addRange), so a register of 500 million
// numbers is never expanded into the sort, and the allowlist applies
// inside its ranges. A row that cannot be a range of the source's region
// is rejected like any other line, with its file and line.

// RangeColumns says where a ranges source's rows give their ranges: a
// start and an end column, or a prefix column (several joined by '+',
// "NPA+NXX", are read as one prefix), each a header name or a 1-based
// index.
type RangeColumns struct {
	Start, End string
	Prefix     string
	// Length is the length, in digits as the register writes them, of
	// the numbers a prefix covers; 0 takes it from the numbering plan of
	// the source's region (e164.Normalizer.PrefixLengths). A prefix as
	// long as its numbers is one number (Ofcom's "800 1111").
	Length int
	// LengthColumn, when set, is the column (name or index) that gives
	// each row's length, for registers that mix lengths (Ofcom's S8 holds
	// 7-, 9- and 10-digit blocks): "10", "10 digits" or "(0)+10". A row
	// whose field is empty takes Length (or the plan's).
	LengthColumn string
	Where        []Filter // a row is read only if it passes every filter
}

// maxRangeLength bounds Length: a national number with its trunk prefix
// has at most the E.164 maximum of digits.
const maxRangeLength = e164.MaxDigits

// RangeColumnsError is a ranges source whose columns give no range:
// neither a start and an end nor a prefix, both, only one end, a bad
// Length, or a length for start and end columns (whose numbers are
// whole). The CLI words the options that set them.
type RangeColumnsError struct {
	Start, End, Prefix bool // which are set
	Length             int  // when it is the problem
	LengthWithEnds     bool // a Length or LengthColumn with start and end columns
}

func (e *RangeColumnsError) Error() string {
	switch {
	case e.Length != 0:
		return fmt.Sprintf("a prefix's numbers of %d digits: want 1 to %d", e.Length, maxRangeLength)
	case e.LengthWithEnds:
		return "a length is that of a prefix's numbers: a register's start and end columns give their numbers whole"
	case e.Prefix && (e.Start || e.End):
		return "a register's rows give a start and an end column, or a prefix column, not both"
	case e.Start != e.End:
		return "a register's rows need both a start and an end column"
	}
	return "a register needs its range columns: a start and an end column, or a prefix column"
}

// check refuses columns that give no range.
func (rc RangeColumns) check() error {
	e := &RangeColumnsError{Start: rc.Start != "", End: rc.End != "", Prefix: rc.Prefix != ""}
	switch {
	case e.Start && e.End && !e.Prefix && (rc.Length != 0 || rc.LengthColumn != ""):
		e.LengthWithEnds = true
		return e
	case e.Start && e.End && !e.Prefix || e.Prefix && !e.Start && !e.End:
		if rc.Length < 0 || rc.Length > maxRangeLength {
			e.Length = rc.Length
			return e
		}
		return nil
	}
	return e
}

// named reports whether a column is given by name: the first record is
// then the header, whatever it holds.
func (rc RangeColumns) named() bool {
	specs := []string{rc.Start, rc.End, rc.LengthColumn}
	specs = append(specs, strings.Split(rc.Prefix, "+")...)
	for _, f := range rc.Where {
		specs = append(specs, f.Column)
	}
	for _, s := range specs {
		if parseColumn(s).name != "" {
			return true
		}
	}
	return false
}

// rangeMode is RangeColumns resolved against the header: how the workers
// read a row.
type rangeMode struct {
	start, end int   // -1 with a prefix
	prefix     []int // joined
	length     int
	lengthCol  int // the column of each row's length, or -1
	where      []whereCol
}

type whereCol struct {
	col    int
	values []string
}

// resolve finds the columns in header (nil: the file has none, and every
// column must be an index).
func (rc RangeColumns) resolve(header []string) (*rangeMode, error) {
	m := &rangeMode{start: -1, end: -1, length: rc.Length, lengthCol: -1}
	find := func(what, spec string) (int, error) {
		c := parseColumn(spec)
		i := c.index
		if header != nil {
			i = c.resolve(header, nil)
		}
		if i < 0 {
			return -1, errNoColumn(what, c, header)
		}
		return i, nil
	}
	var err error
	if rc.Prefix == "" {
		if m.start, err = find("range start", rc.Start); err != nil {
			return nil, err
		}
		if m.end, err = find("range end", rc.End); err != nil {
			return nil, err
		}
	} else if m.prefix, err = rc.prefixColumns(header, find); err != nil {
		return nil, err
	}
	if rc.LengthColumn != "" {
		if m.lengthCol, err = find("length", rc.LengthColumn); err != nil {
			return nil, err
		}
	}
	for _, f := range rc.Where {
		i, err := find("filter", f.Column)
		if err != nil {
			return nil, err
		}
		m.where = append(m.where, whereCol{col: i, values: f.Values})
	}
	return m, nil
}

// prefixColumns finds the prefix column, or the columns it joins: a
// header name holding '+' is taken whole when the header has it.
func (rc RangeColumns) prefixColumns(header []string, find func(what, spec string) (int, error)) ([]int, error) {
	if header != nil && parseColumn(rc.Prefix).resolve(header, nil) >= 0 {
		i, err := find("prefix", rc.Prefix)
		return []int{i}, err
	}
	var cols []int
	for _, part := range strings.Split(rc.Prefix, "+") {
		i, err := find("prefix", part)
		if err != nil {
			return nil, err
		}
		cols = append(cols, i)
	}
	return cols, nil
}

// row reads the fields of one row: keep is false when a filter drops it;
// else the range, or why the row is rejected. A start and an end are read
// as national numbers of norm's region (with or without the trunk
// prefix); so are a prefix's first and last numbers of m.length digits
// (the row's own, from the length column, else m.length) or, without one,
// of the one length the numbering plan gives them. Both ends must be
// accepted by norm (its policy), and their E.164 numbers must be as far
// apart as the national ones: a range is contiguous. It is filter, then
// rangeOf; the workers call the two themselves (rangeLine), to know
// whether a rejected row passed the filters.
func (m *rangeMode) row(fields []string, norm *e164.Normalizer) (r Range, keep bool, why e164.Reason) {
	switch m.filter(fields) {
	case rowDropped:
		return r, false, e164.ReasonNone
	case rowShort:
		return r, true, e164.ReasonMissingColumn
	}
	r, why = m.rangeOf(fields, norm)
	return r, true, why
}

// What the filters make of a row.
const (
	rowPasses  = iota
	rowDropped // a filter does not hold
	rowShort   // a filter's column is missing: rejected as missing-column
)

// filter applies the filters to a row.
func (m *rangeMode) filter(fields []string) int {
	for _, w := range m.where {
		if w.col >= len(fields) {
			return rowShort
		}
		if !matchAny(fields[w.col], w.values) {
			return rowDropped
		}
	}
	return rowPasses
}

// rangeOf reads the range of a row that passes the filters.
func (m *rangeMode) rangeOf(fields []string, norm *e164.Normalizer) (r Range, why e164.Reason) {
	var first, last string
	if m.prefix == nil {
		if m.start >= len(fields) || m.end >= len(fields) {
			return r, e164.ReasonMissingColumn
		}
		r.Text = strings.TrimSpace(fields[m.start]) + ".." + strings.TrimSpace(fields[m.end])
		first, last, why = startEnd(fields[m.start], fields[m.end])
	} else {
		var text []string
		var p strings.Builder
		for _, c := range m.prefix {
			if c >= len(fields) {
				return r, e164.ReasonMissingColumn
			}
			t := strings.TrimSpace(fields[c])
			text = append(text, t)
			p.WriteString(t)
		}
		r.Text = strings.Join(text, " ")
		n := m.length
		if m.lengthCol >= 0 {
			if m.lengthCol >= len(fields) {
				return r, e164.ReasonMissingColumn
			}
			if n, why = rowLength(fields[m.lengthCol], n); why != e164.ReasonNone {
				return r, why
			}
		}
		first, last, why = prefixEnds(p.String(), n, norm)
	}
	if why != e164.ReasonNone {
		return r, why
	}
	r.Lo, r.Hi, why = e164Ends(first, last, norm)
	return r, why
}

// startEnd reads a start and an end column: digits of the same length,
// the end not below the start.
func startEnd(start, end string) (first, last string, why e164.Reason) {
	a, okA := nationalDigits(start)
	b, okB := nationalDigits(end)
	switch {
	case !okA || !okB:
		return "", "", e164.ReasonBadRange
	case len(a) != len(b):
		return "", "", e164.ReasonRangeLengths
	case a > b: // same length: the text order is the numeric order
		return "", "", e164.ReasonRangeReversed
	}
	return a, b, e164.ReasonNone
}

// prefixEnds gives the first and last numbers a prefix covers, numbers
// of n digits (0: the one length the plan gives). A prefix of n digits is
// one number.
func prefixEnds(prefix string, n int, norm *e164.Normalizer) (first, last string, why e164.Reason) {
	p, ok := nationalDigits(prefix)
	if !ok {
		return "", "", e164.ReasonBadRange
	}
	if n == 0 {
		ls := norm.PrefixLengths(p)
		if len(ls) != 1 {
			return "", "", e164.ReasonPrefixLength
		}
		n = ls[0]
	}
	if len(p) > n {
		return "", "", e164.ReasonRangeLengths // longer than its numbers
	}
	return p + strings.Repeat("0", n-len(p)), p + strings.Repeat("9", n-len(p)), e164.ReasonNone
}

// rowLength reads a row's length field: digits, optionally followed by
// words ("10 digits", "7 digit numbers") or preceded by Ofcom's "(0)+"
// (10 digits after the trunk 0, as the register writes its prefixes). An
// empty field takes def; anything else, or a length past 1 to 15, is no
// length (prefix-length).
func rowLength(field string, def int) (int, e164.Reason) {
	s := strings.TrimSpace(field)
	if s == "" {
		return def, e164.ReasonNone
	}
	if rest, ok := strings.CutPrefix(strings.ReplaceAll(s, " ", ""), "(0)+"); ok {
		s = rest
	}
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	n, err := strconv.Atoi(s[:i])
	switch {
	case err != nil || n < 1 || n > maxRangeLength:
		return 0, e164.ReasonPrefixLength
	case strings.ContainsAny(s[i:], "0123456789"):
		return 0, e164.ReasonPrefixLength // "10 or 11"
	}
	return n, e164.ReasonNone
}

// e164Ends normalizes a range's national ends. The national numbers are
// digits of one length, so their distance is exact; the E.164 ends must
// keep it (one country, one length) for the range to be the same numbers.
func e164Ends(first, last string, norm *e164.Normalizer) (lo, hi int64, why e164.Reason) {
	a, why := norm.Normalize(first)
	if why != e164.ReasonNone {
		return 0, 0, why
	}
	b, why := norm.Normalize(last)
	if why != e164.ReasonNone {
		return 0, 0, why
	}
	x, _ := strconv.ParseInt(first, 10, 64) // ≤ 15 digits: fits
	y, _ := strconv.ParseInt(last, 10, 64)
	if b.Number-a.Number != y-x || e164.CountryCode(a.Number) != e164.CountryCode(b.Number) || b.Number > shard.MaxNumber {
		return 0, 0, e164.ReasonRangeLengths
	}
	return a.Number, b.Number, e164.ReasonNone
}

// nationalDigits keeps the digits of a register's number or prefix,
// written with spaces, dashes or dots between them ("7000 0", "415-555");
// anything else, no digit, or more digits than a national number has, is
// not one.
func nationalDigits(s string) (string, bool) {
	var b strings.Builder
	for _, c := range strings.TrimSpace(s) {
		switch {
		case c >= '0' && c <= '9':
			b.WriteRune(c)
		case c == ' ' || c == '-' || c == '.' || c == '\u00a0':
		default:
			return "", false
		}
	}
	return b.String(), b.Len() > 0 && b.Len() <= maxRangeLength
}

func matchAny(field string, values []string) bool {
	field = strings.TrimSpace(field)
	for _, v := range values {
		if strings.EqualFold(field, v) {
			return true
		}
	}
	return false
}

// rangeLine is work for a row of a ranges source that is not blank, a
// comment or the header: line ln of b. A row the filters drop is not a
// line that counts; any other is a range or a reject.
func (w *blockWorker) rangeLine(b *tblock, line []byte, ln int64) {
	fields, ok := splitFields(line, b.mode.delim, w.fields)
	w.fields = fields
	if !ok {
		b.counted++
		b.reject(ln-1, line, e164.ReasonBadCSV)
		return
	}
	m := b.mode.rng
	switch m.filter(fields) {
	case rowDropped:
		b.filtered++
		// What the filters' columns hold, for the message if no row of
		// the source passes them (then every row comes here); once one
		// has, nobody will ask.
		if !w.rowPassed.Load() {
			m.tally(&b.seen, fields)
		}
		return
	case rowShort:
		b.counted++
		b.reject(ln-1, line, e164.ReasonMissingColumn)
		return
	}
	if !w.rowPassed.Load() {
		w.rowPassed.Store(true)
	}
	b.counted++
	r, why := m.rangeOf(fields, &w.norm)
	if why != e164.ReasonNone {
		b.reject(ln-1, line, why)
		return
	}
	r.Source, r.Line = w.path, ln-1
	b.patterns = append(b.patterns, r)
}

// checkRegister refuses, before a line is read, a ranges source that
// cannot be one: its ranges are blocked whole, so it cannot be an
// allowlist (whose numbers are held one by one) or feed an identification
// build (whose numbers carry labels); and its columns must give a range.
func (c *compilation) checkRegister(src Source, f Format, role string) error {
	switch {
	case f != FormatRanges:
		return nil
	case role != "source":
		return errors.New("a register of ranges cannot be an allowlist: its ranges are blocked whole")
	case c.opts.Kind != shard.KindBlock:
		return errors.New("a register of ranges blocks whole ranges: an identification build takes numbers with labels")
	}
	return src.Ranges.check()
}
