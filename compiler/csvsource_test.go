package compiler

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/calldir/calldir/shard"
)

// CSV and TSV sources: the header, the delimiter, the columns, quotes,
// limits, errors. Every case is compiled with the reference reader and with
// the block pipeline, and compared.

// csvCompare runs one case with the reference and with the block pipeline
// at the given block sizes, file form and (unless noGz) gzip form.
func csvCompare(t *testing.T, bc blockCase, sizes []int) {
	t.Helper()
	dir := t.TempDir()
	forms := []bool{false}
	if !bc.noGz {
		forms = append(forms, true)
	}
	for _, gz := range forms {
		opts, stdin := bc.build(t, filepath.Join(dir, fmt.Sprint(gz)), gz)
		want := runCompile(t, reference, 0, opts, stdin)
		if (want.err != nil) != bc.err {
			t.Fatalf("gz=%v: reference: error %v (want error: %v)", gz, want.err, bc.err)
		}
		for _, bb := range sizes {
			t.Run(fmt.Sprintf("gz=%v/bb=%d", gz, bb), func(t *testing.T) {
				compareRuns(t, want, runCompile(t, pipeline, bb, opts, stdin))
			})
		}
	}
}

var csvSizes = []int{1, 7, 64, 4096, 0}

func TestCSVHandmade(t *testing.T) {
	long := func(n int) string { return string(longLine("x", n, false)) }
	longSp := func(n int) string { return string(longLine("space", n, false)) }
	// A header padded to n bytes with spaces in its last field.
	hdr := func(n int) string {
		s := "phone,name"
		return s + strings.Repeat(" ", n-len(s))
	}
	cases := []struct {
		name   string
		data   []byte
		file   string
		format Format
		column string
		err    bool
	}{
		{name: "header-no-data", data: []byte("phone,name\n"), err: true},
		{name: "header-no-data-no-newline", data: []byte("phone,name"), err: true},
		{name: "header-unknown-no-data", data: []byte("a,b\n\n# x\n"), err: true},
		{name: "header-unknown-guess", data: lines("\n", true, "a,b,c", "x,+1 212 555 0123,y", "2125550124,x,y", "v,2125550125", "v")},
		{name: "header-unknown-first-bad", data: lines("\n", true, "a,b", `x,"2125550123`, "y,2125550124", "2125550125,z", "w")},
		{name: "no-header-first-bad", data: lines("\n", true, `"2125550123,x`, "2125550124,y", "z,2125550125", `"q"r,2125550126`)},
		{name: "first-bad-then-header", data: lines("\n", true, `"2125550123,x`, "phone,name", "2125550124,y")},
		{name: "bom-header-crlf", data: lines("\r\n", false, "\uFEFFphone;name", "\uFEFF2125550123;x", "2125550124;y")},
		{name: "bom-only-line1", data: lines("\n", true, "\uFEFF", "\uFEFFphone,name", "2125550124,y")},
		{name: "quoted-header", data: lines("\n", true, `"Name","Phone Number"`, `"x","+1 (212) 555-0123"`, `"y","212 555 ""0124"`, `"z",`, `"w"`)},
		{name: "settle-last-line-cr", data: []byte("\"x\n\r\n2125550123\r")},
		{name: "settle-then-cr-only", data: []byte("phone\n\r"), err: true},
		{name: "too-long-first", data: lines("\n", true, long(MaxLineBytes), "phone,name", "2125550123,x", long(MaxLineBytes+10), "2125550124,y")},
		{name: "too-long-first-no-header", data: lines("\n", false, long(MaxLineBytes+1), "2125550123,x", long(MaxLineBytes), "2125550124,y")},
		{name: "too-long-after-header", data: lines("\n", true, "phone,name", long(MaxLineBytes), "2125550123,x")},
		{name: "long-header-limit-1", data: lines("\n", true, hdr(MaxLineBytes-1), "2125550123,x", longSp(MaxLineBytes-1), long(MaxLineBytes), "2125550124,y")},
		{name: "long-header-limit", data: lines("\n", true, hdr(MaxLineBytes), "2125550123,x", "2125550124,y")},
		{name: "long-header-limit-crlf", data: lines("\r\n", true, hdr(MaxLineBytes-1), "2125550123,x", "2125550124,y")},
		{name: "long-first-data-limit-1", data: lines("\n", true, "phone,name", "2125550122,"+strings.Repeat("z", MaxLineBytes-12), longSp(MaxLineBytes-1), "2125550123,x")},
		{name: "huge-after-settle", data: lines("\n", false, "phone,name", "2125550122,x", string(longLine("digits", 3<<20, false)), "2125550123,x")},
		{name: "huge-after-settle-last", data: lines("\n", false, "phone,name", "2125550122,x", string(longLine("digits", 3<<20, false)))},
		{name: "column-index-beyond", column: "3", data: lines("\n", true, "2125550122,x", "a,b,2125550123", "a,b,c,d")},
		{name: "column-index-header", column: "2", data: lines("\n", true, "a,b", "x,2125550123", "2125550124")},
		{name: "column-name", column: "Tel", data: lines("\n", true, "tel,phone", "2125550123,x", "x,2125550124")},
		{name: "column-name-no-header", column: "tel", data: lines("\n", true, "2125550123,x"), err: true},
		{name: "column-name-missing", column: "tel", data: lines("\n", true, "a,b", "2125550123,x"), err: true},
		{name: "tsv-explicit", file: "in.txt", format: FormatTSV, data: lines("\n", true, "phone\tname", "2125550123\tx", "a,b\t2125550124", "\"2125550125\"x\ty")},
		{name: "csv-explicit-semicolon", file: "in.dat", format: FormatCSV, data: lines("\n", true, "n;phone", "x;2125550123", "y;\"2125550124;5\"", "z")},
		{name: "cr-inside", data: lines("\n", true, "phone,name", "2125550123\r,x\r", "\r2125550124,y", "\r\r", "\r#c")},
		{name: "comments-spaces", data: lines("\n", true, "  # c", "\t", "phone", " # x", "\u00a0", "\u3000# y", "\u00a0+1 212 555 0123\u00a0", "  ")},
		{name: "ext", data: lines("\n", true, "phone", "212-555-0123 x12", "+1 212 555 0130 ext. 45", "+33 162 ####", "2125550100..2125550199")},
		{name: "last-line-limit-no-newline", data: append([]byte("phone\n2125550123\n"), longLine("space", MaxLineBytes, false)...)},
		{name: "last-line-limit-1-no-newline", data: append([]byte("phone\n2125550123\n"), longLine("space", MaxLineBytes-1, false)...)},
		{name: "last-line-limit-cr-no-newline", data: append([]byte("phone\n2125550123\n"), longLine("space", MaxLineBytes, true)...)},
		{name: "settle-then-limit-no-newline", data: append([]byte("phone\n"), longLine("x", MaxLineBytes, false)...)},
		{name: "bom-after-settle", data: lines("\n", true, "phone", "\uFEFF2125550123", "\uFEFF# c", "2125550124")},
		{name: "bom-settle-line-1", data: lines("\n", true, "\uFEFF2125550123,x", "\uFEFF2125550124,y", "2125550125,z")},
		{name: "header-no-digit-data-like", data: lines("\n", true, "n/a,xx", "a,2125550123", "b,21")},
		{name: "utf8-bad", data: lines("\n", true, "phone,x", "212\xff5550123,\xfe", "\xff,\"\xfe")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			file := tc.file
			if file == "" {
				file = "in.csv"
			}
			bc := blockCase{name: tc.name, err: tc.err, srcs: []blockSrc{{name: file, data: tc.data, format: tc.format, column: tc.column}}}
			csvCompare(t, bc, csvSizes)
			// The same through stdin, in small reads.
			f := tc.format
			if f == "" {
				f = FormatCSV
			}
			bc.noGz = true
			bc.srcs = []blockSrc{{name: "-", data: tc.data, format: f, column: tc.column, chunk: 13}}
			t.Run("stdin", func(t *testing.T) { csvCompare(t, bc, []int{7, 0}) })
		})
	}
}

