// Package compiler turns raw number lists into the sorted, deduplicated
// entries of a build, and writes builds atomically.
//
//	sources ──▶ open (gzip by content, binary refused, SHA-256)
//	        ──▶ lines (text: '#' comments; CSV/TSV: header, --column)
//	        ──▶ e164.Normalize ──▶ reject report (source, line, raw, reason)
//	        ──▶ collect ──▶ sort + dedupe (labels: first occurrence wins)
//	        ──▶ minus allowlist ──▶ split into shards ──▶ WriteBuild
//
// The package never prints: progress, rejects and conflicts reach the caller
// through callbacks in Options.
package compiler

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"
	"os"
	"runtime"
	"slices"
	"strings"

	"github.com/calldir/calldir/compiler/sortx"
	"github.com/calldir/calldir/e164"
	"github.com/calldir/calldir/shard"
)

// Source is one input list.
type Source struct {
	Path        string // file path, or "-" for stdin
	Format      Format // auto, text, csv, tsv
	Column      string // number column: header name or 1-based index; empty = detect
	LabelColumn string // identify: label column, header name or 1-based index
	Label       string // identify: fixed label for every number of this source
	// Normalizer overrides Options.Normalizer for this source (its own
	// default region or accept policy).
	Normalizer *e164.Normalizer
}

// Options controls a compilation.
type Options struct {
	Sources     []Source
	Allow       []Source // allowlists: numbers removed from the output
	Kind        shard.Kind
	Normalizer  *e164.Normalizer
	MaxPerShard int
	AllowEmpty  bool      // an empty input file is not an error
	Stdin       io.Reader // read for the path "-"; os.Stdin when nil

	// Memory bounds a blocking compile's memory, in bytes (DefaultMemory
	// when 0): the numbers are collected in 5/8 of it (sortx.Buckets) and
	// spill past it to files in TempDir (os.TempDir when empty); the final
	// sort takes 3/16 and the packed entries 1/8. Result.Close removes
	// the files.
	Memory  int64
	TempDir string
	// Ranges are patterns and ranges to block besides the sources' lines
	// (from a configuration file); text lists may hold them too.
	Ranges []Range

	OnReject   func(Reject)   // every rejected line, in input order
	OnConflict func(Conflict) // every label conflict (identify)
	Progress   func(Progress) // called every few thousand lines
}

// Reject is one rejected line.
type Reject struct {
	Source string
	Line   int64
	Raw    string // the line (or the number field), valid UTF-8, at most MaxRawBytes
	Reason e164.Reason
}

// MaxRawBytes bounds the raw text kept in a reject record.
const MaxRawBytes = 256

// Conflict is a number given two different labels; the first occurrence (in
// source order, then line order) wins.
type Conflict struct {
	Number     int64
	Source     string
	Line       int64
	Label      string // the label that lost
	KeptSource string
	KeptLine   int64
	KeptLabel  string
}

// Progress reports reading progress.
type Progress struct {
	Source     string
	Lines      int64
	Bytes      int64 // raw (compressed) bytes read of this source
	TotalBytes int64 // size of this source, or -1 if unknown
	// Sorted is set once every source is read: the entries sorted and
	// packed so far, of about Keys numbers collected (duplicates count).
	Sorted, Keys int64
}

// Result is a compiled build: its entries (in memory, or for blocking
// builds bounded by Options.Memory, packed and maybe in a temporary file),
// inputs and totals. Close it to remove any temporary files.
type Result struct {
	Kind     shard.Kind
	Numbers  []int64  // strictly ascending, allowlist removed; nil when Stream is set
	Labels   []uint32 // identify: index into Table for each number
	Table    []string // identify: every distinct label
	Stream   Entries  // blocking: the entries, when they are not in Numbers
	Patterns []shard.PatternInfo
	Inputs   []shard.InputStats
	Totals   shard.Totals
	buckets  *sortx.Buckets
	packed   *runEntries
}

// Entries returns the blocking entries, however they are held.
func (r *Result) Entries() Entries {
	if r.Stream != nil {
		return r.Stream
	}
	return NumberSlice(r.Numbers)
}

// Len is the number of entries.
func (r *Result) Len() int { return r.Entries().Len() }

