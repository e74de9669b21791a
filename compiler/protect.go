package compiler

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strings"

	"github.com/calldir/calldir/e164"
	"github.com/calldir/calldir/shard"
)

// A protect list names numbers that must never be blocked: the banks,
// hospitals and support lines of the people a blocklist serves. It is
// read as an allowlist is (numbers and, in a text list, patterns and
// ranges), but where an allowlist removes its numbers from the output
// quietly, a blocking build whose output holds a protected number is
// refused, naming the number, the source line that brought it and the
// protect line that protects it:
//
//	protect lists ──▶ readProtect (the block pipeline; a line it cannot read fails the run)
//	sorted output ──▶ protectSet.find (a cursor; first MaxProtectedShown and a count)
//	              ──▶ locate (the sources read again, for those numbers only)
//	              ──▶ *ProtectedError
//
// The check runs on the output, after the allowlist is subtracted: a
// number both allowed and protected is not blocked, so it passes. Without
// protect lists nothing here runs.
//
// Protect lists apply to blocking builds only. An identification build
// labels numbers rather than blocking them, and a label on a protected
// number may be exactly what the list is for ("Acme Bank"): refusing it
// would be wrong, and ignoring --protect silently would let a
// configuration believe it is guarded. A job with protect lists and an
// identification kind is a usage error.

// MaxProtectedShown bounds the protected numbers a ProtectedError names
// (and whose sources are looked for); the rest are counted.
const MaxProtectedShown = 10

// Protected is one protected number a build would block.
type Protected struct {
	Number int64
	// Source and Line are where the number came from: the first source
	// that lists it, else the pattern or range that blocks it (Pattern, as
	// written). For an existing build whose patterns do not hold it,
	// Source is its shard file and Line 0. Source is "" when the sources,
	// read again, no longer hold it (changed since the build read them);
	// "-" for standard input, which cannot be read again (Line 0).
	Source  string
	Line    int64
	Pattern string
	// ProtectSource and ProtectLine are the protect list line that
	// protects it (its first, in list then line order); ProtectPattern is
	// that line's pattern or range, "" when it is the number itself.
	ProtectSource  string
	ProtectLine    int64
	ProtectPattern string
}

func (p Protected) String() string {
	var b strings.Builder
	b.WriteString(e164.Format(p.Number))
	switch {
	case p.Source == "":
		b.WriteString(" (no source holds it any more: changed since it was read?)")
	case p.Line > 0:
		fmt.Fprintf(&b, " from %s:%d", p.Source, p.Line)
	default:
		fmt.Fprintf(&b, " from %s", p.Source)
	}
	if p.Pattern != "" {
		fmt.Fprintf(&b, " (%q)", p.Pattern)
	}
	fmt.Fprintf(&b, ", protected by %s:%d", p.ProtectSource, p.ProtectLine)
	if p.ProtectPattern != "" {
		fmt.Fprintf(&b, " (%q)", p.ProtectPattern)
	}
	return b.String()
}

// ProtectedError is a build that would block, or an existing build (Build)
// that blocks, protected numbers: Numbers are the first
// MaxProtectedShown of them, ascending, and Count is all of them.
type ProtectedError struct {
	Build   string // the build directory CheckProtected read; "" for a compile
	Numbers []Protected
	Count   int64
}

func (e *ProtectedError) Error() string {
	var b strings.Builder
	noun := "protected numbers"
	if e.Count == 1 {
		noun = "protected number"
	}
	if e.Build != "" {
		fmt.Fprintf(&b, "%s blocks %d %s:", e.Build, e.Count, noun)
	} else {
		fmt.Fprintf(&b, "build refused, nothing written: it would block %d %s:", e.Count, noun)
	}
	for _, p := range e.Numbers {
		b.WriteString("\n  ")
		b.WriteString(p.String())
	}
	if more := e.Count - int64(len(e.Numbers)); more > 0 {
		fmt.Fprintf(&b, "\n  and %d more", more)
	}
	return b.String()
}

// protectEntry is one accepted line of a protect list: a number (lo = hi,
// text "") or a pattern or range.
type protectEntry struct {
	lo, hi int64
	list   int // index of its protect list
	line   int64
	text   string
}

// protectSet is the protect lists once read: every line kept with where
// it is (a protect list is short; these are looked at only to explain a
// refusal) and the union of them, coalesced, for the walk.
type protectSet struct {
	lists   []string
	entries []protectEntry // in list, then line order
	union   intervals
}

// scanLabel is the fixed label a list is read with when its numbers must
// keep their lines (scanInput): any label CallKit takes.
const scanLabel = "protect"