// TestCSVManyBeforeSettle: more than a batch and more than 4096 lines
// before the parser settles (bad CSV lines), so that the settle loop hands
// batches on and reports progress.
func TestCSVManyBeforeSettle(t *testing.T) {
	var b bytes.Buffer
	for i := range 5000 {
		fmt.Fprintf(&b, "\"212555%04d,x\n", i)
	}
	b.WriteString("a,b\n")
	for i := range 9000 {
		fmt.Fprintf(&b, "x,212555%04d\n", i)
	}
	bc := blockCase{srcs: []blockSrc{{name: "in.csv", data: b.Bytes()}}}
	csvCompare(t, bc, []int{300, 0})
}

// genNastyCSV is a small CSV/TSV of random records made of the bytes that
// matter: quotes, delimiters, CR, spaces, '#', a BOM, digits.
func genNastyCSV(r *rand.Rand, delim byte) []byte {
	var b bytes.Buffer
	if r.IntN(3) == 0 {
		b.WriteString("\uFEFF")
	}
	d := string(delim)
	pieces := []string{`"`, `""`, d, d, "\r", " ", "\t", "#", "\uFEFF", "x", "phone", "a", "+1 212 555 01", "2125550123", "42", "\u00a0", ",", ";"}
	nums := []string{"2125550123", "+1 212 555 0124", `"212,555,0125"`, `"(212) 555-0126"`, "2125550127 x9", "12", "N/A"}
	n := 1 + r.IntN(40)
	for i := range n {
		var line string
		switch k := r.IntN(10); {
		case k < 4:
			var ps []string
			for range r.IntN(6) {
				ps = append(ps, pieces[r.IntN(len(pieces))])
			}
			line = strings.Join(ps, "")
		case k < 9:
			cols := 1 + r.IntN(3)
			fs := make([]string, cols)
			for j := range fs {
				if r.IntN(2) == 0 {
					fs[j] = nums[r.IntN(len(nums))]
				} else {
					fs[j] = []string{"x", `"y"`, "", "phone", "tel", "notes"}[r.IntN(6)]
				}
			}
			line = strings.Join(fs, d)
		default:
			if r.IntN(6) == 0 {
				line = string(longLine([]string{"x", "space", "digits"}[r.IntN(3)], MaxLineBytes-2+r.IntN(4), r.IntN(2) == 0))
			} else {
				line = ""
			}
		}
		b.WriteString(line)
		if i < n-1 || r.IntN(2) == 0 {
			if r.IntN(4) == 0 {
				b.WriteByte('\r')
			}
			b.WriteByte('\n')
		}
	}
	return b.Bytes()
}

func TestCSVRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(77, 78))
	for seed := range sweep(150, 3000) {
		delim := []byte{',', ';', '\t'}[r.IntN(3)]
		name, format := "in.csv", Format("")
		if delim == '\t' {
			name = "in.tsv"
		}
		column := []string{"", "", "1", "2", "phone", "tel"}[r.IntN(6)]
		data := genNastyCSV(r, delim)
		src := blockSrc{name: name, format: format, column: column, data: data}
		if r.IntN(4) == 0 {
			src.name, src.chunk = "-", 1+r.IntN(20)
			src.format = FormatCSV
			if delim == '\t' {
				src.format = FormatTSV
			}
		}
		bc := blockCase{srcs: []blockSrc{src}, noGz: r.IntN(2) == 0}
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			dir := t.TempDir()
			opts, stdin := bc.build(t, dir, !bc.noGz)
			want := runCompile(t, reference, 0, opts, stdin)
			for _, bb := range []int{1, 64, 0} {
				got := runCompile(t, pipeline, bb, opts, stdin)
				if t.Run(fmt.Sprintf("bb=%d", bb), func(t *testing.T) { compareRuns(t, want, got) }) {
					continue
				}
				t.Logf("input (column %q, %s): %q", column, src.name, data)
				return
			}
		})
	}
}

// TestCSVMixed: CSV and TSV sources with a text source, a source of
// its own region, a gzip one, stdin, a CSV allowlist and a tiny memory.
func TestCSVMixed(t *testing.T) {
	bc := blockCase{memory: 64 << 10, noGz: true, srcs: []blockSrc{
		{name: "a.csv", data: genCSVInput(31, 3000, ',', true, 1, 3)},
		{name: "b.txt", data: genBlockInput(32, 2000, false)},
		{name: "c.tsv.gz", gz: true, data: genCSVInput(33, 2000, '\t', false, 0, 2)},
		{name: "d.csv", norm: "GB", data: lines("\n", true, "tel;x", "020 7946 0000;a", "+1 212 555 0123;b", "07700 900123")},
		{name: "-", format: FormatCSV, column: "2", chunk: 50, data: genCSVInput(34, 2000, ',', false, 1, 2)},
		{name: "allow.csv", allow: true, data: lines("\n", true, "x,phone", "a,+1 212 555 0123", `b,"2125550124"`)},
		{name: "allow.txt", allow: true, data: lines("\n", true, "+44 20 7946 0000")},
	}}
	csvCompare(t, bc, []int{64, 0})
}

