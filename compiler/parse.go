package compiler

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	"github.com/calldir/calldir/e164"
	"github.com/calldir/calldir/shard"
)

// lineParser turns one line of a source into its number and label fields.
type lineParser struct {
	c      *compilation
	src    Source
	role   string
	format Format
	delim  byte

	started  bool     // the first record was seen
	header   []string // nil when the file has none
	col      int      // number column, 0-based; -1 until known
	labelCol int      // label column, 0-based; -1 when unused
	colSpec  columnSpec
	lblSpec  columnSpec

	numBuf, lblBuf []byte // csvField's unquoted fields
	fixedBuf       []byte // src.Label
}

func (p *lineParser) identify() bool {
	return p.role == "source" && p.c.opts.Kind == shard.KindIdentify
}

func (p *lineParser) init(f Format) error {
	p.format = f
	p.col, p.labelCol = -1, -1
	p.colSpec = parseColumn(p.src.Column)
	p.lblSpec = parseColumn(p.src.LabelColumn)
	if p.identify() && p.src.Label == "" {
		if f == FormatText {
			return errors.New("a text list has no label column: give --label, or use a CSV/TSV list with a label column")
		}
	}
	if p.identify() && p.src.Label != "" {
		if err := shard.CheckLabel(p.src.Label); err != nil {
			return fmt.Errorf("--label: %v", err)
		}
	}
	switch f {
	case FormatTSV:
		p.delim = '\t'
	case FormatCSV:
		p.delim = 0 // sniffed on the first record
	}
	return nil
}

// parse returns the number field and label of a line, skip for lines that
// carry no entry (blank, comment, header), a reject reason for a line that
// cannot give a number field, or an error that stops the source. The
// fields may be slices of line or of the parser's buffers: valid until the
// next call.
func (p *lineParser) parse(line []byte, ln int64) (number, label []byte, skip bool, why e164.Reason, err error) {
	t := bytes.TrimSpace(line)
	if len(t) == 0 || t[0] == '#' {
		return nil, nil, true, 0, nil
	}
	if p.format == FormatText {
		return stripComment(t), p.fixed(), false, 0, nil
	}
	if p.started && p.col >= 0 {
		return p.parseSettled(line)
	}
	if p.delim == 0 {
		p.delim = sniffDelimiter(line)
	}
	fields, ok := splitFields(line, p.delim, p.c.fields)
	p.c.fields = fields
	if !ok {
		return nil, nil, false, e164.ReasonBadCSV, nil
	}
	if !p.started {
		p.started = true
		if looksLikeHeader(fields) {
			p.header = slicesClone(fields)
			return nil, nil, true, 0, p.resolve(fields)
		}
		if p.colSpec.name != "" {
			return nil, nil, false, 0, errNoColumn("number", p.colSpec, nil)
		}
		if p.identify() && p.src.Label == "" && p.lblSpec.name != "" {
			return nil, nil, false, 0, errNoColumn("label", p.lblSpec, nil)
		}
		if err := p.resolve(nil); err != nil {
			return nil, nil, false, 0, err
		}
	}
	if p.col < 0 { // no header name and no --column: guess from the first data line
		p.col = guessNumberColumn(fields)
	}
	if p.col >= len(fields) {
		return nil, nil, false, e164.ReasonMissingColumn, nil
	}
	number = []byte(fields[p.col])
	if p.identify() {
		label = p.fixed()
		if label == nil {
			if p.labelCol >= len(fields) {
				return nil, nil, false, e164.ReasonMissingColumn, nil
			}
			l := strings.TrimSpace(fields[p.labelCol])
			if shard.CheckLabel(l) != nil {
				return nil, nil, false, e164.ReasonBadLabel, nil
			}
			label = []byte(l)
		}
	}
	return number, label, false, 0, nil
}

// fixed is the source's --label, nil when it has none.
func (p *lineParser) fixed() []byte {
	if p.src.Label == "" {
		return nil
	}
	if p.fixedBuf == nil {
		p.fixedBuf = []byte(p.src.Label)
	}
	return p.fixedBuf
}

// parseSettled is parse once the first record has settled the delimiter
// and the columns.
func (p *lineParser) parseSettled(line []byte) (number, label []byte, skip bool, why e164.Reason, err error) {
	number, label, why = settledFields(line, csvMode{delim: p.delim, col: p.col, labelCol: p.labelCol}, p.identify(), p.fixed(), &p.numBuf, &p.lblBuf)
	return number, label, false, why, nil
}

// settledFields cuts the number field of a CSV/TSV line and, for an
// identification build (ident), its label: fixed when not nil, else the
// label column's, trimmed. It is lineParser.parse for a settled parser, the
// line reader's and the block workers' both: csvField cuts just those
// fields, without a string per field or per line (quoted ones are unquoted
// into *numBuf and *lblBuf). The reasons come in parse's order: a bad
// quote, the number column missing, the label column missing, a bad label.
func settledFields(line []byte, m csvMode, ident bool, fixed []byte, numBuf, lblBuf *[]byte) (number, label []byte, why e164.Reason) {
	number, why = csvField(line, m.delim, m.col, numBuf)
	if why != e164.ReasonNone || !ident {
		return number, nil, why
	}
	if fixed != nil {
		return number, fixed, e164.ReasonNone
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
func (p *lineParser) resolve(header []string) error {
	if header != nil {
		p.col = p.colSpec.resolve(header, numberColumnNames)
		if p.col < 0 && p.colSpec.set() {
			return errNoColumn("number", p.colSpec, header)
		}
	} else if p.colSpec.index >= 0 {
		p.col = p.colSpec.index
	}
	if !p.identify() || p.src.Label != "" {
		return nil
	}
	if header != nil {
		p.labelCol = p.lblSpec.resolve(header, labelColumnNames)
	} else {
		p.labelCol = p.lblSpec.index
	}
	if p.labelCol < 0 {
		if p.lblSpec.set() {
			return errNoColumn("label", p.lblSpec, header)
		}
		return errors.New("no label column found (named label, name, caller_name, description, category or tag): give --label-column or --label")
	}
	if p.labelCol == p.col {
		return fmt.Errorf("the label column %s is also the number column", p.lblSpec)
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

func slicesClone(s []string) []string { return append([]string(nil), s...) }
