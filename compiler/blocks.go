package compiler

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"

	"github.com/calldir/calldir/compiler/sortx"
	"github.com/calldir/calldir/e164"
	"github.com/calldir/calldir/shard"
)

// The block pipeline reads every source (text, CSV, TSV; not allowlists),
// the bulk of every large compile, with as little sequential work as
// possible (a CSV/TSV source once its first records have settled the
// delimiter and the columns):
//
//	reader: read 1 MiB blocks cut at a line end (hashing the raw bytes)
//	  ──▶ workers: split lines, trim, cut fields, normalize; a blocking
//	      build's keys go to the worker's own buffer, which goes to its
//	      part of the buckets 32 Ki keys at a time
//	  ──▶ collector, in block order: line numbers, rejects, patterns,
//	      stats, and an identification build's numbers with their labels
//
// Only the reader touches every byte sequentially, and only to copy and
// hash it. A blocking build's numbers need no order (the buckets sort
// them), so they skip the collector; everything whose order shows (rejects,
// patterns, labels, which are numbered in the order they first appear)
// goes through it, which keeps the output identical to a sequential read.

// blockBytes is the size of a block: big enough that hand-offs cost
// nothing, small enough that 2 × GOMAXPROCS of them in flight are a few
// MiB. A variable so that tests can cut blocks anywhere.
var blockBytes = 1 << 20

// useBlocks routes sources (text, CSV and TSV) through the block
// pipeline; tests turn it off to compare with the line pipeline, which
// reads allowlists.
var useBlocks = true

const (
	// keyBatch is how many keys a worker buffers before it adds them to
	// its part of the buckets.
	keyBatch = 32 << 10
)

// tblock is one block of a text source.
type tblock struct {
	seq   int
	buf   []byte // whole lines, each ended by '\n' but maybe the last
	long  bool   // buf is the first MaxLineBytes bytes of one too-long line
	first bool   // buf starts the source (line 1: a byte-order mark is dropped)
	raw   int64  // raw (compressed) bytes read so far, for progress

	// set by the worker
	lines    int64 // physical lines in buf
	counted  int64 // lines that count (not blank, not a comment)
	accepted int64 // numbers accepted (keys emitted)
	exts     int64 // of them, with an extension dropped
	reasons  [e164.NumReasons]int64
	rejects  []treject
	patterns []Range // Line relative to the block, until collected

	// identify: the accepted numbers with their labels, in order
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
	b.rejects = append(b.rejects, treject{line: ln, r0: r0, r1: r0 + int32(len(raw)), why: why})
}

var tblockPool = sync.Pool{New: func() any { return &tblock{} }}

func newTBlock(seq int) *tblock {
	b := tblockPool.Get().(*tblock)
	if cap(b.buf) != blockBytes+MaxLineBytes {
		b.buf = make([]byte, 0, blockBytes+MaxLineBytes)
	}
	*b = tblock{seq: seq, buf: b.buf[:0], rejects: b.rejects[:0], patterns: b.patterns[:0], idents: b.idents[:0], labels: b.labels[:0]}
	return b
}