// TestCSVTruncatedGzip: a CSV gzip cut short anywhere, before, at or
// after the settle point: the same error (file and line) in the pipeline as in the reference.
func TestCSVTruncatedGzip(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 9))
	var data bytes.Buffer
	data.WriteString("\"bad\n# c\nphone,name\n")
	for i := range 3000 {
		fmt.Fprintf(&data, "+1 212 555 %04d,n%d\n", r.IntN(10_000), r.IntN(1e6))
		if i == 10 {
			for range 1 << 18 { // poorly compressible, so cuts fall in it
				data.WriteByte(byte('0' + r.IntN(10)))
			}
			data.WriteString("\n")
		}
	}
	z := gzipBytes(t, data.Bytes())
	dir := t.TempDir()
	for _, cut := range []int{20, 25, 30, 35, 40, 50, 60, 100, 200, len(z) / 3, len(z) / 2, len(z) - 100, len(z) - 9} {
		t.Run(fmt.Sprint(cut), func(t *testing.T) {
			path := filepath.Join(dir, fmt.Sprintf("in%d.csv.gz", cut))
			if err := writeFile(path, z[:cut]); err != nil {
				t.Fatal(err)
			}
			opts := Options{Sources: []Source{{Path: path}}, Kind: kindBlock, Normalizer: blockNormalizer(t, "US"), MaxPerShard: 1 << 20, TempDir: dir}
			want := runCompile(t, reference, 0, opts, nil)
			if want.err == nil {
				t.Fatalf("no error from the reference")
			}
			for _, bb := range []int{1, 64, 0} {
				got := runCompile(t, pipeline, bb, opts, nil)
				if got.err == nil || got.err.Error() != want.err.Error() {
					t.Errorf("bb=%d: error\n reference: %v\n pipeline:  %v", bb, want.err, got.err)
				}
			}
		})
	}
}

// errAfterReader returns data in small reads, then err.
type errAfterReader struct {
	data  []byte
	chunk int
	err   error
}

func (e *errAfterReader) Read(p []byte) (int, error) {
	if len(e.data) == 0 {
		return 0, e.err
	}
	n := min(e.chunk, len(p), len(e.data))
	copy(p, e.data[:n])
	e.data = e.data[n:]
	return n, nil
}

// TestCSVStdinError: a stdin read error (not EOF) before, at and
// after the settle point names the same line in the pipeline as in the reference.
func TestCSVStdinError(t *testing.T) {
	data := lines("\n", false, "\"bad", "phone,name", "2125550123,x", "2125550124,y", string(longLine("x", MaxLineBytes+5, false)), "2125550125,z", "2125550126")
	for _, cut := range []int{3, 6, 10, 17, 20, 27, 30, 40, 100, 1000, MaxLineBytes, len(data) - 20, len(data) - 3} {
		for _, chunk := range []int{1, 7, 4096} {
			if chunk == 1 && cut > 1000 {
				continue
			}
			t.Run(fmt.Sprintf("cut=%d/chunk=%d", cut, chunk), func(t *testing.T) {
				opts := Options{Sources: []Source{{Path: "-", Format: FormatCSV}}, Kind: kindBlock, Normalizer: blockNormalizer(t, "US"), MaxPerShard: 1 << 20, TempDir: t.TempDir()}
				stdin := func() io.Reader {
					return &errAfterReader{data: data[:cut], chunk: chunk, err: errTestRead}
				}
				want := runCompile(t, reference, 0, opts, stdin)
				for _, bb := range []int{1, 64, 0} {
					compareRuns(t, want, runCompile(t, pipeline, bb, opts, stdin))
				}
			})
		}
	}
}

var errTestRead = fmt.Errorf("test read error")

const kindBlock = shard.KindBlock

func writeFile(path string, data []byte) error { return os.WriteFile(path, data, 0o644) }