// readProtect reads the protect lists with opts' normalizer (or each
// list's own). A line of a protect list that cannot be read fails the
// run, with the file and line: the list is trusted to hold what must
// never be blocked, and the line it cannot read may be the very number it
// was written for, so a check without it would pass a build it should
// refuse. (An allowlist's bad line is only counted: the number it failed
// to allow stays blocked, the safe side.)
func readProtect(ctx context.Context, opts Options, lists []Source) (*protectSet, error) {
	ps := &protectSet{}
	var rs []Range
	for i, src := range lists {
		ps.lists = append(ps.lists, src.Path)
		var bad *InputError
		var more int64
		err := scanInput(ctx, opts, src, "protect", func(b *tblock, base int64) error {
			for _, j := range b.rejects {
				if bad == nil {
					bad = &InputError{Path: src.Path, Line: base + j.line + 1,
						Err: fmt.Errorf("%q: %s (a protect list must be read whole)", rawText(b.buf[j.r0:j.r1]), j.why.Help())}
				} else {
					more++
				}
			}
			for _, t := range b.idents {
				ps.entries = append(ps.entries, protectEntry{lo: t.num, hi: t.num, list: i, line: base + t.line + 1})
			}
			for _, r := range b.patterns {
				ln := base + r.Line + 1
				ps.entries = append(ps.entries, protectEntry{lo: r.Lo, hi: r.Hi, list: i, line: ln, text: r.Text})
				rs = append(rs, Range{Lo: r.Lo, Hi: r.Hi})
			}
			return nil
		})
		switch {
		case err != nil && opts.AllowEmpty && IsEmptyInput(err):
			continue
		case err != nil:
			return nil, err
		case bad != nil && more > 0:
			bad.Err = fmt.Errorf("%w; and %d more unreadable line(s)", bad.Err, more)
			return nil, bad
		case bad != nil:
			return nil, bad
		}
	}
	for _, e := range ps.entries {
		if e.text == "" {
			rs = append(rs, Range{Lo: e.lo, Hi: e.hi})
		}
	}
	ps.union = coalesce(rs)
	return ps, nil
}

// readProtect reads the job's protect lists, before the sources: a list
// that cannot be read fails the job before the work. nil without any.
func (j *Job) readProtect(ctx context.Context) (*protectSet, error) {
	if len(j.Protect) == 0 {
		return nil, nil
	}
	if j.Kind != shard.KindBlock {
		return nil, &UsageError{"protect lists apply to blocking builds: an identification build labels numbers, and may rightly label protected ones"}
	}
	stdin := 0
	for _, s := range slices.Concat(j.Sources, j.Allow, j.Protect) {
		if s.Path == "-" {
			stdin++
		}
	}
	if stdin > 1 {
		return nil, &UsageError{"stdin (-) given more than once"}
	}
	return readProtect(ctx, j.Options, j.Protect)
}

