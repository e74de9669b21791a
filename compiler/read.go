package compiler

import (
	"bytes"
	"context"
	"errors"
	"os"
	"runtime"
	"strings"
	"sync/atomic"

	"github.com/calldir/calldir/e164"
	"github.com/calldir/calldir/shard"
)

// sourceRead is one source or allowlist going through the block pipeline
// (blocks.go): what its reader, workers and collector share.
type sourceRead struct {
	c      *compilation
	in     *input
	src    Source
	idx    uint32 // the source's index (0 for an allowlist)
	role   string // "source" or "allow"
	ident  bool   // an identification build's source: numbers with labels
	header *csvHeader
	total  int64 // the input's size, or -1 if unknown

	// the reader's, when the input must be UTF-8 (Encoding.checked)
	checkUTF8 bool
	seen      int64 // lines before the block being read

	// the collector's
	st       *shard.InputStats
	reasons  []int64      // rejected lines by reason
	line     int64        // physical lines collected
	filtered int64        // rows of a ranges source its filters dropped
	filters  []filterSeen // what the filters' columns held in those rows
	passed   atomic.Bool  // a row of a ranges source passed its filters
	progress int64        // line of the last progress report
}

// read streams one source (role "source") or allowlist ("allow") through
// the block pipeline: a source's numbers go to the buckets (blocking) or
// to c.accept (identify), an allowlist's to c.allow (in no order) and its
// patterns to c.allowRanges.
func (c *compilation) read(src Source, idx uint32, role string) (shard.InputStats, error) {
	st := shard.InputStats{Path: src.name(), Role: role}
	in, err := openInput(src.Path, src.Format, src.Encoding, c.opts.Stdin)
	var ie *InputError
	if errors.As(err, &ie) && src.Name != "" {
		ie.Path = src.Name
	}
	if err != nil {
		return c.emptyInput(src, st, err)
	}
	in.path = src.name()
	defer in.close()
	st.Format = string(in.format)
	if in.gzip {
		st.Format += "+gzip"
	}
	ident := role == "source" && c.opts.Kind == shard.KindIdentify
	if err := checkLabels(src, in.format, ident); err != nil {
		return st, &InputError{Path: src.name(), Err: err}
	}
	if err := c.checkRegister(src, in.format, role); err != nil {
		return st, &InputError{Path: src.name(), Err: err}
	}
	r := &sourceRead{c: c, in: in, src: src, idx: idx, role: role, ident: ident, total: -1,
		header: newCSVHeader(src, in.format, ident), st: &st, reasons: make([]int64, e164.NumReasons),
		checkUTF8: src.Encoding.checked(in.format)}
	if f, ok := in.closer.(*os.File); ok {
		if fi, err := f.Stat(); err == nil {
			r.total = fi.Size()
		}
	}
	if err := r.run(); err != nil {
		return st, err
	}
	if r.header != nil && r.header.ranges != nil {
		c.guardRanges() // a refusal is c.err
	}
	switch {
	case c.opts.AllowEmpty:
	case r.filtered > 0 && !r.passed.Load():
		// No row passed the filters (those that did not drop were
		// rejected, their filter column missing): a misspelt --where.
		return st, &InputError{Path: src.name(), Err: &EmptyInputError{HeaderOnly: r.header.header, Filtered: r.filtered,
			Rejected: st.Rejected, Filters: filterValues(src.Ranges.Where, r.filters)}}
	case st.Lines == 0 && r.header != nil && r.header.header:
		return st, &InputError{Path: src.name(), Err: &EmptyInputError{HeaderOnly: true}}
	}
	return c.finishInput(in, st, r.reasons)
}

// checkLabels refuses, before a line is read, an identification source
// (ident) that can have no label: a text list without a fixed label, or a
// fixed label CallKit would refuse.
func checkLabels(src Source, f Format, ident bool) error {
	switch {
	case !ident:
		return nil
	case src.Label == "" && f == FormatText:
		return &NoLabelError{Text: true}
	case src.Label != "":
		if err := shard.CheckLabel(src.Label); err != nil {
			return &FixedLabelError{Err: err}
		}
	}
	return nil
}

// NoLabelError is an identification source without labels: a text list
// without a fixed label (Text), or a CSV/TSV list whose header names no
// label column and that has no fixed label. It comes inside an
// *InputError; the CLI words how to give a label.
type NoLabelError struct {
	Text bool
}

func (e *NoLabelError) Error() string {
	if e.Text {
		return "a text list has no label column"
	}
	return "no label column found (named " + strings.Join(labelColumnNames[:len(labelColumnNames)-1], ", ") +
		" or " + labelColumnNames[len(labelColumnNames)-1] + ")"
}

// FixedLabelError is a source's fixed label (Source.Label) that CallKit
// would refuse. It comes inside an *InputError.
type FixedLabelError struct {
	Err error
}

func (e *FixedLabelError) Error() string { return "the label given for every number: " + e.Err.Error() }

func (e *FixedLabelError) Unwrap() error { return e.Err }

// emptyInput is read's answer when openInput fails: with AllowEmpty, an
// empty input is a source of no lines.
func (c *compilation) emptyInput(src Source, st shard.InputStats, err error) (shard.InputStats, error) {
	if !c.opts.AllowEmpty || !IsEmptyInput(err) {
		return st, err
	}
	st.Format = string(detectFormat(src.Path, src.Format))
	st.SHA256 = emptySHA256
	if src.Path != "-" {
		if fi, err := os.Stat(src.Path); err == nil {
			st.Bytes = fi.Size() // a gzip of nothing is not 0 bytes
		}
	}
	return st, nil
}