// readBlocks cuts r into blocks of whole lines. A line of MaxLineBytes or
// more is sent alone, truncated, as a long block, and the rest of it is
// skipped without being held.
// atStart is false when r is past the source's first line.
func readBlocks(ctx context.Context, r io.Reader, raw *countingReader, atStart bool, out chan<- *tblock) error {
	seq := 0
	var carry []byte // the start of a line that the last block did not end
	send := func(b *tblock) error {
		b.raw = raw.n
		select {
		case out <- b:
			seq++
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	eof := false
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		b := newTBlock(seq)
		b.first = atStart && seq == 0
		b.buf = append(b.buf, carry...)
		carry = carry[:0]
		// Read blockBytes more (the carry is shorter than MaxLineBytes, so
		// there is room), which always makes progress.
		for want := len(b.buf) + blockBytes; len(b.buf) < want && !eof; {
			n, err := r.Read(b.buf[len(b.buf) : blockBytes+MaxLineBytes])
			b.buf = b.buf[:len(b.buf)+n]
			if err == io.EOF {
				eof = true
			} else if err != nil {
				// Send the whole lines read, so that the error names the
				// line where the data ends.
				b.buf = b.buf[:bytes.LastIndexByte(b.buf, '\n')+1]
				if len(b.buf) > 0 {
					if serr := send(b); serr != nil {
						return serr
					}
				} else {
					tblockPool.Put(b)
				}
				return err
			}
		}
		if len(b.buf) == 0 {
			tblockPool.Put(b)
			return nil
		}
		cut := bytes.LastIndexByte(b.buf, '\n') + 1
		if eof {
			cut = len(b.buf)
		}
		rest := b.buf[cut:]
		b.buf = b.buf[:cut]
		if len(rest) < MaxLineBytes {
			carry = append(carry, rest...)
			if len(b.buf) == 0 {
				tblockPool.Put(b)
				continue
			}
			if err := send(b); err != nil {
				return err
			}
			continue
		}
		// A line that reaches MaxLineBytes without an end is too long:
		// send what comes before it, then its first MaxLineBytes bytes
		// alone; the rest of it is read and dropped.
		long := newTBlock(0)
		long.long = true
		long.buf = append(long.buf, rest[:MaxLineBytes]...)
		var skipEOF bool
		var err error
		carry, skipEOF, err = skipLine(r, rest[MaxLineBytes:], carry)
		eof = eof || skipEOF
		if len(b.buf) > 0 {
			if err := send(b); err != nil {
				return err
			}
		} else {
			tblockPool.Put(b)
		}
		if err != nil { // the long line was not read to its end: it is the error's
			tblockPool.Put(long)
			return err
		}
		long.seq, long.first = seq, atStart && seq == 0
		if err := send(long); err != nil {
			return err
		}
	}
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
// each store of one a miss for the other (a quarter of the compile's time).
type blockWorker struct {
	_    [64]byte
	c    *compilation
	norm e164.Normalizer // a copy per worker, for the same reason
	path string
	role string
	src  int
	keys []int64
	part *sortx.BucketPart // where the keys go: the worker's own
	csv  *csvMode          // nil for a text source
	quo  []byte            // an unquoted CSV field
	err  error             // the first failure of flush

	// identify: the numbers go to the collector with their labels, which
	// are the source's fixed label or its label column's
	ident bool
	label []byte // the fixed label, nil when the label column gives it
	lquo  []byte // an unquoted label
	_     [64]byte
}

// csvMode is how the workers read the lines of a CSV/TSV source once the
// reader's lineParser has settled the delimiter and the number column on
// its first records (a header, the first data line).
type csvMode struct {
	delim    byte
	col      int
	labelCol int // identify without a fixed label
}

// flush hands the buffered keys to the worker's part of the buckets.
func (w *blockWorker) flush() error {
	if len(w.keys) == 0 {
		return nil
	}
	err := w.part.AddSlice(w.keys)
	w.keys = w.keys[:0]
	if err != nil {
		return fmt.Errorf("sort: %w", err)
	}
	return nil
}

// work fills in a block's results.
func (w *blockWorker) work(b *tblock) error {
	if b.long {
		b.lines, b.counted = 1, 1
		b.reasons[e164.ReasonLineTooLong]++
		b.reject(0, b.buf, e164.ReasonLineTooLong)
		return nil
	}
	buf := b.buf
	var ln int64
	for len(buf) > 0 {
		var line []byte
		if i := bytes.IndexByte(buf, '\n'); i >= 0 {
			line, buf = buf[:i], buf[i+1:]
		} else {
			line, buf = buf, nil
		}
		ln++
		if len(line) >= MaxLineBytes { // possible only when it fits a block
			b.counted++
			b.reasons[e164.ReasonLineTooLong]++
			b.reject(ln-1, line[:MaxLineBytes], e164.ReasonLineTooLong)
			continue
		}
		if n := len(line); n > 0 && line[n-1] == '\r' {
			line = line[:n-1]
		}
		if ln == 1 && b.first {
			line = bytes.TrimPrefix(line, []byte("\xEF\xBB\xBF"))
		}
		if w.csv != nil {
			w.csvLine(b, line, ln)
			continue
		}
		t := trimASCIISpace(line)
		if len(t) == 0 || t[0] == '#' {
			continue
		}
		if len(t) > 0 && (t[0] >= 0x80 || t[len(t)-1] >= 0x80) {
			t = bytes.TrimSpace(t) // Unicode spaces, as the line reader trims them
			if len(t) == 0 || t[0] == '#' {
				continue
			}
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
				b.reasons[why]++
				b.reject(ln-1, line, why)
				continue
			}
		}
		w.number(b, line, num, w.label, ln)
	}
	b.lines = ln
	return w.err
}

// csvLine is work for a line of a CSV/TSV source: lineParser.parse's steps
// for a settled parser (a line that is blank once trimmed or starts with
// '#' does not count; a bad quote, a missing column or a bad label is
// rejected).
func (w *blockWorker) csvLine(b *tblock, line []byte, ln int64) {
	if t := bytes.TrimSpace(line); len(t) == 0 || t[0] == '#' {
		return
	}
	b.counted++
	num, label, why := settledFields(line, *w.csv, w.ident, w.label, &w.quo, &w.lquo)
	if why != e164.ReasonNone {
		b.reasons[why]++
		b.reject(ln-1, line, why)
		return
	}
	w.number(b, line, num, label, ln)
}

// number normalizes the number field num of a line and keeps its key, or
// for an identification build the number with its label, which is the
// source's fixed label when it has one (w.label); or it rejects the line.
// A failure to hand keys to the buckets is kept in w.err (work returns
// it), and the keys go nowhere after it.
func (w *blockWorker) number(b *tblock, line, num, label []byte, ln int64) {
	res, why := w.norm.NormalizeBytes(num)
	if why != e164.ReasonNone {
		b.reasons[why]++
		b.reject(ln-1, line, why)
		return
	}
	if res.HadExtension {
		b.exts++
	}
	b.accepted++
	if w.ident {
		// A line's own label is bounded by the block; the fixed label (up
		// to 64 KiB) is kept once per block, not once per line.
		at := b.fixedAt
		if w.label == nil || !b.fixed {
			at = [2]int32{int32(len(b.labels)), int32(len(b.labels) + len(label))}
			b.labels = append(b.labels, label...)
			b.fixed, b.fixedAt = w.label != nil, at
		}
		b.idents = append(b.idents, tident{num: res.Number, line: ln - 1, l0: at[0], l1: at[1]})
		return
	}
	if w.err != nil {
		return
	}
	w.keys = append(w.keys, sourceKey(res.Number, w.src))
	if len(w.keys) == cap(w.keys) {
		w.err = w.flush()
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

// readBlocksOf is read for a source from where its line reader stands,
// base lines in: a text source from its start (csv nil), a CSV/TSV source
// after the records that settled its parser.
func (c *compilation) readBlocksOf(in *input, src Source, idx uint32, role string, norm *e164.Normalizer, csv *csvMode, base int64, st *shard.InputStats, reasons []int64, total int64) error {
	workers := make([]*blockWorker, max(1, runtime.GOMAXPROCS(0)))
	for i := range workers {
		w := &blockWorker{c: c, norm: *norm, path: src.Path, role: role, src: int(idx), csv: csv}
		if c.buckets != nil {
			w.keys, w.part = make([]int64, 0, keyBatch), c.buckets.Part(i%c.buckets.Parts())
		} else {
			w.ident = true
			if src.Label != "" {
				w.label = []byte(src.Label)
			}
		}
		workers[i] = w
	}
	line := base // physical lines before the next block
	lastProgress := base
	prodErr, err := orderedPipeline(c.ctx, func(b *tblock) int { return b.seq },
		func(ctx context.Context, out chan<- *tblock) error {
			return readBlocks(ctx, in.lines.br, in.raw, base == 0, out)
		},
		func(w int, b *tblock) error { return workers[w].work(b) },
		func(w int) error { return workers[w].flush() },
		func(b *tblock) error {
			c.collectBlock(b, line, src.Path, idx, st, reasons)
			line += b.lines
			if c.opts.Progress != nil && line-lastProgress >= 4096 {
				lastProgress = line
				c.opts.Progress(Progress{Source: src.Path, Lines: line, Bytes: b.raw, TotalBytes: total})
			}
			tblockPool.Put(b)
			return nil
		})
	switch {
	case err != nil:
		return err
	case prodErr != nil && !errors.Is(prodErr, context.Canceled):
		// Every whole line before the error was collected: it names the
		// line where the data ends.
		return &InputError{Path: src.Path, Line: line + 1, Err: readErr(prodErr, in.gzip)}
	case c.ctx.Err() != nil:
		return c.ctx.Err()
	}
	return prodErr
}

// collectBlock takes a block's results, in input order; base is the number
// of physical lines before it.
func (c *compilation) collectBlock(b *tblock, base int64, path string, idx uint32, st *shard.InputStats, reasons []int64) {
	st.Lines += b.counted
	st.Accepted += b.accepted + int64(len(b.patterns))
	st.Extensions += b.exts
	for r, k := range b.reasons {
		if k > 0 {
			reasons[r] += k
			st.Rejected += k
		}
	}
	for _, r := range b.patterns {
		r.Line += base + 1
		c.patternLines++
		c.srcPatterns[idx]++
		c.addRange(r)
	}
	if c.opts.OnReject != nil {
		for _, r := range b.rejects {
			c.opts.OnReject(Reject{Source: path, Line: base + r.line + 1, Raw: rawText(b.buf[r.r0:r.r1]), Reason: r.why})
		}
	}
	for _, t := range b.idents {
		c.accept(t.num, b.labels[t.l0:t.l1], idx, base+t.line+1)
	}
}
