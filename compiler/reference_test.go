package compiler

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/calldir/calldir/e164"
	"github.com/calldir/calldir/shard"
)

// The reference reader: the sequential line reader that the block pipeline
// replaced, kept to compare with it (compile(ctx, opts, refRead)). It reads
// one line at a time with bufio's ReadSlice, splits every CSV/TSV line into
// all its fields (splitFields) and tests every text line with IsPattern,
// so it shares none of the pipeline's line rules (cleanLine, csvField,
// marks, maybePattern): only the input (openInput), the normalizer and the
// collecting (compilation.accept, addRange, pattern).

// refRead reads one source or allowlist, as compilation.read does.
func refRead(c *compilation, src Source, idx uint32, role string) (shard.InputStats, error) {
	st := shard.InputStats{Path: src.Path, Role: role}
	in, err := openInput(src.Path, src.Format, src.Encoding, c.opts.Stdin)
	if err != nil {
		return c.emptyInput(src, st, err)
	}
	defer in.close()
	st.Format = string(in.format)
	if in.gzip {
		st.Format += "+gzip"
	}
	p := refParser{c: c, src: src, idx: idx, role: role, st: &st, reasons: make([]int64, e164.NumReasons), norm: c.opts.Normalizer}
	if err := p.init(in.format); err != nil {
		return st, &InputError{Path: src.Path, Err: err}
	}
	if src.Normalizer != nil {
		p.norm = src.Normalizer
	}
	lr := &lineReader{br: in.body}
	for {
		line, tooLong, err := lr.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return st, &InputError{Path: src.Path, Line: lr.line + 1, Err: readErr(err, in.gzip)}
		}
		if lr.line&4095 == 0 {
			if err := c.ctx.Err(); err != nil {
				return st, err
			}
			if c.opts.Progress != nil {
				c.opts.Progress(Progress{Source: src.Path, Lines: lr.line, Bytes: in.raw.N, TotalBytes: -1})
			}
		}
		if err := p.take(line, tooLong, lr.line); err != nil {
			return st, err
		}
		if c.err != nil {
			return st, c.err
		}
	}
	if st.Lines == 0 && p.header != nil && !c.opts.AllowEmpty {
		return st, &InputError{Path: src.Path, Err: &EmptyInputError{HeaderOnly: true}}
	}
	return c.finishInput(in, st, p.reasons)
}

// take reads line ln (too long when tooLong) into the source's statistics
// and the compilation.
func (p *refParser) take(line []byte, tooLong bool, ln int64) error {
	c, st := p.c, p.st
	var why e164.Reason
	var number, label []byte
	var rng *Range
	switch {
	case tooLong:
		why = e164.ReasonLineTooLong
	case p.format == FormatText:
		t := bytes.TrimSpace(line)
		if len(t) == 0 || t[0] == '#' {
			return nil
		}
		number, label = stripComment(t), p.fixed()
		why, rng = c.pattern(string(number), p.role, p.src.Path, ln)
	default:
		var skip bool
		var err error
		number, label, skip, why, err = p.parse(line)
		if err != nil {
			return &InputError{Path: p.src.Path, Line: ln, Err: err}
		}
		if skip {
			return nil
		}
	}
	st.Lines++
	if rng != nil {
		st.Accepted++
		c.takePattern(*rng, p.role, p.idx)
		return nil
	}
	if why == e164.ReasonNone {
		var res e164.Result
		if res, why = p.norm.NormalizeBytes(number); why == e164.ReasonNone {
			if res.HadExtension {
				st.Extensions++
			}
			st.Accepted++
			if p.role == "allow" {
				c.allow = append(c.allow, res.Number)
			} else {
				c.accept(res.Number, label, p.idx, ln)
			}
			return nil
		}
	}
	st.Rejected++
	p.reasons[why]++
	if c.opts.OnReject != nil {
		c.opts.OnReject(Reject{Source: p.src.Path, Role: p.role, Line: ln, Raw: rawText(line), Reason: why})
	}
	return nil
}