// workers makes one worker per core.
func (r *sourceRead) workers() []*blockWorker {
	c := r.c
	norm := c.opts.Normalizer
	if r.src.Normalizer != nil {
		norm = r.src.Normalizer
	}
	workers := make([]*blockWorker, max(1, runtime.GOMAXPROCS(0)))
	allow := &allowSink{nums: &c.allow}
	for i := range workers {
		w := &blockWorker{c: c, norm: *norm, path: r.src.name(), role: r.role, src: int(r.idx), csv: r.header != nil, ident: r.ident, rowPassed: &r.passed}
		if r.ident && r.src.Label != "" {
			w.label = []byte(r.src.Label)
		}
		switch {
		case r.role == "allow":
			w.keys, w.allow = make([]int64, 0, keyBatch), allow
		case c.buckets != nil:
			w.keys, w.part = make([]int64, 0, keyBatch), c.buckets.Part(i%c.buckets.Parts())
		}
		workers[i] = w
	}
	return workers
}

// run reads the source through the pipeline.
func (r *sourceRead) run() error {
	workers := r.workers()
	prodErr, err := orderedPipeline(r.c.ctx, stages[*tblock]{
		seq:     func(b *tblock) int { return b.seq },
		produce: r.produce,
		work:    func(w int, b *tblock) error { return workers[w].work(b) },
		done:    func(w int) error { return workers[w].flush() },
		consume: r.collect,
	})
	var ie *InputError
	switch {
	case err != nil:
		return err
	case errors.As(prodErr, &ie):
		return prodErr // the header named a column the file lacks
	case prodErr != nil && !errors.Is(prodErr, context.Canceled):
		// Every whole line before the error was collected: it names the
		// line where the data ends.
		return &InputError{Path: r.src.name(), Line: r.line + 1, Err: readErr(prodErr, r.in.gzip)}
	case r.c.ctx.Err() != nil:
		return r.c.ctx.Err()
	}
	return prodErr
}

// produce is the reader: blocks of the input, a CSV/TSV source's settled
// by its header first.
func (r *sourceRead) produce(ctx context.Context, out chan<- *tblock) error {
	return readBlocks(ctx, r.in.body, r.in.raw, func(b *tblock) error {
		if err := r.utf8(b); err != nil {
			tblockPool.Put(b)
			return err
		}
		if err := r.header.settle(b); err != nil {
			tblockPool.Put(b)
			return err
		}
		select {
		case out <- b:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
}

// utf8 refuses a block that is not UTF-8 when the input must be, naming
// the line. A too-long line is one line, cut anywhere: not checked.
func (r *sourceRead) utf8(b *tblock) error {
	switch {
	case !r.checkUTF8:
		return nil
	case b.long:
		r.seen++
		return nil
	}
	if ln, bad := utf8Check(b.buf, r.seen); bad != nil {
		return &InputError{Path: r.src.name(), Line: ln, Err: bad}
	}
	r.seen += int64(bytes.Count(b.buf, []byte{'\n'}))
	return nil
}

// collect takes a block's results, in input order.
func (r *sourceRead) collect(b *tblock) error {
	c, st, base := r.c, r.st, r.line
	st.Lines += b.counted
	r.filtered += b.filtered
	if len(b.seen) > 0 {
		if r.filters == nil {
			r.filters = make([]filterSeen, len(b.seen))
		}
		for i := range b.seen {
			r.filters[i].merge(&b.seen[i])
		}
	}
	st.Accepted += b.accepted + int64(len(b.patterns))
	st.Extensions += b.exts
	for why, k := range b.reasons {
		if k > 0 {
			r.reasons[why] += k
			st.Rejected += k
		}
	}
	for _, p := range b.patterns {
		p.Line += base + 1
		if r.header != nil && r.header.ranges != nil {
			// A register's ranges are checked once it is read (read):
			// a refusal then counts all of them.
			c.patternLines++
			c.srcPatterns[r.idx]++
			c.ranges = append(c.ranges, p)
			c.rangeNs += p.Size()
			continue
		}
		c.takePattern(p, r.role, r.idx)
	}
	if c.opts.OnReject != nil {
		for _, j := range b.rejects {
			c.opts.OnReject(Reject{Source: r.src.name(), Role: r.role, Line: base + j.line + 1, Raw: rawText(b.buf[j.r0:j.r1]), Reason: j.why})
		}
	}
	for _, t := range b.idents {
		c.accept(t.num, b.labels[t.l0:t.l1], r.idx, base+t.line+1)
	}
	r.line += b.lines
	if c.opts.Progress != nil && r.line-r.progress >= 4096 {
		r.progress = r.line
		c.opts.Progress(Progress{Source: r.src.name(), Lines: r.line, Bytes: b.raw, TotalBytes: r.total})
	}
	tblockPool.Put(b)
	return nil
}

// finishInput hashes the rest of an input and fills in its statistics.
func (c *compilation) finishInput(in *input, st shard.InputStats, reasons []int64) (shard.InputStats, error) {
	sum, n, err := in.finish()
	if err != nil {
		return st, &InputError{Path: in.path, Err: readErr(err, in.gzip)}
	}
	st.SHA256, st.Bytes = sum, n
	for r, k := range reasons {
		if k > 0 {
			if st.Reasons == nil {
				st.Reasons = map[string]int64{}
			}
			st.Reasons[e164.Reason(r).String()] = k
		}
	}
	return st, nil
}
