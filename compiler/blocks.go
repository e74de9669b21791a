package compiler

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"sync"
	"sync/atomic"

	"github.com/calldir/calldir/compiler/sortx"
	"github.com/calldir/calldir/e164"
	"github.com/calldir/calldir/shard"
)

// The block pipeline reads every source and allowlist (text, CSV, TSV)
// with as little sequential work as possible:
//
//	reader: read 1 MiB blocks cut at a line end (hashing the raw bytes);
//	        a CSV/TSV source's first records settle its delimiter and
//	        columns before its first block goes out (csvHeader)
//	  ──▶ workers: every line through blockWorker.line (trim, cut fields,
//	      normalize); a blocking build's keys go to the worker's own
//	      buffer, which goes to its part of the buckets 32 Ki keys at a time
//	  ──▶ collector, in block order: line numbers, rejects, patterns,
//	      stats, an identification build's numbers with their labels
//	      (an allowlist's numbers stay with the workers until the end)
//
// Only the reader touches every byte sequentially, and only to copy and
// hash it. A blocking build's numbers need no order (the buckets sort
// them), nor do an allowlist's, so they skip the collector; everything whose order shows (rejects,
// patterns, labels, which are numbered in the order they first appear)
// goes through it, which keeps the output identical to a sequential read.

// blockBytes is the size of a block: big enough that hand-offs cost
// nothing, small enough that 2 × GOMAXPROCS of them in flight are a few
// MiB. A variable so that tests can cut blocks anywhere.
var blockBytes = 1 << 20

// keyBatch is how many keys a worker buffers before it adds them to its
// part of the buckets.
const keyBatch = 32 << 10

// tblock is one block of a source.
type tblock struct {
	seq   int
	buf   []byte // whole lines, each ended by '\n' but maybe the last
	long  bool   // buf is the first MaxLineBytes bytes of one too-long line
	first bool   // buf starts the source (line 1: a byte-order mark is dropped)
	raw   int64  // raw (compressed) bytes read so far, for progress

	// set by the reader for a CSV/TSV source
	mode   csvMode // how its lines are cut
	skipAt int     // the offset in buf of the header line, or -1

	// set by the worker
	lines    int64        // physical lines in buf
	counted  int64        // lines that count (not blank, not a comment, not the header, not filtered out)
	filtered int64        // rows of a ranges source that its filters dropped
	seen     []filterSeen // what the filters' columns held in those rows (filter.go)
	accepted int64        // numbers accepted (keys emitted)
	exts     int64        // of them, with an extension dropped
	reasons  [e164.NumReasons]int64
	rejects  []treject
	patterns []Range // Line relative to the block, until collected

	// an identification build's numbers with their labels, in order
	idents  []tident
	labels  []byte // the labels of idents, one after the other
	fixed   bool   // labels holds the source's fixed label, at fixedAt
	fixedAt [2]int32
}

// tident is an accepted line of an identification build; line is relative
// to the block, the label is labels[l0:l1].
type tident struct {
	num    int64
	line   int64
	l0, l1 int32
}

// treject is a rejected line of a block; line is relative to the block.
type treject struct {
	line   int64
	r0, r1 int32 // the raw line is buf[r0:r1]: made text only if asked for
	why    e164.Reason
}

// reject records a rejected line; raw is a slice of b.buf.
func (b *tblock) reject(ln int64, raw []byte, why e164.Reason) {
	r0 := int32(cap(b.buf) - cap(raw))
	b.reasons[why]++
	b.rejects = append(b.rejects, treject{line: ln, r0: r0, r1: r0 + int32(len(raw)), why: why})
}

var tblockPool = sync.Pool{New: func() any { return &tblock{} }}

func newTBlock() *tblock {
	b := tblockPool.Get().(*tblock)
	if cap(b.buf) != blockBytes+MaxLineBytes {
		b.buf = make([]byte, 0, blockBytes+MaxLineBytes)
	}
	*b = tblock{buf: b.buf[:0], skipAt: -1, rejects: b.rejects[:0], patterns: b.patterns[:0], idents: b.idents[:0], labels: b.labels[:0]}
	return b
}

