package compiler

import (
	"bytes"
	"fmt"

	"github.com/calldir/calldir/e164"
	"github.com/calldir/calldir/shard"
)

// csvHeader settles how the lines of a CSV/TSV source are cut, in the
// reader, before the workers see a line of it: the delimiter (TSV's tab,
// or sniffed on the first line that is not blank, a comment or too long),
// and from the first record (the first such line whose quotes close) the
// number column and, for an identification source without a fixed label,
// the label column. A first record without three digits in a field is a
// header (named columns; the workers skip it); a header that names no
// number column leaves it to the first data record (guessNumberColumn).
// Every line before the record that settles it has a bad quote: with the
// same delimiter, the workers reject it as the settled columns would.
type csvHeader struct {
	path    string
	labels  bool // the label column is wanted
	colSpec columnSpec
	lblSpec columnSpec
	ranges  *RangeColumns // a ranges source's: its rows are ranges (ranges.go)

	mode    csvMode  // col and labelCol -1 until known
	started bool     // the first record was seen
	header  bool     // it was a header
	settled bool     // mode is final
	lines   int64    // physical lines before the block being settled
	fields  []string // splitFields' scratch
	err     error    // a column named but absent (an *InputError)
}

// newCSVHeader is the settling of a source read as f (nil for text). An
// identification source (ident) needs a label column unless it has a
// fixed label.
func newCSVHeader(src Source, f Format, ident bool) *csvHeader {
	if f != FormatCSV && f != FormatTSV && f != FormatRanges {
		return nil
	}
	h := &csvHeader{path: src.name(), labels: ident && src.Label == "",
		colSpec: parseColumn(src.Column), lblSpec: parseColumn(src.LabelColumn), mode: csvMode{col: -1, labelCol: -1}}
	if f == FormatRanges {
		h.ranges, h.labels = &src.Ranges, false
	}
	if f == FormatTSV {
		h.mode.delim = '\t'
	}
	return h
}

// settle reads the lines of a block of the source, until the source is
// settled, through the rules of every line (blockWorker.work, which hands
// the records to record), and tells the block how to cut its lines (and
// where its header line is). An error (a column named but absent) names
// the line.
func (h *csvHeader) settle(b *tblock) error {
	if h == nil {
		return nil
	}
	if !h.settled {
		if b.long {
			h.lines++ // too long: not a record
		} else {
			scan := blockWorker{header: h}
			scan.work(b)
			h.lines += b.lines // when not settled: every line was read
		}
	}
	if h.err != nil {
		return h.err
	}
	b.mode = h.mode
	return nil
}

// record reads line ln of b, at offset at, a line that is not blank or a
// comment before the source is settled: a record, unless its quotes do not
// close. It reports whether the reading stops: the source is settled, or
// h.err says why it cannot be.
func (h *csvHeader) record(b *tblock, line []byte, ln int64, at int) bool {
	if h.mode.delim == 0 {
		h.mode.delim = sniffDelimiter(line)
	}
	fields, ok := splitFields(line, h.mode.delim, h.fields)
	h.fields = fields
	if !ok {
		return false // a bad quote: not a record
	}
	if !h.started {
		h.started = true
		// A register whose columns are named has its header first,
		// whatever it holds ("Tranche_2024").
		if looksLikeHeader(fields) || h.ranges != nil && h.ranges.named() {
			h.header, b.skipAt = true, at
			if err := h.resolve(fields); err != nil {
				return h.fail(err, ln)
			}
			h.settled = h.mode.col >= 0 || h.mode.rng != nil // else the first data record says
			return h.settled
		}
		if err := h.firstData(); err != nil {
			return h.fail(err, ln)
		}
	}
	if h.mode.col < 0 && h.mode.rng == nil { // no header name and no --column: guess from the first data line
		h.mode.col = guessNumberColumn(fields)
	}
	h.settled = true
	return true
}

// fail keeps err, of line ln of the block being settled.
func (h *csvHeader) fail(err error, ln int64) bool {
	h.err = &InputError{Path: h.path, Line: h.lines + ln, Err: err}
	return true
}

// firstData resolves the columns when the first record is data: a column
// named on the command line is an error then.
func (h *csvHeader) firstData() error {
	if h.ranges != nil {
		return h.resolve(nil) // every column an index
	}
	if h.colSpec.name != "" {
		return errNoColumn("number", h.colSpec, nil)
	}
	if h.labels && h.lblSpec.name != "" {
		return errNoColumn("label", h.lblSpec, nil)
	}
	return h.resolve(nil)
}

// settledFields cuts the number field of a CSV/TSV line and its label:
// fixed when not nil (an identification source's --label), else the label
// column's, trimmed, when m has one (an identification source's), else
// none. csvField cuts just those fields, without a string per field or per
// line (quoted ones are unquoted into *numBuf and *lblBuf). The reasons
// come in this order: a bad quote, the number column missing, the label
// column missing, a bad label (what splitFields and shard.CheckLabel would
// give).
func settledFields(line []byte, m csvMode, fixed []byte, numBuf, lblBuf *[]byte) (number, label []byte, why e164.Reason) {
	number, why = csvField(line, m.delim, m.col, numBuf)
	switch {
	case why != e164.ReasonNone:
		return number, nil, why
	case fixed != nil:
		return number, fixed, e164.ReasonNone
	case m.labelCol < 0:
		return number, nil, e164.ReasonNone
	}
	lbl, why := csvField(line, m.delim, m.labelCol, lblBuf)
	if why != e164.ReasonNone {
		return nil, nil, why
	}
	if label = bytes.TrimSpace(lbl); !shard.LabelOK(label) {
		return nil, nil, e164.ReasonBadLabel
	}
	return number, label, e164.ReasonNone
}

// resolve finds the number and label columns, from the header when there
// is one. A column named on the command line but absent is an error.
func (h *csvHeader) resolve(header []string) error {
	m := &h.mode
	if h.ranges != nil {
		rng, err := h.ranges.resolve(header)
		m.rng = rng
		return err
	}
	if header != nil {
		m.col = h.colSpec.resolve(header, numberColumnNames)
		if m.col < 0 && h.colSpec.set() {
			return errNoColumn("number", h.colSpec, header)
		}
	} else if h.colSpec.index >= 0 {
		m.col = h.colSpec.index
	}
	if !h.labels {
		return nil
	}
	if header != nil {
		m.labelCol = h.lblSpec.resolve(header, labelColumnNames)
	} else {
		m.labelCol = h.lblSpec.index
	}
	if m.labelCol < 0 {
		if h.lblSpec.set() {
			return errNoColumn("label", h.lblSpec, header)
		}
		return &NoLabelError{}
	}
	if m.labelCol == m.col {
		return fmt.Errorf("the label column %s is also the number column", h.lblSpec)
	}
	return nil
}

// guessNumberColumn picks the first field with at least five digits.
func guessNumberColumn(fields []string) int {
	for i, f := range fields {
		if digitCount(f) >= 5 {
			return i
		}
	}
	return 0
}

// stripComment removes an inline comment: a '#' preceded by white space and
// followed by white space or the end of the line. A '#' inside a number
// pattern such as "+33 162 ######" is not a comment.
func stripComment(t []byte) []byte {
	first := bytes.IndexByte(t, '#')
	if first < 0 {
		return t
	}
	for i := max(first, 1); i < len(t); i++ {
		if t[i] == '#' && (t[i-1] == ' ' || t[i-1] == '\t') && (i+1 == len(t) || t[i+1] == ' ' || t[i+1] == '\t') {
			return bytes.TrimSpace(t[:i])
		}
	}
	return t
}
