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
	"runtime"
	"slices"
	"strings"

	"github.com/calldir/calldir/compiler/sortx"
	"github.com/calldir/calldir/e164"
	"github.com/calldir/calldir/shard"
)

// Source is one input list.
type Source struct {
	Path string // file path, or "-" for stdin
	// Name is what reports, messages and the manifest call the source
	// when it is not Path: the URL of a fetched list, whose Path is its
	// cached copy (compiler/fetch).
	Name        string
	Format      Format // auto, text, csv, tsv
	Column      string // number column: header name or 1-based index; empty = detect
	LabelColumn string // identify: label column, header name or 1-based index
	Label       string // identify: fixed label for every number of this source

	// Encoding is the text's encoding (encoding.go); Ranges, for
	// FormatRanges, where each row's range is (ranges.go).
	Encoding Encoding
	Ranges   RangeColumns

	// Normalizer overrides Options.Normalizer for this source (its own
	// default region or accept policy).
	Normalizer *e164.Normalizer
}

// name is what the source is called in reports: Name, else Path.
func (s Source) name() string {
	if s.Name != "" {
		return s.Name
	}
	return s.Path
}

// Options controls a compilation.
type Options struct {
	Sources     []Source
	Allow       []Source // allowlists: numbers, and in text lists patterns and ranges, removed from the output
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
	Role   string // "source", or "allow" for an allowlist's line
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
	// Totals' lines, accepted and rejected count every input, allowlists
	// too (as validate --raw does): an allowlist's rejected line weighs on
	// the reject threshold like a source's.
	Totals  shard.Totals
	buckets *sortx.Buckets
	packed  *runEntries
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

// DefaultMemory is the default bound on a blocking compile's memory
// (sortx.DefaultBudget, which says how it is shared): 512 MiB, about 40
// million numbers before a spill.
const DefaultMemory = int64(sortx.DefaultBudget)

// UsageError is a problem with the options rather than with the data.
type UsageError struct{ Msg string }

func (e *UsageError) Error() string { return e.Msg }

// compilation is one Compile: what reading the inputs collects.
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
	allow        []int64  // the allowlists' numbers, in no order
	allowRanges  []Range  // the allowlists' patterns and ranges
	allowlist    allowSet // both, once every allowlist is read
}

// readFunc reads one source (role "source", index idx) or allowlist
// ("allow") into c: (*compilation).read, the block pipeline.
type readFunc func(c *compilation, src Source, idx uint32, role string) (shard.InputStats, error)

// Compile reads every source and allowlist and returns the build's entries.
func Compile(ctx context.Context, opts Options) (*Result, error) {
	return compile(ctx, opts, (*compilation).read)
}

// compile is Compile with the inputs read by read.
func compile(ctx context.Context, opts Options, read readFunc) (*Result, error) {
	if err := checkOptions(opts); err != nil {
		return nil, err
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
		c.buckets = sortx.NewBucketsParts(opts.TempDir, c.memory(), runtime.GOMAXPROCS(0))
		res.buckets = c.buckets
	}
	ok := false
	defer func() {
		if !ok {
			res.Close()
		}
	}()
	if err := c.readAll(res, read); err != nil {
		return nil, err
	}
	if opts.Kind == shard.KindBlock {
		if err := c.finishBlocking(res); err != nil {
			return nil, err
		}
	} else {
		c.finishIdent(res)
	}
	res.Totals.Entries = int64(res.Len())
	ok = true
	return res, nil
}

// checkOptions refuses options that cannot make a build.
func checkOptions(opts Options) error {
	if opts.Normalizer == nil {
		return &UsageError{"compiler: no normalizer"}
	}
	if opts.Kind != shard.KindBlock && opts.Kind != shard.KindIdentify {
		return &UsageError{fmt.Sprintf("compiler: unknown kind %d", opts.Kind)}
	}
	if len(opts.Sources) == 0 && len(opts.Ranges) == 0 {
		return &UsageError{"no input files (give one or more paths, or - for stdin)"}
	}
	stdin := 0
	for _, s := range append(slices.Clone(opts.Sources), opts.Allow...) {
		if s.Path == "-" {
			stdin++
		}
	}
	if stdin > 1 {
		return &UsageError{"stdin (-) given more than once"}
	}
	if len(opts.Sources) >= MaxSources-1 {
		return &UsageError{fmt.Sprintf("%d sources: at most %d", len(opts.Sources), MaxSources-2)}
	}
	return nil
}

// memory is the bound of a blocking compile's memory.
func (c *compilation) memory() int64 {
	if c.opts.Memory <= 0 {
		return DefaultMemory
	}
	return c.opts.Memory
}