// readBlocks cuts r into blocks of whole lines and hands them to send, in
// order (it numbers them). A line of MaxLineBytes or more is sent alone,
// truncated, as a long block, and the rest of it is skipped without being
// held. raw counts the raw bytes read, for progress.
func readBlocks(ctx context.Context, r io.Reader, raw *shard.CountingReader, send func(*tblock) error) error {
	seq := 0
	put := func(b *tblock) error {
		b.seq, b.first, b.raw = seq, seq == 0, raw.N
		seq++
		return send(b)
	}
	var carry []byte // the start of a line that the last block did not end
	noEnd := 0       // the bytes at the start of carry that hold no '\n'
	eof := false
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		b := newTBlock()
		b.buf = append(b.buf, carry...)
		var err error
		if !eof {
			eof, err = fillBlock(r, b)
		}
		if err != nil {
			// Send the whole lines read, so that the error names the line
			// where the data ends.
			b.buf = b.buf[:bytes.LastIndexByte(b.buf, '\n')+1]
			if len(b.buf) == 0 {
				tblockPool.Put(b)
			} else if serr := put(b); serr != nil {
				return serr
			}
			return err
		}
		if len(b.buf) == 0 {
			tblockPool.Put(b)
			return nil
		}
		// Only what follows the part of the carry known to hold no line
		// end is searched: a line read in many small blocks is not
		// searched again for each.
		cut := bytes.LastIndexByte(b.buf[noEnd:], '\n') + 1
		if cut > 0 {
			cut += noEnd
		}
		if eof {
			cut = len(b.buf)
		}
		rest := b.buf[cut:]
		b.buf = b.buf[:cut]
		var long *tblock
		if len(rest) < MaxLineBytes {
			carry = append(carry[:0], rest...)
			noEnd = len(carry)
		} else {
			// A line that reaches MaxLineBytes without an end is too long:
			// what comes before it goes first, then the line alone.
			var skipEOF bool
			long, carry, skipEOF, err = cutLong(r, rest, carry)
			noEnd = 0
			eof = eof || skipEOF
		}
		if len(b.buf) == 0 {
			tblockPool.Put(b)
		} else if serr := put(b); serr != nil {
			return serr
		}
		if err != nil { // the long line was not read to its end: it is the error's
			tblockPool.Put(long)
			return err
		}
		if long != nil {
			if err := put(long); err != nil {
				return err
			}
		}
	}
}

// fillBlock reads blockBytes more into b (the carry before them is
// shorter than MaxLineBytes, so there is room), or up to the end of r,
// which it reports.
func fillBlock(r io.Reader, b *tblock) (eof bool, err error) {
	for want := len(b.buf) + blockBytes; len(b.buf) < want; {
		n, err := r.Read(b.buf[len(b.buf) : blockBytes+MaxLineBytes])
		b.buf = b.buf[:len(b.buf)+n]
		if err == io.EOF {
			return true, nil
		}
		if err != nil {
			return false, err
		}
	}
	return false, nil
}

// cutLong makes the block of a line that reaches MaxLineBytes without an
// end (rest is its start): its first MaxLineBytes bytes. The rest of the
// line is read from r and dropped (skipLine), and what follows it is
// returned in a carry, with whether r is at its end.
func cutLong(r io.Reader, rest, carry []byte) (long *tblock, _ []byte, eof bool, err error) {
	long = newTBlock()
	long.long = true
	long.buf = append(long.buf, rest[:MaxLineBytes]...)
	carry, eof, err = skipLine(r, rest[MaxLineBytes:], carry)
	return long, carry, eof, err
}

// skipLine discards the rest of a too-long line: first from seen (bytes
// already read), then from r. It returns what follows the line's end in a
// carry (appended to carry[:0]) and whether r is at its end.
func skipLine(r io.Reader, seen, carry []byte) ([]byte, bool, error) {
	if i := bytes.IndexByte(seen, '\n'); i >= 0 {
		return append(carry[:0], seen[i+1:]...), false, nil
	}
	var buf [32 << 10]byte
	for {
		n, err := r.Read(buf[:])
		if i := bytes.IndexByte(buf[:n], '\n'); i >= 0 {
			return append(carry[:0], buf[i+1:n]...), err == io.EOF, nil
		}
		if err == io.EOF {
			return carry[:0], true, nil
		}
		if err != nil {
			return carry, false, err
		}
	}
}

