package compiler

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/calldir/calldir/compiler/bench/gen"

	"github.com/calldir/calldir/e164"
	"github.com/calldir/calldir/shard"
)

// The tests here compare the block pipeline (Compile) with the reference
// reader (compile with refRead, reference_test.go), the sequential line
// reader it replaced: the same inputs must give the same errors, totals,
// input statistics, patterns, entries, labels, conflicts and rejects (in
// the same order), whatever the block size.

// sweep is short, or long under the build tag long (go test -tags long):
// the sizes of the differential sweeps (sweeps_short_test.go).
func sweep[T any](short, long T) T {
	if longSweeps {
		return long
	}
	return short
}

// blockSizes are the block sizes tried: tiny ones (1; under the build tag
// long, 7 and 64 too) put a cut after nearly every read, MaxLineBytes (and
// 4096) meets lines near the limit, and 0 stands for the default.
var blockSizes = sweep([]int{1, 300, MaxLineBytes, 0}, []int{1, 7, 64, 300, 4096, MaxLineBytes, 0})

// Regression cases for differences this test found (fixed in a125127):
//
//   - blocks.go: with blockBytes below MaxLineBytes, readBlocks spun without
//     reading once a carried line start was blockBytes or longer (the
//     smallest case: "+1 212 555 0123" without final newline, blockBytes 7):
//     TestBlockTinyBlock and every case at the small sizes.
//   - blocks.go: a read error (truncated gzip) dropped the block being
//     filled, so the error named its first line (line 1 for a file under
//     1 MiB), or the line after a too-long line: TestBlockTruncatedGzip.
//   - input.go: the line reader's limit was 256 KiB for uncompressed input
//     (bufio.NewReaderSize returned openInput's 256 KiB reader): the limit-*
//     cases, file form.
//   - input.go: in gzip input, a last line of exactly MaxLineBytes without
//     newline filled the buffer together with io.EOF and was read as a
//     number: the last-line-65536* cases, gz form.

// setBlockBytes sets the block size for one compile; the default comes
// back when the test ends. bb 0 keeps the default size.
func setBlockBytes(t *testing.T, bb int) {
	t.Helper()
	old := blockBytes
	t.Cleanup(func() { blockBytes = old })
	if bb > 0 {
		blockBytes = bb
	}
}

var defaultBlockBytes = blockBytes

func blockNormalizer(t testing.TB, region string) *e164.Normalizer {
	t.Helper()
	n, err := e164.New(region, e164.PolicyPossible)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// blockRun is everything a compile shows.
type blockRun struct {
	err      error
	totals   shard.Totals
	inputs   []shard.InputStats
	patterns []shard.PatternInfo
	entries  []int64
	rejects  []Reject
	progress []Progress

	// identify
	labels    []string // the label of each entry
	table     []string
	conflicts []Conflict
}

// compileTimeout bounds one compile: the inputs here take at most about
// a second (small reads of 64 KiB lines at block sizes of a few bytes),
// so a compile that reaches it is stuck (the block reader checks its
// context on every block, which ends a stuck loop there). It leaves room
// for a machine loaded by the other packages' tests.
const compileTimeout = 30 * time.Second

// The readers runCompile compiles with.
const (
	pipeline  = false // Compile: the block pipeline
	reference = true  // compile with refRead
)

// runCompile compiles opts with the block pipeline (at block size bb) or
// the reference reader (ref). stdin, when set, makes the reader given as
// Options.Stdin.
func runCompile(t *testing.T, ref bool, bb int, opts Options, stdin func() io.Reader) blockRun {
	t.Helper()
	setBlockBytes(t, bb)
	var run blockRun
	var mu sync.Mutex
	opts.OnReject = func(r Reject) { run.rejects = append(run.rejects, r) }
	opts.OnConflict = func(c Conflict) { run.conflicts = append(run.conflicts, c) }
	opts.Progress = func(p Progress) {
		mu.Lock()
		run.progress = append(run.progress, p)
		mu.Unlock()
	}
	if stdin != nil {
		opts.Stdin = stdin()
	}
	ctx, cancel := context.WithTimeout(context.Background(), compileTimeout)
	defer cancel()
	start := time.Now()
	read := (*compilation).read
	if ref {
		read = refRead
	}
	res, err := compile(ctx, opts, read)
	if errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("reference=%v blockBytes=%d: compile stuck for %v (context deadline)", ref, blockBytes, time.Since(start).Round(time.Millisecond))
	}
	mu.Lock()
	defer mu.Unlock()
	if err != nil {
		run.err = err
		return run
	}
	defer func() {
		if err := res.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	}()
	run.totals, run.inputs, run.patterns = res.Totals, res.Inputs, res.Patterns
	run.table = res.Table
	for _, l := range res.Labels {
		run.labels = append(run.labels, res.Table[l])
	}
	run.entries = make([]int64, 0, res.Len())
	if err := res.Entries().Each(func(i int, n int64) error {
		if i != len(run.entries) {
			return fmt.Errorf("Each gave index %d after %d entries", i, len(run.entries))
		}
		run.entries = append(run.entries, n)
		return nil
	}); err != nil {
		t.Errorf("Entries: %v", err)
	}
	if int64(len(run.entries)) != res.Totals.Entries || len(run.entries) != res.Len() {
		t.Errorf("%d entries, Totals.Entries %d, Len %d", len(run.entries), res.Totals.Entries, res.Len())
	}
	return run
}