// scanInput reads src through the block pipeline as a list of the role is
// read ("protect", or "source" to find numbers again) and hands fn each
// block in order, with base, the lines before it: its numbers with their
// lines (b.idents: the list is read as an identification source with a
// fixed label, which keeps each number's line), its patterns (Line
// relative to the block) and its rejects. Nothing is collected: fn keeps
// what it needs. fn may return errStopScan to end the reading early.
func scanInput(ctx context.Context, opts Options, src Source, role string, fn func(b *tblock, base int64) error) error {
	in, err := openInput(src.Path, src.Format, src.Encoding, opts.Stdin)
	if err != nil {
		return err
	}
	defer in.close()
	if in.format == FormatRanges {
		return &InputError{Path: src.Path, Err: errors.New("a register of ranges cannot be a protect list: give its numbers, patterns or ranges as a text list")}
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	o := opts
	o.Kind = shard.KindBlock // a pattern line is a range, whatever the build's kind
	o.OnReject, o.OnConflict, o.Progress = nil, nil, nil
	c := &compilation{opts: o, ctx: ctx, cancel: cancel, labelID: map[string]uint32{}, srcPatterns: make([]int64, 1)}
	src.Label, src.LabelColumn = scanLabel, ""
	r := &sourceRead{c: c, in: in, src: src, role: role, ident: true, total: -1,
		header: newCSVHeader(src, in.format, true), st: &shard.InputStats{}, reasons: make([]int64, e164.NumReasons),
		checkUTF8: src.Encoding.checked(in.format)}
	workers := r.workers()
	var base int64
	prodErr, err := orderedPipeline(ctx, stages[*tblock]{
		seq:     func(b *tblock) int { return b.seq },
		produce: r.produce,
		work:    func(w int, b *tblock) error { return workers[w].work(b) },
		done:    func(w int) error { return workers[w].flush() },
		consume: func(b *tblock) error {
			err := fn(b, base)
			base += b.lines
			tblockPool.Put(b)
			return err
		},
	})
	var ie *InputError
	switch {
	case errors.Is(err, errStopScan):
		return nil
	case err != nil:
		return err
	case errors.As(prodErr, &ie):
		return prodErr
	case prodErr != nil && !errors.Is(prodErr, context.Canceled):
		return &InputError{Path: src.Path, Line: base + 1, Err: readErr(prodErr, in.gzip)}
	case ctx.Err() != nil:
		return ctx.Err()
	}
	return nil
}

// errStopScan ends a scanInput early: what was looked for is found.
var errStopScan = errors.New("scan stopped")

// protectCursor answers for numbers that never go down from one call to
// the next, moving through the protected union once (as allowCursor does
// for the allowlist).
type protectCursor struct {
	u intervals
	k int // the first interval not below the last number asked
}

// has reports whether n is protected.
func (c *protectCursor) has(n int64) bool {
	for c.k < len(c.u) && c.u[c.k][1] < n {
		c.k++
	}
	return c.k < len(c.u) && c.u[c.k][0] <= n
}

// none reports whether no number of [lo, hi] is protected.
func (c *protectCursor) none(lo, hi int64) bool {
	for c.k < len(c.u) && c.u[c.k][1] < lo {
		c.k++
	}
	return c.k >= len(c.u) || c.u[c.k][0] > hi
}

// each calls fn with the runs of ns (ascending, each not below the last
// number asked) that are protected, in order: for each protected interval
// that meets ns, the entries inside it, found by binary search (a short
// protect list costs a few steps a block, not a test an entry).
func (c *protectCursor) each(ns []int64, fn func([]int64)) {
	last := ns[len(ns)-1]
	for !c.none(ns[0], last) {
		iv := c.u[c.k]
		i, _ := slices.BinarySearch(ns, iv[0])
		j, found := slices.BinarySearch(ns[i:], iv[1])
		if found {
			j++
		}
		if j > 0 {
			fn(ns[i : i+j])
		}
		ns = ns[i+j:] // empty when the interval goes on into the next block
		if len(ns) == 0 {
			return
		}
	}
}

// past reports whether every protected number is below n.
func (c *protectCursor) past(n int64) bool {
	return len(c.u) == 0 || c.u[len(c.u)-1][1] < n
}

// protectBlock is how many entries find decodes at a time.
const protectBlock = 4096

// find walks the sorted entries and returns the first MaxProtectedShown
// protected ones and how many there are. The entries are decoded a block
// at a time and a block that no protected number falls in is passed over
// whole; the walk ends past the last protected number. With more than one
// core the entries are cut into as many spans, walked at once.
func (p *protectSet) find(ctx context.Context, ents Entries) ([]int64, int64, error) {
	n := ents.Len()
	if len(p.union) == 0 || n == 0 {
		return nil, 0, nil
	}
	parts := max(1, min(runtime.GOMAXPROCS(0), n/(16*protectBlock)))
	type found struct {
		first []int64
		count int64
		err   error
	}
	res := make([]found, parts)
	walk := func(i int) {
		f := &res[i]
		cur := protectCursor{u: p.union}
		buf := make([]int64, protectBlock)
		start, end := n*i/parts, n*(i+1)/parts
		f.err = ents.Span(start, end, buf, func(ns []int64) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			if cur.past(ns[0]) {
				return errStopScan
			}
			cur.each(ns, func(hit []int64) {
				f.count += int64(len(hit))
				if k := MaxProtectedShown - len(f.first); k > 0 {
					f.first = append(f.first, hit[:min(k, len(hit))]...)
				}
			})
			return nil
		})
		if errors.Is(f.err, errStopScan) {
			f.err = nil
		}
	}
	if parts == 1 {
		walk(0)
	} else {
		done := make(chan struct{}, parts)
		for i := range parts {
			go func() { walk(i); done <- struct{}{} }()
		}
		for range parts {
			<-done
		}
	}
	var first []int64
	var count int64
	for _, f := range res {
		if f.err != nil {
			return nil, 0, f.err
		}
		count += f.count
		first = append(first, f.first[:min(len(f.first), MaxProtectedShown-len(first))]...)
	}
	return first, count, nil
}

// origin is the first protect line (in list, then line order) that
// protects n.
func (p *protectSet) origin(n int64) protectEntry {
	for _, e := range p.entries {
		if e.lo <= n && n <= e.hi {
			return e
		}
	}
	return protectEntry{list: -1}
}

// explain makes the error for the protected numbers first (of count):
// each with its protect line and, from find, its source.
func (p *protectSet) explain(nums []int64, count int64, find func([]int64) []Protected) *ProtectedError {
	out := find(nums)
	for i := range out {
		if e := p.origin(out[i].Number); e.list >= 0 {
			out[i].ProtectSource, out[i].ProtectLine, out[i].ProtectPattern = p.lists[e.list], e.line, e.text
		}
	}
	return &ProtectedError{Numbers: out, Count: count}
}