// blockWorker normalizes the lines of blocks.
//
// The workers run on different cores and write their fields on every line,
// so each is padded to cache lines of its own: two workers in one line made
// each store of one a miss for the other.
type blockWorker struct {
	_    [64]byte
	c    *compilation
	norm e164.Normalizer // a copy per worker, for the same reason
	path string
	role string
	src  int
	csv  bool   // a CSV/TSV source: its blocks say how to cut the fields
	quo  []byte // an unquoted CSV field
	err  error  // the first failure of flush

	fields    []string     // a ranges source's row, cut (splitFields' scratch)
	rowPassed *atomic.Bool // a ranges source's: set once a row passes its filters

	// set for the reader's worker while it settles a CSV/TSV source: work
	// hands it the records, and records nothing
	header *csvHeader

	// a blocking build's source: the keys go to the worker's own part of
	// the buckets; an allowlist: its numbers go to allow; keyBatch at a
	// time
	part  *sortx.BucketPart
	allow *allowSink
	keys  []int64

	// identify: the numbers go to the collector with their labels, which
	// are the source's fixed label or its label column's
	ident bool
	label []byte // the fixed label, nil when the label column gives it
	lquo  []byte // an unquoted label
	_     [64]byte
}

// allowSink takes the workers' allowlist numbers (in no order) into nums.
type allowSink struct {
	mu   sync.Mutex
	nums *[]int64
}

// csvMode is how the workers cut the lines of a CSV/TSV source, as its
// first records settled it (csvHeader).
type csvMode struct {
	delim    byte
	col      int
	labelCol int        // identify without a fixed label; -1 for no label column
	rng      *rangeMode // a ranges source's columns: its rows are ranges
}

// flush hands the buffered keys to the worker's part of the buckets, or
// an allowlist's numbers to the allowlist.
func (w *blockWorker) flush() error {
	if len(w.keys) == 0 {
		return nil
	}
	if w.part == nil {
		w.allow.mu.Lock()
		*w.allow.nums = append(*w.allow.nums, w.keys...)
		w.allow.mu.Unlock()
		w.keys = w.keys[:0]
		return nil
	}
	err := w.part.AddSlice(w.keys)
	w.keys = w.keys[:0]
	if err != nil {
		return fmt.Errorf("sort: %w", err)
	}
	return nil
}

// work applies the rules of a source's lines to every line of b: a line
// of MaxLineBytes or more is too long; a final CR goes, and a byte-order
// mark on the source's first line; a line blank once trimmed (of Unicode
// white space too), or whose first non-blank is '#', carries nothing. Then
// a CSV/TSV line is cut into its number field and label (csvLine), and a
// text line loses its inline comment and may be a pattern; what is left
// is normalized, or the line is rejected. The reader settling a CSV/TSV
// source runs it too (w.header set): it hands the records to
// csvHeader.record until the source is settled, and records nothing in b.
func (w *blockWorker) work(b *tblock) error {
	if b.long {
		b.lines, b.counted = 1, 1
		b.reject(0, b.buf, e164.ReasonLineTooLong)
		return nil
	}
	buf := b.buf
	var ln int64
	for len(buf) > 0 {
		at := len(b.buf) - len(buf)
		line := buf
		if i := bytes.IndexByte(buf, '\n'); i >= 0 {
			line, buf = buf[:i], buf[i+1:]
		} else {
			buf = nil
		}
		ln++
		if len(line) >= MaxLineBytes { // possible only when it fits a block
			if w.header == nil {
				b.counted++
				b.reject(ln-1, line[:MaxLineBytes], e164.ReasonLineTooLong)
			}
			continue
		}
		if n := len(line); n > 0 && line[n-1] == '\r' {
			line = line[:n-1]
		}
		if ln == 1 && b.first {
			line = bytes.TrimPrefix(line, bom)
		}
		t := trimASCIISpace(line)
		if len(t) > 0 && (t[0] >= 0x80 || t[len(t)-1] >= 0x80) {
			t = bytes.TrimSpace(t) // Unicode spaces
		}
		switch {
		case len(t) == 0 || t[0] == '#':
			continue
		case w.header != nil:
			if w.header.record(b, line, ln, at) {
				return nil // settled, or a column is missing
			}
			continue
		case w.csv:
			w.csvLine(b, line, ln, at)
			continue
		}
		b.counted++
		num := t
		hash, dot := marks(t)
		if hash {
			num = stripComment(t)
		}
		if (hash || dot) && maybePattern(num) || len(num) > 0 && num[len(num)-1] == 'X' {
			why, rng := w.c.pattern(string(num), w.role, w.path, ln-1)
			if rng != nil {
				b.patterns = append(b.patterns, *rng)
				continue
			}
			if why != e164.ReasonNone {
				b.reject(ln-1, line, why)
				continue
			}
		}
		w.number(b, line, num, w.label, ln)
	}
	b.lines = ln
	return w.err
}