// checkProgress checks that a run's progress never goes back within a
// source: lines and bytes only grow, bytes stay within the size.
func checkProgress(t *testing.T, what string, ps []Progress) {
	t.Helper()
	var last Progress
	for i, p := range ps {
		if i > 0 && p.Source == last.Source {
			if p.Lines < last.Lines {
				t.Errorf("%s: progress lines went back: %+v after %+v", what, p, last)
			}
			if p.Bytes < last.Bytes {
				t.Errorf("%s: progress bytes went back: %+v after %+v", what, p, last)
			}
		}
		if p.Lines < 0 || (p.TotalBytes >= 0 && p.Bytes > p.TotalBytes) {
			t.Errorf("%s: progress out of range: %+v", what, p)
		}
		last = p
	}
}

// compareRuns reports every difference between the reference's run
// (want) and the block pipeline's (got).
func compareRuns(t *testing.T, want, got blockRun) {
	t.Helper()
	checkProgress(t, "reference", want.progress)
	checkProgress(t, "pipeline", got.progress)
	if (want.err == nil) != (got.err == nil) || (want.err != nil && want.err.Error() != got.err.Error()) {
		t.Errorf("error:\n reference: %v\n pipeline:  %v", want.err, got.err)
	}
	if want.err != nil || got.err != nil {
		return
	}
	if want.totals != got.totals {
		t.Errorf("totals:\n reference: %+v\n pipeline:  %+v", want.totals, got.totals)
	}
	if len(want.inputs) != len(got.inputs) {
		t.Errorf("%d inputs, want %d", len(got.inputs), len(want.inputs))
	} else {
		for i := range want.inputs {
			if !reflect.DeepEqual(want.inputs[i], got.inputs[i]) {
				t.Errorf("input %d:\n reference: %+v\n pipeline:  %+v", i, want.inputs[i], got.inputs[i])
			}
		}
	}
	if !reflect.DeepEqual(want.patterns, got.patterns) {
		t.Errorf("patterns:\n reference: %+v\n pipeline:  %+v", want.patterns, got.patterns)
	}
	if d := firstDiff(len(want.entries), len(got.entries), func(i int) bool { return want.entries[i] == got.entries[i] }); d >= 0 {
		t.Errorf("entries: %d in the reference, %d in the pipeline; first difference at %d: %v vs %v",
			len(want.entries), len(got.entries), d, at(want.entries, d), at(got.entries, d))
	}
	if !slices.Equal(want.labels, got.labels) {
		d := firstDiff(len(want.labels), len(got.labels), func(i int) bool { return want.labels[i] == got.labels[i] })
		t.Errorf("labels: %d in the reference, %d in the pipeline; first difference at %d: %v vs %v",
			len(want.labels), len(got.labels), d, at(want.labels, d), at(got.labels, d))
	}
	if !slices.Equal(want.table, got.table) {
		t.Errorf("label tables differ: %d labels in the reference, %d in the pipeline", len(want.table), len(got.table))
	}
	if d := firstDiff(len(want.conflicts), len(got.conflicts), func(i int) bool { return want.conflicts[i] == got.conflicts[i] }); d >= 0 {
		t.Errorf("conflicts: %d in the reference, %d in the pipeline; first difference at %d: %+v vs %+v",
			len(want.conflicts), len(got.conflicts), d, at(want.conflicts, d), at(got.conflicts, d))
	}
	if d := firstDiff(len(want.rejects), len(got.rejects), func(i int) bool { return want.rejects[i] == got.rejects[i] }); d >= 0 {
		t.Errorf("rejects: %d in the reference, %d in the pipeline; first difference at %d:\n reference: %s\n pipeline:  %s",
			len(want.rejects), len(got.rejects), d, showReject(want.rejects, d), showReject(got.rejects, d))
	}
}

// firstDiff is the first index where two sequences differ, or -1.
func firstDiff(n, m int, same func(int) bool) int {
	for i := 0; i < min(n, m); i++ {
		if !same(i) {
			return i
		}
	}
	if n != m {
		return min(n, m)
	}
	return -1
}

func at[T any](s []T, i int) any {
	if i < len(s) {
		return s[i]
	}
	return "(none)"
}