// readAll reads the sources, then the allowlists (into c.allowlist), and
// adds up the inputs' lines: every input's, so that an allowlist's
// rejected lines count against the threshold.
func (c *compilation) readAll(res *Result, read readFunc) error {
	for i, src := range c.opts.Sources {
		st, err := read(c, src, uint32(i), "source")
		if c.err != nil {
			err = c.err // ranges too large stop the reading as a cancel does
		}
		if err != nil {
			return err
		}
		res.Inputs = append(res.Inputs, st)
		res.Totals.Lines += st.Lines
		res.Totals.Accepted += st.Accepted
		res.Totals.Rejected += st.Rejected
	}
	for _, src := range c.opts.Allow {
		ranges := len(c.allowRanges)
		st, err := read(c, src, 0, "allow")
		if err != nil {
			return err
		}
		st.Patterns = int64(len(c.allowRanges) - ranges)
		res.Inputs = append(res.Inputs, st)
		res.Totals.Lines += st.Lines
		res.Totals.Accepted += st.Accepted
		res.Totals.Rejected += st.Rejected
	}
	c.allowlist = newAllowSet(c.allow, c.allowRanges)
	c.allow, c.allowRanges = nil, nil
	return nil
}

// sourcesAccepted is the accepted lines of the sources (Totals.Accepted
// counts the allowlists' too).
func sourcesAccepted(res *Result, sources int) int64 {
	var n int64
	for _, in := range res.Inputs[:sources] {
		n += in.Accepted
	}
	return n
}

// finishBlocking sorts a blocking build's numbers and merges them with
// the ranges, minus the allowlist, into packed entries, and fills in the
// statistics.
func (c *compilation) finishBlocking(res *Result) error {
	opts := c.opts
	for _, r := range opts.Ranges {
		c.addRange(r)
	}
	if _, err := c.checkRanges(c.ranges, c.allowlist); err != nil {
		return err
	}
	stats := make([]sourceStats, len(opts.Sources)+1)
	// The packed entries take what the buckets leave of the budget (an
	// eighth); past it they go to a file.
	ents, distinct, allowed, err := newRunEntries(c.ctx, mergeInput{buckets: c.buckets, ranges: coalesce(c.ranges), allow: c.allowlist,
		stats: stats, dir: opts.TempDir, packMemory: c.memory() / 8, progress: opts.Progress})
	res.packed = ents
	if err != nil {
		return fmt.Errorf("sort: %w", err)
	}
	res.Stream = ents
	res.Totals.Duplicates = sourcesAccepted(res, len(opts.Sources)) - c.patternLines + c.rangeNs - distinct
	res.Totals.Allowlisted = allowed
	res.Patterns = patternStats(c.ranges, c.allowlist)
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
	return nil
}

// finishIdent sorts an identification build's entries, keeps the first
// label of each number and removes the allowlist.
func (c *compilation) finishIdent(res *Result) {
	c.dedupeIdent(res)
	var keep []bool
	res.Numbers, res.Totals.Allowlisted = subtract(res.Numbers, c.allowlist, &keep)
	labels := res.Labels[:0]
	for i, k := range keep {
		if k {
			labels = append(labels, res.Labels[i])
		}
	}
	res.Labels = labels
	res.Table = c.table
}

// subtract removes the allowlist from the sorted set nums, in place.
// When keep is non-nil it records which entries of nums survived.
func subtract(nums []int64, allow allowSet, keep *[]bool) ([]int64, int64) {
	if keep != nil {
		*keep = make([]bool, len(nums))
	}
	out := nums[:0]
	cur := allowCursor{a: &allow}
	var removed int64
	for i, n := range nums {
		if cur.has(n) {
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

// pattern reads a pattern line: a range to add, or a reject. A source's
// range blocks its numbers, an allowlist's allows them (in a build of
// either kind); an identification source's lines need labels, which a
// range cannot carry.
func (c *compilation) pattern(s, role, path string, ln int64) (e164.Reason, *Range) {
	if !IsPattern(s) {
		return e164.ReasonNone, nil
	}
	r, err := ParsePattern(s)
	switch {
	case err != nil:
		return e164.ReasonBadPattern, nil
	case role == "source" && c.opts.Kind != shard.KindBlock:
		return e164.ReasonBadPattern, nil
	}
	r.Source, r.Line = path, ln
	return e164.ReasonNone, &r
}

// takePattern keeps a list line's range (pattern): a source's (index idx)
// to block, an allowlist's to allow.
func (c *compilation) takePattern(r Range, role string, idx uint32) {
	if role == "allow" {
		c.allowRanges = append(c.allowRanges, r)
		return
	}
	c.patternLines++
	c.srcPatterns[idx]++
	c.addRange(r)
}

func (c *compilation) addRange(r Range) {
	c.ranges = append(c.ranges, r)
	c.rangeNs += r.Size()
	c.guardRanges()
}

// patternStats counts, for each range, its numbers and the allowlisted ones.
func patternStats(rs []Range, allow allowSet) []shard.PatternInfo {
	var out []shard.PatternInfo
	for _, r := range rs {
		listed := allow.count(r.Lo, r.Hi)
		out = append(out, shard.PatternInfo{Pattern: r.Text, Source: r.Source, Line: r.Line, First: r.Lo, Last: r.Hi,
			Size: r.Size(), Allowlisted: listed, Entries: r.Size() - listed})
	}
	return out
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