// csvLine is work for a line of a CSV/TSV source that is not blank or a
// comment: line ln of b, at offset at. Its header line is skipped; a bad
// quote, a missing column or a bad label is rejected.
func (w *blockWorker) csvLine(b *tblock, line []byte, ln int64, at int) {
	if at == b.skipAt {
		return
	}
	if b.mode.rng != nil {
		w.rangeLine(b, line, ln)
		return
	}
	b.counted++
	num, label, why := settledFields(line, b.mode, w.label, &w.quo, &w.lquo)
	if why != e164.ReasonNone {
		b.reject(ln-1, line, why)
		return
	}
	w.number(b, line, num, label, ln)
}

// bom is the UTF-8 byte-order mark, dropped from a source's first line.
var bom = []byte("\xEF\xBB\xBF")

// number normalizes the number field num of a line and keeps its key (a
// blocking build's source), hands it to the collector with its label (an
// identification build's: the source's fixed label when it has one,
// w.label), or keeps it for the allowlist. Or it rejects the line. A
// failure to hand keys to the buckets is kept in w.err (work returns it),
// and the keys go nowhere after it.
func (w *blockWorker) number(b *tblock, line, num, label []byte, ln int64) {
	res, why := w.norm.NormalizeBytes(num)
	if why != e164.ReasonNone {
		b.reject(ln-1, line, why)
		return
	}
	if res.HadExtension {
		b.exts++
	}
	b.accepted++
	switch {
	case w.part != nil:
		if w.err != nil {
			return
		}
		w.keys = append(w.keys, sourceKey(res.Number, w.src))
		if len(w.keys) == cap(w.keys) {
			w.err = w.flush()
		}
	case w.ident:
		// A line's own label is bounded by the block; the fixed label (up
		// to 64 KiB) is kept once per block, not once per line.
		at := b.fixedAt
		if w.label == nil || !b.fixed {
			at = [2]int32{int32(len(b.labels)), int32(len(b.labels) + len(label))}
			b.labels = append(b.labels, label...)
			b.fixed, b.fixedAt = w.label != nil, at
		}
		b.idents = append(b.idents, tident{num: res.Number, line: ln - 1, l0: at[0], l1: at[1]})
	default:
		w.keys = append(w.keys, res.Number)
		if len(w.keys) == cap(w.keys) {
			w.err = w.flush()
		}
	}
}

// marks reports whether b holds a '#' or a '.', eight bytes at a time: on
// most lines neither a comment nor a pattern needs looking for.
func marks(b []byte) (hash, dot bool) {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	var h, d uint64
	word := func(v uint64) {
		x, y := v^('#'*ones), v^('.'*ones)
		h |= (x - ones) &^ x & highs
		d |= (y - ones) &^ y & highs
	}
	if n := len(b); n >= 8 {
		for i := 0; i+8 < n; i += 8 {
			word(binary.LittleEndian.Uint64(b[i:]))
		}
		word(binary.LittleEndian.Uint64(b[n-8:])) // the last 8, overlapping
		return h != 0, d != 0
	}
	for _, c := range b {
		if c == '#' {
			h = highs
		}
		if c == '.' {
			d = highs
		}
	}
	return h&highs != 0, d&highs != 0
}

// trimASCIISpace trims the ASCII white space that bytes.TrimSpace trims.
func trimASCIISpace(b []byte) []byte {
	i, j := 0, len(b)
	for i < j && asciiSpace[b[i]] {
		i++
	}
	for j > i && asciiSpace[b[j-1]] {
		j--
	}
	return b[i:j]
}

var asciiSpace = [256]bool{'\t': true, '\n': true, '\v': true, '\f': true, '\r': true, ' ': true}