func showReject(rs []Reject, i int) string {
	if i >= len(rs) {
		return "(none)"
	}
	r := rs[i]
	return fmt.Sprintf("%s:%d %s %q", r.Source, r.Line, r.Reason, r.Raw)
}

// blockSrc is one input of a case.
type blockSrc struct {
	name  string // file name; "-" reads data from Options.Stdin
	data  []byte
	gz    bool // write data gzip-compressed
	allow bool // an allowlist rather than a source
	norm  string
	chunk int // stdin: reads return at most this many bytes (random sizes), 0 = all

	format Format // Source.Format
	column string // Source.Column
	label  string // Source.Label (identify)
	lcol   string // Source.LabelColumn (identify)
}

type blockCase struct {
	name   string
	srcs   []blockSrc
	memory int64
	kind   shard.Kind // KindBlock when zero
	noGz   bool       // no all-gzip variant
	err    bool       // the compile fails (with the same message in both)
}

// build writes a case's files into dir, every one gzipped when allGz is
// set, and returns its options and stdin maker.
func (bc blockCase) build(t *testing.T, dir string, allGz bool) (Options, func() io.Reader) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	kind := bc.kind
	if kind == 0 {
		kind = shard.KindBlock
	}
	opts := Options{Kind: kind, Normalizer: blockNormalizer(t, "US"), MaxPerShard: shard.DefaultMaxPerShard, TempDir: dir, Memory: bc.memory}
	var stdin func() io.Reader
	for i, s := range bc.srcs {
		data := s.data
		if s.gz || allGz {
			data = gzipBytes(t, data)
		}
		src := Source{Path: s.name, Format: s.format, Column: s.column, Label: s.label, LabelColumn: s.lcol}
		if s.name == "-" {
			chunk, seed := s.chunk, uint64(i)
			stdin = func() io.Reader {
				if chunk == 0 {
					return bytes.NewReader(data)
				}
				return &chunkReader{data: data, max: chunk, r: rand.New(rand.NewPCG(seed, 7))}
			}
		} else {
			src.Path = filepath.Join(dir, s.name)
			if err := os.WriteFile(src.Path, data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if s.norm != "" {
			src.Normalizer = blockNormalizer(t, s.norm)
		}
		if s.allow {
			opts.Allow = append(opts.Allow, src)
		} else {
			opts.Sources = append(opts.Sources, src)
		}
	}
	return opts, stdin
}

// anonRun drops from a run what tells a file from its gzip form: paths
// (down to their base name), hashes, sizes, formats and progress.
func anonRun(r blockRun) blockRun {
	out := r
	out.progress = nil
	out.inputs = nil
	for _, in := range r.inputs {
		in.Path = filepath.Base(in.Path)
		in.SHA256, in.Bytes = "", 0
		in.Format = strings.TrimSuffix(in.Format, "+gzip")
		out.inputs = append(out.inputs, in)
	}
	out.conflicts = nil
	for _, c := range r.conflicts {
		c.Source, c.KeptSource = filepath.Base(c.Source), filepath.Base(c.KeptSource)
		out.conflicts = append(out.conflicts, c)
	}
	out.rejects = nil
	for _, rj := range r.rejects {
		rj.Source = filepath.Base(rj.Source)
		out.rejects = append(out.rejects, rj)
	}
	out.patterns = nil
	for _, p := range r.patterns {
		p.Source = filepath.Base(p.Source)
		out.patterns = append(out.patterns, p)
	}
	return out
}

// chunkReader returns its data in reads of random sizes up to max.
type chunkReader struct {
	data []byte
	max  int
	r    *rand.Rand
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if len(c.data) == 0 {
		return 0, io.EOF
	}
	n := min(1+c.r.IntN(c.max), len(p), len(c.data))
	copy(p, c.data[:n])
	c.data = c.data[n:]
	return n, nil
}

func gzipBytes(t testing.TB, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// longLine is a line of exactly n content bytes (its '\r' included when cr
// is set), without the '\n'. Filled with spaces after a number it is a
// valid number once trimmed, if it is not too long.
func longLine(kind string, n int, cr bool) []byte {
	var head string
	fill := byte(' ')
	switch kind {
	case "space":
		head = "+1 212 555 0142"
	case "x":
		head, fill = "x", 'x'
	case "digits":
		head, fill = "1", '1'
	case "comment":
		head, fill = "#", '#'
	case "utf8": // two-byte runes, so that cuts fall inside one
		head, fill = "é", 0
	case "bom":
		head, fill = "\uFEFF+1 212 555 0143", ' '
	default:
		panic(kind)
	}
	b := make([]byte, 0, n)
	b = append(b, head...)
	for len(b) < n {
		if fill == 0 {
			b = append(b, "é"...)
		} else {
			b = append(b, fill)
		}
	}
	b = b[:n]
	if cr && n > 0 {
		b[n-1] = '\r'
	}
	return b
}

// lines joins lines with sep, and ends with sep when final is set.
func lines(sep string, final bool, ls ...string) []byte {
	s := strings.Join(ls, sep)
	if final {
		s += sep
	}
	return []byte(s)
}

// shortLines are the everyday lines of the handmade cases.
var shortLines = []string{
	"+1 212 555 0123",
	"(212) 555-0124",
	"212.555.0125",
	"",
	"# a comment",
	"   # an indented comment",
	"2125550126 # trailing comment",
	"2125550127\t#\ttab comment",
	"2125550128 #",
	"212#5550129",
	"   +1 415 555 0100   ",
	"\t\t+1 415 555 0101\t",
	"+44 20 7946 0000",
	"+33 1 23 45 67 89",
	"hello",
	"12",
	"+999 123 4567",
	"N/A",
	"212-555-0123 x12",
	"+1 212 555 0130 ext. 45",
	"+1 212 555 0131;ext=9",
	"+33 162 00####",
	"+33 162 ##1",
	"+1 212 555 01##  # a pattern with a comment",
	"+33162000000..+33162000999",
	"12..5",
	"+999 ####",
	"1-800-FLOWERS",
	"   ",
	"\u00a0+1 212 555 0132\u00a0",
	"\u2003+1 212 555 0133\u3000",
	"\u3000\u3000",
	"\u00a0# comment after a no-break space",
	"\u3000212 555 0134 # comment",
	"\u0085+1 212 555 0135\u0085",
	"212\xff555\xfe0136",
	"\uFEFF+1 212 555 0137",
	"+1 212 555 0123",
	"2125550124",
}

func handmadeCases() []blockCase {
	sl := shortLines
	var cs []blockCase
	add := func(name string, data []byte) {
		cs = append(cs, blockCase{name: name, srcs: []blockSrc{{name: "in.txt", data: data}}})
	}
	add("lf", lines("\n", true, sl...))
	add("crlf", lines("\r\n", true, sl...))
	add("lf-no-final-newline", lines("\n", false, sl...))
	add("crlf-no-final-newline", lines("\r\n", false, sl...))
	add("only-newlines", []byte("\n\n\r\n\n"))
	add("one-line-no-newline", []byte("+1 212 555 0123"))
	add("one-cr", []byte("+1 212 555 0123\r"))
	add("bom-lf", append([]byte("\uFEFF"), lines("\n", true, sl...)...))
	add("bom-crlf-no-final-newline", append([]byte("\uFEFF"), lines("\r\n", false, sl...)...))
	add("bom-alone-on-line-1", lines("\r\n", true, "\uFEFF", "\uFEFF", "+1 212 555 0123"))
	add("bom-comment-line-1", lines("\n", true, "\uFEFF# list", "\uFEFF# not line 1", "2125550100"))
	add("bom-pattern-line-1", lines("\n", true, "\uFEFF+33 162 00####", "2125550100"))
	// Patterns of a million numbers each (file form only: their entries
	// cost the time).
	cs = append(cs, blockCase{name: "patterns-million", noGz: true, srcs: []blockSrc{{name: "in.txt", data: lines("\r\n", false,
		"+33 162 ######", "+33 1 62 XX XX XX # a comment", "+33162000000..+33162999999", "+33 162 ##1", "+33 162 xxxxxx", "+999 ####", "+1 212 555 0123")}}})
	add("bom-then-spaces", lines("\n", true, "\uFEFF \u3000 +1 212 555 0123 \u00a0", "x"))
	add("bom-only", []byte("\uFEFF"))
	add("bom-cr-only", []byte("\uFEFF\r"))
	add("cr-in-lines", lines("\n", false, "212\r5550140", "\r\r", "\r", "+1 212 555 0141\r\r", "\r# comment", "2125550142 #\r"))
	// A NUL byte past the part sniffed for binary data is a line like any.
	add("nul-after-sniff", lines("\n", true, append(strings.Split(strings.Repeat("+1 212 555 0143\n", 600), "\n"), "212\x00555\x000144", "\x00", "2125550145")...))

	// Lines around the limit, with and without '\r', and kinds of content.
	for _, cr := range []bool{false, true} {
		for _, kind := range []string{"space", "x", "utf8", "comment", "digits"} {
			var ls []string
			for _, n := range []int{MaxLineBytes - 2, MaxLineBytes - 1, MaxLineBytes, MaxLineBytes + 1, MaxLineBytes + 2} {
				ls = append(ls, "+1 212 555 0150", string(longLine(kind, n, cr)))
			}
			ls = append(ls, "+1 212 555 0151")
			name := fmt.Sprintf("limit-%s-cr=%v", kind, cr)
			add(name, lines("\n", true, ls...))
			add(name+"-adjacent", lines("\n", true, ls[1], ls[3], ls[5], ls[7], ls[9], ls[1], ls[3]))
		}
	}
	for _, n := range []int{MaxLineBytes - 1, MaxLineBytes, MaxLineBytes + 1} {
		add(fmt.Sprintf("last-line-%d-no-newline", n), append(lines("\n", true, sl[:5]...), longLine("space", n, false)...))
		add(fmt.Sprintf("last-line-%d-cr-no-newline", n), append(lines("\n", true, sl[:5]...), longLine("space", n, true)...))
		add(fmt.Sprintf("only-line-%d-no-newline", n), longLine("x", n, false))
		add(fmt.Sprintf("bom-line-1-%d", n), lines("\n", true, string(longLine("bom", n, false)), "+1 212 555 0123"))
	}
	// Too-long lines at the very start, adjacent to each other.
	add("too-long-at-start", lines("\n", true,
		string(longLine("x", MaxLineBytes, false)), string(longLine("x", MaxLineBytes+1, true)),
		string(longLine("space", 100_000, false)), "+1 212 555 0123", string(longLine("x", 70_000, false))))
	add("too-long-at-start-crlf", lines("\r\n", false,
		string(longLine("x", MaxLineBytes+5, false)), string(longLine("utf8", 2*MaxLineBytes, false)), "+1 212 555 0123"))
	// 3 MB lines in the middle and last.
	huge := string(longLine("digits", 3<<20, false))
	add("huge-middle", lines("\n", true, append(append(slices3(sl), huge), sl...)...))
	add("huge-middle-crlf", lines("\r\n", true, append(append(slices3(sl), huge), sl...)...))
	add("huge-last-no-newline", lines("\n", false, append(slices3(sl), huge)...))
	add("huge-last-newline", lines("\n", true, append(slices3(sl), huge)...))
	add("huge-first-and-last", lines("\n", false, huge, "+1 212 555 0123", huge))
	add("huge-then-long", lines("\n", true, huge, string(longLine("x", MaxLineBytes, false)), string(longLine("space", MaxLineBytes-1, false)), "x"))

	// Every case also runs gzipped (the variant gz); gzip is detected by
	// content whatever the name.
	cs = append(cs, blockCase{name: "gzip-named-dat", noGz: true, srcs: []blockSrc{{name: "in.dat", gz: true, data: lines("\r\n", false, sl...)}}})
	return cs
}

// slices3 is a copy of s, so that appends do not share.
func slices3(s []string) []string { return append([]string(nil), s...) }

// genBlockInput writes a random input of n lines mixing every kind of
// line, with (when long is set) a few near the length limit or beyond it.
// The same seed gives the same bytes.
func genBlockInput(seed uint64, n int, long bool) []byte {
	r := rand.New(rand.NewPCG(seed, 0xb10c))
	var b bytes.Buffer
	if r.IntN(2) == 0 {
		b.WriteString("\uFEFF")
	}
	spaces := []string{" ", "\t", "\u00a0", "\u2003", "\u3000", "  ", ""}
	sp := func() string {
		if r.IntN(3) == 0 {
			return spaces[r.IntN(len(spaces))]
		}
		return ""
	}
	crlf := r.IntN(3) // 0: LF, 1: CRLF, 2: mixed
	var scratch []byte
	for i := 0; i < n; i++ {
		var line string
		switch k := r.IntN(100); {
		case k < 45:
			scratch = gen.AppendUS(scratch[:0], int64(gen.Areas[r.IntN(len(gen.Areas))])*10_000_000+int64(200+r.IntN(800))*10_000+int64(r.IntN(10_000)), r.IntN(8))
			line = string(scratch)
		case k < 55:
			g := gen.IntlShapes[r.IntN(len(gen.IntlShapes))]
			s := []byte(g.Prefix)
			for d := 0; d < g.Digits; d++ {
				s = append(s, byte('0'+r.IntN(10)))
			}
			line = string(s)
		case k < 65:
			line = shortLines[r.IntN(len(shortLines))]
		case k < 70:
			line = ""
		case k < 74:
			line = "# comment " + fmt.Sprint(i)
		case k < 78:
			line = gen.Bad[r.IntN(len(gen.Bad))]
		case k < 82:
			line = fmt.Sprintf("212-555-%04d x%d", r.IntN(10_000), r.IntN(1000))
		case k < 85:
			pats := []string{"+33 162 12 ## ##", "+1 212 555 0###", "+44 20 7946 0###", "+33 162 ##1", "+999 ####", "14155550100..14155550199", "12..5", "+1 ################"}
			line = pats[r.IntN(len(pats))]
		case k < 88:
			line = fmt.Sprintf("+1 212 555 %04d # note %d", r.IntN(10_000), i)
		case k < 90:
			line = "\uFEFF" + fmt.Sprintf("+1 646 555 %04d", r.IntN(10_000))
		case k < 92:
			line = string([]byte{'2', '1', '2', byte(0x80 + r.IntN(0x80)), '5', '5', '5'})
		case k < 93 && long && r.IntN(8) == 0:
			// Near the limit: rare, each is 64 KiB.
			kinds := []string{"space", "x", "utf8", "comment", "digits"}
			line = string(longLine(kinds[r.IntN(len(kinds))], MaxLineBytes-2+r.IntN(5), r.IntN(2) == 0))
		case k < 94 && long && r.IntN(40) == 0:
			line = string(longLine("x", 100_000+r.IntN(200_000), false))
		default:
			line = fmt.Sprintf("%d", r.Int64N(1e15))
		}
		if len(line) < 1000 {
			line = sp() + line + sp()
		}
		b.WriteString(line)
		if i == n-1 && r.IntN(2) == 0 {
			break // no final newline
		}
		if crlf == 1 || (crlf == 2 && r.IntN(2) == 0) {
			b.WriteByte('\r')
		}
		b.WriteByte('\n')
	}
	return b.Bytes()
}

func randomCases() []blockCase {
	var cs []blockCase
	for seed := uint64(1); seed <= sweep[uint64](4, 12); seed++ {
		data := genBlockInput(seed, 2000+int(seed)*1500, true)
		cs = append(cs, blockCase{name: fmt.Sprintf("random-long-%d", seed), srcs: []blockSrc{{name: "in.txt", data: data}}})
	}
	// Without lines near the limit, the small block sizes run too.
	for seed := uint64(5); seed < sweep[uint64](8, 20); seed++ {
		data := genBlockInput(seed, 6000, false)
		cs = append(cs, blockCase{name: fmt.Sprintf("random-short-%d", seed), srcs: []blockSrc{{name: "in.txt", data: data}}})
	}
	// Reads of random small sizes, through stdin, put the block cuts
	// everywhere.
	for i, chunk := range []int{1, 40, 200} {
		seed := uint64(11 + i)
		data := genBlockInput(seed, 3000, false)
		cs = append(cs, blockCase{name: fmt.Sprintf("random-stdin-%d-reads-upto-%d", seed, chunk), srcs: []blockSrc{{name: "-", data: data, chunk: chunk}}})
	}
	cs = append(cs, blockCase{name: "random-stdin-14-long", srcs: []blockSrc{{name: "-", data: genBlockInput(14, 3000, true), chunk: 500}}})
	cs = append(cs, blockCase{name: "stdin-long-lines-small-reads", srcs: []blockSrc{{name: "-", chunk: 997, data: lines("\n", false,
		string(longLine("x", MaxLineBytes, false)), "+1 212 555 0123", string(longLine("space", MaxLineBytes-1, true)),
		string(longLine("x", MaxLineBytes+1, false)), string(longLine("x", 3<<20, false)), "2125550199", string(longLine("space", MaxLineBytes+3, false)))}}})
	// Several sources (one with its own region), an allowlist, and a tiny
	// memory bound that spills runs.
	multi := []blockSrc{
		{name: "a.txt", data: genBlockInput(21, 4000, true)},
		{name: "b.txt.gz", data: genBlockInput(22, 3000, false), gz: true},
		{name: "c.txt", data: lines("\r\n", false, shortLines...), norm: "GB"},
		{name: "d.txt", data: genBlockInput(23, 2000, false)},
		{name: "allow.txt", data: lines("\n", true, "+1 212 555 0123", "2125550124", "+33 1 62 00 00 01", "+1 212 555 0130",
			"+1 212 555 01##", "+33 162 12 0# ##", "+14155550150..+14155550249", "+999 ####", "12..5"), allow: true},
	}
	cs = append(cs, blockCase{name: "multi-source", srcs: multi})
	cs = append(cs, blockCase{name: "multi-source-short-spill", srcs: multi[1:], memory: 64 << 10})
	// An allowlist of every kind of line, patterns included (some inside
	// the sources' patterns, some across their ends).
	cs = append(cs, blockCase{name: "random-allowlist", srcs: []blockSrc{
		{name: "a.txt", data: genBlockInput(31, 3000, false)},
		{name: "allow.txt", data: genBlockInput(32, 1500, false), allow: true},
	}})
	return cs
}

// TestBlocksSameAsReference compiles every case with the reference, then
// with the block pipeline at every block size, and compares: the file as
// written (file), its gzip form (gz), and the pipeline on the file with the
// reference on the gzip form (file-vs-gz: paths, hashes and sizes aside).
func TestBlocksSameAsReference(t *testing.T) {
	start := time.Now()
	cases := append(append(handmadeCases(), randomCases()...), csvCases()...)
	for _, bc := range cases {
		t.Run(bc.name, func(t *testing.T) {
			dir := t.TempDir()
			fileOpts, fileStdin := bc.build(t, filepath.Join(dir, "file"), false)
			refFile := runCompile(t, reference, 0, fileOpts, fileStdin)
			if (refFile.err != nil) != bc.err {
				t.Fatalf("reference: error %v", refFile.err)
			}
			var gzOpts Options
			var gzStdin func() io.Reader
			var refGz blockRun
			if !bc.noGz {
				gzOpts, gzStdin = bc.build(t, filepath.Join(dir, "gz"), true)
				refGz = runCompile(t, reference, 0, gzOpts, gzStdin)
				if (refGz.err != nil) != bc.err {
					t.Fatalf("reference, gzip: error %v", refGz.err)
				}
			}
			for _, bb := range blockSizes {
				name := fmt.Sprintf("bb=%d", bb)
				if bb == 0 {
					name = fmt.Sprintf("bb=default(%d)", defaultBlockBytes)
				}
				t.Run(name, func(t *testing.T) {
					blockFile := runCompile(t, pipeline, bb, fileOpts, fileStdin)
					t.Run("file", func(t *testing.T) {
						compareRuns(t, refFile, blockFile)
					})
					if bc.noGz {
						return
					}
					blockGz := runCompile(t, pipeline, bb, gzOpts, gzStdin)
					t.Run("gz", func(t *testing.T) {
						compareRuns(t, refGz, blockGz)
					})
					if bc.err {
						return
					}
					t.Run("file-vs-gz", func(t *testing.T) {
						compareRuns(t, anonRun(refGz), anonRun(blockFile))
					})
				})
			}
		})
	}
	t.Logf("%d cases in %v", len(cases), time.Since(start).Round(time.Millisecond))
}

// TestBlockProgress: the pipeline reports progress after whole blocks, in
// physical lines (a CSV header counts), and the block size is back to its
// default after a test that changed it.
func TestBlockProgress(t *testing.T) {
	if blockBytes != 1<<20 {
		t.Fatalf("default blockBytes=%d, want 1 MiB", blockBytes)
	}
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		data []byte
		want []int64
	}{
		// 10,000 lines of 12 bytes are one block: one report, at its end.
		{"in.txt", bytes.Repeat([]byte("12125550100\n"), 10_000), []int64{10_000}},
		{"in.csv", append([]byte("phone,name\n"), bytes.Repeat([]byte("12125550100,x\n"), 10_000)...), []int64{10_001}},
	} {
		path := filepath.Join(dir, tc.name)
		if err := os.WriteFile(path, tc.data, 0o644); err != nil {
			t.Fatal(err)
		}
		opts := Options{Sources: []Source{{Path: path}}, Kind: shard.KindBlock, Normalizer: blockNormalizer(t, "US"), MaxPerShard: shard.DefaultMaxPerShard, TempDir: dir}
		run := runCompile(t, pipeline, 0, opts, nil)
		var at []int64
		for _, p := range run.progress {
			at = append(at, p.Lines)
		}
		if run.err != nil || !reflect.DeepEqual(at, tc.want) {
			t.Errorf("%s: error %v, progress at lines %v, want %v", tc.name, run.err, at, tc.want)
		}
	}
	t.Run("changed", func(t *testing.T) { setBlockBytes(t, 7) })
	if blockBytes != 1<<20 {
		t.Errorf("blockBytes not restored: %d", blockBytes)
	}
}

// TestBlockTinyBlock: blocks smaller than a line (a carried line start as
// long as a block once made the reader spin), with and without a final
// newline.
func TestBlockTinyBlock(t *testing.T) {
	for i, data := range []string{
		"+1 212 555 0123",
		"+1 212 555 0123\n2125550124",
		"+1 212 555 0123\r\n2125550124\r\n",
		"\uFEFF+1 212 555 0123 # a comment longer than the block\n+33 162 00 ####",
	} {
		path := filepath.Join(t.TempDir(), "in.txt")
		if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
		opts := Options{Sources: []Source{{Path: path}}, Kind: shard.KindBlock, Normalizer: blockNormalizer(t, "US"), MaxPerShard: shard.DefaultMaxPerShard, TempDir: t.TempDir()}
		for _, bb := range []int{1, 2, 7, 15, 16} {
			t.Run(fmt.Sprintf("%d/bb=%d", i, bb), func(t *testing.T) {
				compareRuns(t, runCompile(t, reference, 0, opts, nil), runCompile(t, pipeline, bb, opts, nil))
			})
		}
	}
}

// TestBlockTruncatedGzip: a gzip file cut short is an error naming the file
// and the line the data ends in, the same in the pipeline as in the
// reference.
func TestBlockTruncatedGzip(t *testing.T) {
	dir := t.TempDir()
	r := rand.New(rand.NewPCG(5, 5))
	var short bytes.Buffer
	for i := 0; i < 60_000; i++ {
		fmt.Fprintf(&short, "+1 212 555 %04d\n", r.IntN(10_000))
	}
	// A long line of random digits: it compresses poorly, so a cut in the
	// middle of the file falls inside it.
	var long bytes.Buffer
	for i := 0; i < 100; i++ {
		fmt.Fprintf(&long, "+1 415 555 %04d\n", r.IntN(10_000))
	}
	for i := 0; i < 3<<20; i++ {
		long.WriteByte(byte('0' + r.IntN(10)))
	}
	long.WriteString("\n+1 212 555 0123\n")
	for _, tc := range []struct {
		name string
		data []byte
		frac float64 // of the compressed bytes kept
	}{
		{"short-lines-half", short.Bytes(), 0.5},
		{"short-lines-most", short.Bytes(), 0.97},
		{"in-a-long-line", long.Bytes(), 0.5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			z := gzipBytes(t, tc.data)
			z = z[:int(float64(len(z))*tc.frac)]
			path := filepath.Join(dir, tc.name+".txt.gz")
			if err := os.WriteFile(path, z, 0o644); err != nil {
				t.Fatal(err)
			}
			opts := Options{Sources: []Source{{Path: path}}, Kind: shard.KindBlock, Normalizer: blockNormalizer(t, "US"), MaxPerShard: shard.DefaultMaxPerShard, TempDir: dir}
			// The line the data ends in: what gzip gives before its error,
			// lines counted.
			zr, err := gzip.NewReader(bytes.NewReader(z))
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(zr)
			if !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Fatalf("reading the truncated gzip: %v, want io.ErrUnexpectedEOF", err)
			}
			wantLine := int64(bytes.Count(got, []byte("\n"))) + 1
			refErr := runCompile(t, reference, 0, opts, nil).err
			if n := pathLineError(t, "reference", refErr, path); n != wantLine {
				t.Errorf("reference: error at line %d, want %d (the data ends in it)", n, wantLine)
			}
			for _, bb := range blockSizes {
				t.Run(fmt.Sprintf("bb=%d", bb), func(t *testing.T) {
					blockErr := runCompile(t, pipeline, bb, opts, nil).err
					if n := pathLineError(t, "pipeline", blockErr, path); n != wantLine {
						t.Errorf("pipeline: error at line %d, want %d (the data ends in it)", n, wantLine)
					}
					if refErr != nil && blockErr != nil && refErr.Error() != blockErr.Error() {
						t.Errorf("error messages differ:\n reference: %v\n pipeline:  %v", refErr, blockErr)
					}
				})
			}
		})
	}
}