// refParser turns one line of a source into its number and label fields.
type refParser struct {
	c      *compilation
	src    Source
	idx    uint32
	role   string
	format Format
	delim  byte

	started  bool     // the first record was seen
	header   []string // nil when the file has none
	col      int      // number column, 0-based; -1 until known
	labelCol int      // label column, 0-based; -1 when unused
	colSpec  columnSpec
	lblSpec  columnSpec

	st      *shard.InputStats
	reasons []int64 // rejected lines by reason
	norm    *e164.Normalizer
}

func (p *refParser) identify() bool {
	return p.role == "source" && p.c.opts.Kind == shard.KindIdentify
}

func (p *refParser) init(f Format) error {
	p.format = f
	p.col, p.labelCol = -1, -1
	p.colSpec = parseColumn(p.src.Column)
	p.lblSpec = parseColumn(p.src.LabelColumn)
	if p.identify() && p.src.Label == "" && f == FormatText {
		return &NoLabelError{Text: true}
	}
	if p.identify() && p.src.Label != "" {
		if err := shard.CheckLabel(p.src.Label); err != nil {
			return &FixedLabelError{Err: err}
		}
	}
	if f == FormatTSV {
		p.delim = '\t'
	}
	return nil
}

// fixed is the source's --label, nil when it has none.
func (p *refParser) fixed() []byte {
	if !p.identify() || p.src.Label == "" {
		return nil
	}
	return []byte(p.src.Label)
}

// parse returns the number field and label of a CSV/TSV line, skip for
// lines that carry no entry (blank, comment, header), a reject reason for
// a line that cannot give a number field, or an error that stops the
// source.
func (p *refParser) parse(line []byte) (number, label []byte, skip bool, why e164.Reason, err error) {
	t := bytes.TrimSpace(line)
	if len(t) == 0 || t[0] == '#' {
		return nil, nil, true, 0, nil
	}
	if p.delim == 0 {
		p.delim = sniffDelimiter(line)
	}
	fields, ok := splitFields(line, p.delim, nil)
	if !ok {
		return nil, nil, false, e164.ReasonBadCSV, nil
	}
	if !p.started {
		p.started = true
		if looksLikeHeader(fields) {
			p.header = fields
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
	if label = p.fixed(); label != nil || !p.identify() {
		return number, label, false, 0, nil
	}
	if p.labelCol >= len(fields) {
		return nil, nil, false, e164.ReasonMissingColumn, nil
	}
	l := strings.TrimSpace(fields[p.labelCol])
	if shard.CheckLabel(l) != nil {
		return nil, nil, false, e164.ReasonBadLabel, nil
	}
	return number, []byte(l), false, 0, nil
}

// resolve finds the number and label columns, from the header when there
// is one. A column named on the command line but absent is an error.
func (p *refParser) resolve(header []string) error {
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
		return &NoLabelError{}
	}
	if p.labelCol == p.col {
		return fmt.Errorf("the label column %s is also the number column", p.lblSpec)
	}
	return nil
}

// lineReader returns lines without their terminator, with a 1-based line
// number, stripping a UTF-8 byte-order mark on line 1 and a trailing CR.
// Lines longer than MaxLineBytes (br's size) are truncated and flagged,
// never buffered.
type lineReader struct {
	br   *bufio.Reader
	line int64
	long []byte
}

// next returns the next line, whether it was too long (then the returned
// bytes are its first MaxLineBytes), and io.EOF at the end. The returned
// slice is valid until the next call.
func (lr *lineReader) next() (line []byte, tooLong bool, err error) {
	line, err = lr.br.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		lr.long = append(lr.long[:0], line...)
		for errors.Is(err, bufio.ErrBufferFull) {
			_, err = lr.br.ReadSlice('\n')
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, false, err
		}
		lr.line++
		return lr.long, true, nil
	}
	if err != nil {
		if !errors.Is(err, io.EOF) || len(line) == 0 {
			return nil, false, err
		}
		err = nil                      // last line without a newline
		if len(line) >= MaxLineBytes { // it filled the buffer as the data ended
			lr.line++
			lr.long = append(lr.long[:0], line...)
			return lr.long, true, nil
		}
	}
	lr.line++
	line = bytes.TrimSuffix(line, []byte{'\n'})
	line = bytes.TrimSuffix(line, []byte{'\r'})
	if lr.line == 1 {
		line = bytes.TrimPrefix(line, []byte("\xEF\xBB\xBF"))
	}
	return line, false, nil
}