// Close removes the temporary files of spilled numbers and packed entries.
func (r *Result) Close() error {
	var errs []error
	if r.buckets != nil {
		errs = append(errs, r.buckets.Close())
	}
	if r.packed != nil {
		errs = append(errs, r.packed.close())
	}
	return errors.Join(errs...)
}

// DefaultMemory is the default bound on a blocking compile's memory: 512
// MiB, about 40 million numbers before a spill. 100 million lines stay
// near 660 MB of resident memory with it.
const DefaultMemory = 512 << 20

// UsageError is a problem with the options rather than with the data.
type UsageError struct{ Msg string }

func (e *UsageError) Error() string { return e.Msg }

// sortIdents returns the entries of chunks (in input order) in one slice
// sorted by number, input order kept among equal numbers: an LSD radix sort
// over the bits in which the numbers differ, stable by construction. The
// first pass reads the chunks, so that they can go before the second
// pass's scratch is made. (slices.SortStableFunc, in place, is
// O(n log² n): 7.6 of the 15 s of a 10M-line build; slices.SortFunc by
// (number, source, line) 2.6 s; this, under 1 s.)
func sortIdents(chunks [][]identEntry) []identEntry {
	n := 0
	lo, hi := int64(math.MaxInt64), int64(math.MinInt64)
	for _, ch := range chunks {
		n += len(ch)
		for _, e := range ch {
			lo, hi = min(lo, e.num), max(hi, e.num)
		}
	}
	if n == 0 {
		return nil
	}
	const maxWidth = 11
	nbits := uint(bits.Len64(uint64(hi - lo)))
	passes := max(1, (nbits+maxWidth-1)/maxWidth)
	width := (nbits + passes - 1) / passes
	mask := uint64(1)<<width - 1
	counts := make([][]int, passes)
	for p := range counts {
		counts[p] = make([]int, 1<<width)
	}
	for _, ch := range chunks {
		for _, e := range ch {
			k := uint64(e.num - lo)
			for p := range passes {
				counts[p][k>>(uint(p)*width)&mask]++
			}
		}
	}
	starts := func(c []int) {
		sum := 0
		for i, k := range c {
			c[i], sum = sum, sum+k
		}
	}
	dst := make([]identEntry, n)
	starts(counts[0])
	for i, ch := range chunks {
		for _, e := range ch {
			d := uint64(e.num-lo) & mask
			dst[counts[0][d]] = e
			counts[0][d]++
		}
		chunks[i] = nil
	}
	var scratch []identEntry
	for p := uint(1); p < passes; p++ {
		c := counts[p]
		if c[uint64(dst[0].num-lo)>>(p*width)&mask] == n {
			continue // every number has this digit
		}
		if scratch == nil {
			scratch = make([]identEntry, n)
		}
		starts(c)
		for _, e := range dst {
			d := uint64(e.num-lo) >> (p * width) & mask
			scratch[c[d]] = e
			c[d]++
		}
		dst, scratch = scratch, dst
	}
	return dst
}

// identChunk is how many identification entries a chunk of
// compilation.idents holds (1.5 MiB).
const identChunk = 64 << 10

// identEntry is an accepted identification line before dedupe.
type identEntry struct {
	num   int64
	label uint32
	src   uint32
	line  int64
}

type compilation struct {
	opts         Options
	ctx          context.Context
	buckets      *sortx.Buckets // blocking numbers, sorted in bounded memory
	ranges       []Range        // patterns and ranges, expanded lazily
	rangeNs      int64          // numbers in all ranges, overlaps counted
	patternLines int64          // accepted lines that were patterns
	srcPatterns  []int64        // the same, per source
	err          error          // the first error of collecting (a full disk while spilling, ranges too large)
	guard        rangeGuard     // the running check of the ranges' size (capacity.go)
	cancel       context.CancelCauseFunc
	idents       [][]identEntry // in chunks of identChunk: no copy of them all as they grow
	labelID      map[string]uint32
	table        []string
	fields       []string
}