// pathLineError checks that err is an *InputError "path:line: gzip: …"
// and returns its line.
func pathLineError(t *testing.T, what string, err error, path string) int64 {
	t.Helper()
	if err == nil {
		t.Errorf("%s: no error for a truncated gzip file", what)
		return 0
	}
	var ie *InputError
	if !errors.As(err, &ie) || ie.Line <= 0 || ie.Path != path {
		t.Errorf("%s: error %v is not an InputError for %s with a line", what, err, path)
		return 0
	}
	if want := fmt.Sprintf("%s:%d: gzip: ", path, ie.Line); !strings.HasPrefix(err.Error(), want) {
		t.Errorf("%s: error %q, want it to start with %q", what, err, want)
	}
	return ie.Line
}

// TestBlockCancel: a context cancelled before Compile, or during it, stops
// the pipeline with its error and leaves no goroutine behind.
func TestBlockCancel(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "in.txt")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := gen.Lines(f, 100_000, 3, gen.Mixed); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	for _, bb := range []int{0, 300} {
		for _, when := range []string{"before", "during"} {
			t.Run(fmt.Sprintf("bb=%d/%s", bb, when), func(t *testing.T) {
				setBlockBytes(t, bb)
				before := runtime.NumGoroutine()
				// The timeout only ends a stuck compile.
				parent, stop := context.WithTimeout(context.Background(), compileTimeout)
				defer stop()
				ctx, cancel := context.WithCancel(parent)
				defer cancel()
				opts := Options{Sources: []Source{{Path: path}}, Kind: shard.KindBlock, Normalizer: blockNormalizer(t, "US"), MaxPerShard: shard.DefaultMaxPerShard, TempDir: dir}
				progress := 0
				if when == "before" {
					cancel()
				} else {
					opts.Progress = func(Progress) {
						progress++
						cancel()
					}
				}
				res, err := Compile(ctx, opts)
				if err == nil {
					res.Close()
					t.Fatalf("no error from a cancelled compile")
				}
				if !errors.Is(err, context.Canceled) {
					t.Errorf("error %v, want context.Canceled", err)
				}
				if when == "during" && progress == 0 {
					t.Errorf("no progress report: the compile was not cancelled during the read")
				}
				deadline := time.Now().Add(2 * time.Second)
				for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
					time.Sleep(5 * time.Millisecond)
				}
				if n := runtime.NumGoroutine(); n > before {
					buf := make([]byte, 1<<16)
					t.Errorf("%d goroutines after a cancelled compile, %d before:\n%s", n, before, buf[:runtime.Stack(buf, true)])
				}
			})
		}
	}
}