// checkProtected refuses a compiled blocking result whose entries hold a
// protected number, naming where each of the first came from (opts'
// sources, read again for them only).
func (p *protectSet) checkProtected(ctx context.Context, opts Options, res *Result) error {
	if p == nil {
		return nil
	}
	first, count, err := p.find(ctx, res.Entries())
	if err != nil || count == 0 {
		return err
	}
	return p.explain(first, count, func(nums []int64) []Protected {
		return locate(ctx, opts, res.Patterns, nums)
	})
}

// locate finds where each of nums (ascending, at most MaxProtectedShown)
// came from, as the merge attributes a number: the first source, in
// order, whose list holds it, at its first line; else the first pattern
// or range that blocks it. Only then is the cost paid: the sources are
// read again, one after the other until every number is found. A source
// that cannot be read again is passed over (the refusal stands); standard
// input cannot be, so a number found nowhere else is put down to "-".
func locate(ctx context.Context, opts Options, patterns []shard.PatternInfo, nums []int64) []Protected {
	out := make([]Protected, len(nums))
	left := map[int64]int{} // number → its index in out, until found
	for i, n := range nums {
		out[i].Number = n
		left[n] = i
	}
	stdin := false
	for _, src := range opts.Sources {
		if len(left) == 0 {
			break
		}
		if src.Path == "-" {
			stdin = true
			continue
		}
		if src.Format == FormatRanges || detectFormat(src.Path, src.Format) == FormatRanges {
			continue // its rows are ranges: in patterns
		}
		found := map[int64]int64{}
		scanInput(ctx, opts, src, "source", func(b *tblock, base int64) error {
			for _, t := range b.idents {
				if _, ok := left[t.num]; ok {
					if _, seen := found[t.num]; !seen {
						found[t.num] = base + t.line + 1
					}
				}
			}
			if len(found) == len(left) {
				return errStopScan
			}
			return nil
		})
		for n, ln := range found {
			i := left[n]
			out[i].Source, out[i].Line = src.Path, ln
			delete(left, n)
		}
	}
	for n, i := range left {
		for _, pt := range patterns {
			if pt.First <= n && n <= pt.Last {
				out[i].Source, out[i].Line, out[i].Pattern = pt.Source, pt.Line, pt.Pattern
				delete(left, n)
				break
			}
		}
	}
	if stdin {
		for _, i := range left {
			out[i].Source = "-"
		}
	}
	return out
}

// CheckProtected checks the existing blocking build in dir against the
// protect lists, as compile does before it writes one (publish calls it
// before a build goes out): a *ProtectedError names the first protected
// numbers the build blocks. A number is put down to the build's pattern
// that holds it (its manifest's patterns), else to its shard file. The
// lists are read with norm, or when nil with the region and accept policy
// the build was compiled with (its manifest's options). Every shard is
// verified against the manifest as it is read.
func CheckProtected(ctx context.Context, dir string, protect []Source, norm *e164.Normalizer) error {
	root, err := shard.OpenBuildRoot(dir)
	if err != nil {
		return err
	}
	defer root.Close()
	m, err := shard.ReadManifestIn(root)
	if err != nil {
		return err
	}
	for _, s := range m.Shards {
		if s.Kind != shard.KindBlock.String() {
			return &UsageError{fmt.Sprintf("%s: %s holds %s entries: protect lists apply to blocking builds", dir, s.File, s.Kind)}
		}
	}
	if norm == nil {
		policy, err := e164.ParsePolicy(m.Options.Accept)
		if err == nil {
			norm, err = e164.New(m.Options.Region, policy)
		}
		if err != nil {
			return fmt.Errorf("%s: manifest options: %w", dir, err)
		}
	}
	p, err := readProtect(ctx, Options{Normalizer: norm, Kind: shard.KindBlock}, protect)
	if err != nil {
		return err
	}
	var first []int64
	var count int64
	shardOf := map[int64]string{}
	for _, s := range m.Shards {
		if err := ctx.Err(); err != nil {
			return err
		}
		cur := protectCursor{u: p.union} // a shard is ascending; the build need not be across them
		err := shard.EachInShard(root, s, func(n int64, _ string) error {
			if cur.has(n) {
				count++
				if len(first) < MaxProtectedShown {
					first = append(first, n)
					shardOf[n] = s.File
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	if count == 0 {
		return nil
	}
	e := p.explain(first, count, func(nums []int64) []Protected {
		out := make([]Protected, len(nums))
		for i, n := range nums {
			out[i] = Protected{Number: n, Source: dir + string(os.PathSeparator) + shardOf[n]}
			for _, pt := range m.Patterns {
				if pt.First <= n && n <= pt.Last {
					out[i].Source, out[i].Line, out[i].Pattern = pt.Source, pt.Line, pt.Pattern
					break
				}
			}
		}
		return out
	})
	e.Build = dir
	return e
}