// Compile reads every source and allowlist and returns the build's entries.
func Compile(ctx context.Context, opts Options) (*Result, error) {
	if opts.Normalizer == nil {
		return nil, &UsageError{"compiler: no normalizer"}
	}
	if opts.Kind != shard.KindBlock && opts.Kind != shard.KindIdentify {
		return nil, &UsageError{fmt.Sprintf("compiler: unknown kind %d", opts.Kind)}
	}
	if len(opts.Sources) == 0 && len(opts.Ranges) == 0 {
		return nil, &UsageError{"no input files (give one or more paths, or - for stdin)"}
	}
	stdin := 0
	for _, s := range append(slices.Clone(opts.Sources), opts.Allow...) {
		if s.Path == "-" {
			stdin++
		}
	}
	if stdin > 1 {
		return nil, &UsageError{"stdin (-) given more than once"}
	}
	if len(opts.Sources) >= MaxSources-1 {
		return nil, &UsageError{fmt.Sprintf("%d sources: at most %d", len(opts.Sources), MaxSources-2)}
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	c := &compilation{opts: opts, ctx: ctx, cancel: cancel, labelID: map[string]uint32{}, srcPatterns: make([]int64, len(opts.Sources))}
	res := &Result{Kind: opts.Kind}
	if opts.Kind == shard.KindBlock {
		// Ranges too large for a build are refused before anything is
		// read, and the spill files of compiles killed before are removed
		// (best effort: they are scratch) before this one spills.
		if err := c.guardBeforeReading(); err != nil {
			return nil, err
		}
		sortx.RemoveStale(opts.TempDir)
		mem := opts.Memory
		if mem <= 0 {
			mem = DefaultMemory
		}
		c.buckets = sortx.NewBucketsParts(opts.TempDir, mem, runtime.GOMAXPROCS(0))
		res.buckets = c.buckets
	}
	ok := false
	defer func() {
		if !ok {
			res.Close()
		}
	}()
	for i, src := range opts.Sources {
		st, err := c.read(src, uint32(i), "source", c.accept)
		if c.err != nil {
			err = c.err // ranges too large stop the reading as a cancel does
		}
		if err != nil {
			return nil, err
		}
		res.Inputs = append(res.Inputs, st)
	}
	var allow []int64
	for _, src := range opts.Allow {
		st, err := c.read(src, 0, "allow", func(n int64, _ []byte, _ uint32, _ int64) { allow = append(allow, n) })
		if err != nil {
			return nil, err
		}
		res.Inputs = append(res.Inputs, st)
	}
	slices.Sort(allow)
	allow = slices.Compact(allow)

	for _, in := range res.Inputs {
		if in.Role != "source" {
			continue
		}
		res.Totals.Lines += in.Lines
		res.Totals.Accepted += in.Accepted
		res.Totals.Rejected += in.Rejected
	}
	if opts.Kind == shard.KindBlock {
		for _, r := range opts.Ranges {
			c.addRange(r)
		}
		if _, err := c.checkRanges(c.ranges, allow); err != nil {
			return nil, err
		}
		stats := make([]sourceStats, len(opts.Sources)+1)
		mem := opts.Memory
		if mem <= 0 {
			mem = DefaultMemory
		}
		// The packed entries take what the buckets leave of the budget
		// (an eighth); past it they go to a file.
		ents, distinct, allowed, err := newRunEntries(ctx, c.buckets, coalesce(c.ranges), allow, stats, opts.TempDir, mem/8, opts.Progress)
		res.packed = ents
		if err != nil {
			return nil, fmt.Errorf("sort: %w", err)
		}
		res.Stream = ents
		res.Totals.Duplicates = res.Totals.Accepted - c.patternLines + c.rangeNs - distinct
		res.Totals.Allowlisted = allowed
		res.Patterns = patternStats(c.ranges, allow)
		for i := range opts.Sources {
			in, st := &res.Inputs[i], stats[i]
			in.Patterns = c.srcPatterns[i]
			in.Duplicates = in.Accepted - in.Patterns - st.distinct
			in.Across, in.Allowlisted = st.across, st.allowlisted
			in.Entries = st.distinct - st.across - st.allowlisted
			if st.byCountry != nil {
				in.ByCountry = map[string]int64{}
				for cc, k := range st.byCountry {
					if k > 0 {
						in.ByCountry[countryKey(cc)] = k
					}
				}
			}
		}
	} else {
		c.dedupeIdent(res)
		var keep []bool
		res.Numbers, res.Totals.Allowlisted = subtract(res.Numbers, allow, &keep)
		labels := res.Labels[:0]
		for i, k := range keep {
			if k {
				labels = append(labels, res.Labels[i])
			}
		}
		res.Labels = labels
		res.Table = c.table
	}
	res.Totals.Entries = int64(res.Len())
	ok = true
	return res, nil
}

// subtract removes the sorted set allow from the sorted set nums, in place.
// When keep is non-nil it records which entries of nums survived.
func subtract(nums, allow []int64, keep *[]bool) ([]int64, int64) {
	if keep != nil {
		*keep = make([]bool, len(nums))
	}
	out := nums[:0]
	j := 0
	var removed int64
	for i, n := range nums {
		for j < len(allow) && allow[j] < n {
			j++
		}
		if j < len(allow) && allow[j] == n {
			removed++
			continue
		}
		if keep != nil {
			(*keep)[i] = true
		}
		out = append(out, n)
	}
	return out, removed
}

// dedupeIdent sorts identification entries by number, keeping input order
// among equal numbers, and keeps the first label of each number.
func (c *compilation) dedupeIdent(res *Result) {
	idents := sortIdents(c.idents)
	c.idents = nil
	distinct := 0
	for i := range idents {
		if i == 0 || idents[i].num != idents[i-1].num {
			distinct++
		}
	}
	res.Numbers = make([]int64, 0, distinct)
	res.Labels = make([]uint32, 0, distinct)
	for i := 0; i < len(idents); {
		first := idents[i]
		j := i + 1
		for ; j < len(idents) && idents[j].num == first.num; j++ {
			e := idents[j]
			if e.label == first.label {
				continue
			}
			res.Totals.LabelConflicts++
			if c.opts.OnConflict != nil {
				c.opts.OnConflict(Conflict{
					Number: e.num, Source: c.opts.Sources[e.src].Path, Line: e.line, Label: c.table[e.label],
					KeptSource: c.opts.Sources[first.src].Path, KeptLine: first.line, KeptLabel: c.table[first.label],
				})
			}
		}
		res.Numbers = append(res.Numbers, first.num)
		res.Labels = append(res.Labels, first.label)
		i = j
	}
	res.Totals.Duplicates = res.Totals.Accepted - int64(len(res.Numbers))
}

// maybePattern is a cheap test before IsPattern: patterns end in a
// wildcard or hold "..".
func maybePattern(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	switch b[len(b)-1] {
	case '#', 'X':
		return true
	}
	// bytes.Contains(b, "..") costs more than the normalization of a short
	// line; a dot is rare and two in a row rarer.
	for i := bytes.IndexByte(b, '.'); i >= 0 && i+1 < len(b); {
		if b[i+1] == '.' {
			return true
		}
		j := bytes.IndexByte(b[i+1:], '.')
		if j < 0 {
			break
		}
		i += 1 + j
	}
	return false
}

// pattern reads a pattern line: a range to add, or a reject.
func (c *compilation) pattern(s, role, path string, ln int64) (e164.Reason, *Range) {
	if !IsPattern(s) {
		return e164.ReasonNone, nil
	}
	r, err := ParsePattern(s)
	switch {
	case err != nil:
		return e164.ReasonBadPattern, nil
	case role != "source" || c.opts.Kind != shard.KindBlock:
		return e164.ReasonBadPattern, nil // patterns block; an allowlist or labels take numbers
	}
	r.Source, r.Line = path, ln
	return e164.ReasonNone, &r
}

func (c *compilation) addRange(r Range) {
	c.ranges = append(c.ranges, r)
	c.rangeNs += r.Size()
	c.guardRanges()
}

// patternStats counts, for each range, its numbers and the allowlisted ones.
func patternStats(rs []Range, allow []int64) []shard.PatternInfo {
	var out []shard.PatternInfo
	for _, r := range rs {
		lo, _ := slices.BinarySearch(allow, r.Lo)
		hi, _ := slices.BinarySearch(allow, r.Hi+1)
		out = append(out, shard.PatternInfo{Pattern: r.Text, Source: r.Source, Line: r.Line, First: r.Lo, Last: r.Hi,
			Size: r.Size(), Allowlisted: int64(hi - lo), Entries: r.Size() - int64(hi-lo)})
	}
	return out
}

func (c *compilation) accept(n int64, label []byte, src uint32, line int64) {
	if c.opts.Kind == shard.KindBlock {
		if err := c.buckets.Add(sourceKey(n, int(src))); err != nil && c.err == nil {
			c.err = fmt.Errorf("sort: %w", err)
		}
		return
	}
	id, ok := c.labelID[string(label)] // no string made to look it up
	if !ok {
		l := string(label)
		id = uint32(len(c.table))
		c.labelID[l] = id
		c.table = append(c.table, l)
	}
	if k := len(c.idents); k == 0 || len(c.idents[k-1]) == identChunk {
		c.idents = append(c.idents, make([]identEntry, 0, identChunk))
	}
	last := &c.idents[len(c.idents)-1]
	*last = append(*last, identEntry{num: n, label: id, src: src, line: line})
}

type emitFunc func(n int64, label []byte, src uint32, line int64)

// read streams one source through normalization.
func (c *compilation) read(src Source, idx uint32, role string, emit emitFunc) (shard.InputStats, error) {
	st := shard.InputStats{Path: src.Path, Role: role}
	in, err := openInput(src.Path, src.Format, c.opts.Stdin)
	if err != nil {
		if c.opts.AllowEmpty && IsEmptyInput(err) {
			st.Format = string(detectFormat(src.Path, src.Format))
			st.SHA256 = emptySHA256
			if src.Path != "-" {
				if fi, err := os.Stat(src.Path); err == nil {
					st.Bytes = fi.Size() // a gzip of nothing is not 0 bytes
				}
			}
			return st, nil
		}
		return st, err
	}
	defer in.close()
	st.Format = string(in.format)
	if in.gzip {
		st.Format += "+gzip"
	}
	total := int64(-1)
	if f, ok := in.closer.(*os.File); ok {
		if fi, err := f.Stat(); err == nil {
			total = fi.Size()
		}
	}
	reasons := make([]int64, e164.NumReasons)
	norm := c.opts.Normalizer
	if src.Normalizer != nil {
		norm = src.Normalizer
	}
	p := lineParser{c: c, src: src, role: role}
	if err := p.init(in.format); err != nil {
		return st, &InputError{Path: src.Path, Err: err}
	}
	blocks := useBlocks && role == "source"
	if blocks && in.format == FormatText {
		if err := c.readBlocksOf(in, src, idx, role, norm, nil, 0, &st, reasons, total); err != nil {
			return st, err
		}
		return c.finishInput(in, st, reasons)
	}
	// add puts a line read by in.lines into b; it returns false for a line
	// that carries no entry.
	add := func(b *batch, line []byte, tooLong bool) (bool, error) {
		ln := in.lines.line
		pl := pline{line: ln}
		pl.raw0 = int32(len(b.buf))
		b.buf = append(b.buf, line...)
		pl.raw1 = int32(len(b.buf))
		pl.num0, pl.num1 = pl.raw1, pl.raw1
		switch {
		case tooLong:
			pl.pre = e164.ReasonLineTooLong
		case in.format == FormatText:
			// Text lines, the common case, without a copy: the number
			// is a slice of the raw line.
			t := bytes.TrimSpace(line)
			if len(t) == 0 || t[0] == '#' {
				b.buf = b.buf[:pl.raw0]
				return false, nil
			}
			num := stripComment(t)
			off := int32(cap(line) - cap(num))
			pl.num0, pl.num1 = pl.raw0+off, pl.raw0+off+int32(len(num))
			if p.identify() {
				pl.lbl0 = int32(len(b.buf))
				b.buf = append(b.buf, src.Label...)
				pl.lbl1 = int32(len(b.buf))
			}
			if maybePattern(num) {
				pl.pre, pl.rng = c.pattern(string(num), role, src.Path, ln)
			}
		default:
			number, label, skip, why, err := p.parse(line, ln)
			if err != nil {
				return false, &InputError{Path: src.Path, Line: ln, Err: err}
			}
			if skip {
				b.buf = b.buf[:pl.raw0]
				return false, nil
			}
			pl.pre = why
			pl.num0 = int32(len(b.buf))
			b.buf = append(b.buf, number...)
			pl.num1 = int32(len(b.buf))
			b.buf = append(b.buf, label...)
			pl.lbl0, pl.lbl1 = pl.num1, int32(len(b.buf))
		}
		b.lines = append(b.lines, pl)
		return true, nil
	}
	// next reads the next line; it reports progress and cancellation
	// every 4096 lines.
	next := func() (line []byte, tooLong bool, err error) {
		line, tooLong, err = in.lines.next()
		if err != nil && err != io.EOF {
			return nil, false, &InputError{Path: src.Path, Line: in.lines.line + 1, Err: readErr(err, in.gzip)}
		}
		if ln := in.lines.line; err == nil && ln&4095 == 0 {
			if err := c.ctx.Err(); err != nil {
				return nil, false, err
			}
			if c.opts.Progress != nil {
				c.opts.Progress(Progress{Source: src.Path, Lines: ln, Bytes: in.raw.n, TotalBytes: total})
			}
		}
		return line, tooLong, err
	}
	full := func(b *batch) bool { return len(b.lines) == batchLines || len(b.buf) > 1<<20 }
	produce := func(ctx context.Context, out chan<- *batch) error {
		seq := 0
		b := newBatch(seq)
		send := func() error {
			select {
			case out <- b:
			case <-ctx.Done():
				return ctx.Err()
			}
			seq++
			b = newBatch(seq)
			return nil
		}
		for {
			line, tooLong, err := next()
			if err == io.EOF {
				break
			}
			if err != nil {
				return err
			}
			if ok, err := add(b, line, tooLong); err != nil {
				return err
			} else if ok && full(b) {
				if err := send(); err != nil {
					return err
				}
			}
		}
		if len(b.lines) > 0 {
			return send()
		}
		return nil
	}
	consume := func(b *batch) error {
		for i := range b.lines {
			l := &b.lines[i]
			st.Lines++
			if l.rng != nil {
				st.Accepted++
				c.patternLines++
				c.srcPatterns[idx]++
				c.addRange(*l.rng)
				continue
			}
			if l.why == e164.ReasonNone {
				if l.ext {
					st.Extensions++
				}
				st.Accepted++
				emit(l.number, b.buf[l.lbl0:l.lbl1], idx, l.line)
				continue
			}
			st.Rejected++
			reasons[l.why]++
			if c.opts.OnReject != nil {
				c.opts.OnReject(Reject{Source: src.Path, Line: l.line, Raw: rawText(b.buf[l.raw0:l.raw1]), Reason: l.why})
			}
		}
		return c.err
	}
	if blocks {
		// A CSV/TSV source: its first records (a header, the first data
		// line) settle the delimiter and the number column here, in
		// order; the rest goes through the block pipeline, which splits
		// its fields on every core.
		b := newBatch(0)
		for p.col < 0 {
			line, tooLong, err := next()
			if err == io.EOF {
				break
			}
			if err != nil {
				return st, err
			}
			if ok, err := add(b, line, tooLong); err != nil {
				return st, err
			} else if ok && full(b) {
				normalizeBatch(norm, b)
				if err := consume(b); err != nil {
					return st, err
				}
				b.lines, b.buf = b.lines[:0], b.buf[:0]
			}
		}
		normalizeBatch(norm, b)
		err := consume(b)
		batchPool.Put(b)
		if err != nil {
			return st, err
		}
		if p.col >= 0 {
			if err := c.readBlocksOf(in, src, idx, role, norm, &csvMode{delim: p.delim, col: p.col, labelCol: p.labelCol}, in.lines.line, &st, reasons, total); err != nil {
				return st, err
			}
		}
		if st.Lines == 0 && p.header != nil && !c.opts.AllowEmpty {
			return st, &InputError{Path: src.Path, Err: errors.New("a header line and no data lines; pass --allow-empty if that is expected")}
		}
		return c.finishInput(in, st, reasons)
	}
	if err := runPipeline(c.ctx, norm, produce, consume); err != nil {
		return st, err
	}
	if st.Lines == 0 && p.header != nil && !c.opts.AllowEmpty {
		return st, &InputError{Path: src.Path, Err: errors.New("a header line and no data lines; pass --allow-empty if that is expected")}
	}
	return c.finishInput(in, st, reasons)
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

const emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

// rawText makes a line safe to report: valid UTF-8, at most MaxRawBytes
// (a rune cut at the limit becomes U+FFFD).
func rawText(b []byte) string {
	if len(b) > MaxRawBytes {
		return strings.ToValidUTF8(string(b[:MaxRawBytes]), "\uFFFD") + "…"
	}
	return strings.ToValidUTF8(string(b), "\uFFFD")
}
