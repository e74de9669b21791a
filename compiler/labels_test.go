package compiler

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/calldir/calldir/e164"
	"github.com/calldir/calldir/shard"
)

// Labels of identification builds: a label column, a fixed --label, bad
// labels, conflicts. Every case is compiled with the reference reader and
// with the block pipeline (at several block sizes) and compared, labels,
// label tables and conflicts included. A few cases also pin the reject
// reasons.

var identSizes = []int{1, 7, 64, 4096, 0}

// identCompare runs one identification case with the reference, then with
// the block pipeline at the given block sizes, file form and (unless noGz)
// gzip form, and returns the reference's run of the file form.
func identCompare(t *testing.T, bc blockCase, sizes []int) blockRun {
	t.Helper()
	bc.kind = shard.KindIdentify
	dir := t.TempDir()
	forms := []bool{false}
	if !bc.noGz {
		forms = append(forms, true)
	}
	var first blockRun
	for i, gz := range forms {
		opts, stdin := bc.build(t, filepath.Join(dir, fmt.Sprint(gz)), gz)
		want := runCompile(t, reference, 0, opts, stdin)
		if (want.err != nil) != bc.err {
			t.Fatalf("gz=%v: reference: error %v (want error: %v)", gz, want.err, bc.err)
		}
		if i == 0 {
			first = want
		}
		for _, bb := range sizes {
			t.Run(fmt.Sprintf("gz=%v/bb=%d", gz, bb), func(t *testing.T) {
				compareRuns(t, want, runCompile(t, pipeline, bb, opts, stdin))
			})
		}
	}
	return first
}

// identLines is a CSV list with a label column whose lines hit every label
// check and every order of the reasons.
var identLines = []string{
	"phone,name",
	"# " + strings.Repeat("p", sniffBytes), // the NUL below is past the binary sniff
	"+1 212 555 0101,Spam",
	`2125550102,"He said ""hi"""`,        // escaped quotes in the label
	`"2125550103","  Spa,m  "`,           // quoted, trimmed, delimiter inside
	"2125550104,\u00a0Nbsp\u3000",        // Unicode spaces trimmed
	"2125550105,",                        // empty label
	`2125550106,"   "`,                   // empty once trimmed
	"2125550107,\xff",                    // not UTF-8
	"2125550108,a\x00b",                  // NUL
	"2125550109",                         // label column missing
	`2125550110,"open`,                   // bad quote in the label
	`"2125550111,Spam`,                   // bad quote in the number
	"hello,\xff",                         // bad label before the bad number
	"hello",                              // missing column before the bad number
	"hello,Spam",                         // the number's own reason
	"+33 162 ####,Pattern",               // a pattern in a CSV source
	"+1 212 555 0101,Other",              // a conflict
	"+1 212 555 0101,Spam",               // a duplicate, no conflict
	`2125550102,He said "hi"`,            // the same label unquoted: no conflict
	"2125550103,Spa",                     // a conflict
	`"2125550112"x,"L""a"zy`,             // lazy quotes on both fields
	"  2125550113  ,  # not a comment  ", // '#' inside a label
	"# a comment",
	"",
	"\t",
	"2125550114,é",
	"2125550115,Spam,extra",
	"2125550104,Nbsp",
}

// wantIdentReasons are the reject reasons of identLines, in order: the
// reference semantics, pinned.
var wantIdentReasons = []e164.Reason{
	e164.ReasonBadLabel,      // 2125550105,
	e164.ReasonBadLabel,      // "   "
	e164.ReasonBadLabel,      // \xff
	e164.ReasonBadLabel,      // NUL
	e164.ReasonMissingColumn, // 2125550109
	e164.ReasonBadCSV,        // "open
	e164.ReasonBadCSV,        // "2125550111
	e164.ReasonBadLabel,      // hello,\xff
	e164.ReasonMissingColumn, // hello
	e164.ReasonNoDigits,      // hello,Spam
}

func TestLabelColumn(t *testing.T) {
	for _, crlf := range []bool{false, true} {
		sep := "\n"
		if crlf {
			sep = "\r\n"
		}
		data := lines(sep, false, identLines...)
		t.Run(fmt.Sprintf("crlf=%v", crlf), func(t *testing.T) {
			want := identCompare(t, blockCase{srcs: []blockSrc{{name: "in.csv", data: data}}}, identSizes)
			var got []e164.Reason
			for _, r := range want.rejects {
				got = append(got, r.Reason)
			}
			// The pattern's reason is the normalizer's: whatever it is,
			// the pipeline agrees with the reference (compared above).
			if len(got) < len(wantIdentReasons) || fmt.Sprint(got[:len(wantIdentReasons)]) != fmt.Sprint(wantIdentReasons) {
				t.Errorf("reject reasons %v, want %v first", got, wantIdentReasons)
			}
			if len(want.conflicts) != 2 {
				t.Errorf("conflicts %+v, want 2", want.conflicts)
			}
			t.Logf("table %q; conflicts %+v", want.table, want.conflicts)
			// stdin, in small reads
			bc := blockCase{noGz: true, srcs: []blockSrc{{name: "-", format: FormatCSV, chunk: 5, data: data}}}
			t.Run("stdin", func(t *testing.T) { identCompare(t, bc, []int{1, 7, 0}) })
		})
	}
}

func TestLabelsHandmade(t *testing.T) {
	long := string(longLine("x", MaxLineBytes+3, false))
	longLabel := "2125550150," + strings.Repeat("é", (MaxLineBytes-20)/2)
	cases := []blockCase{
		{name: "label-before-number", srcs: []blockSrc{{name: "in.csv", data: lines("\n", true,
			"name;phone", "Spam;2125550101", "Other;2125550101", ";2125550102", "\xff;hello", "X", `"a""b";"2125550103"`)}}},
		{name: "label-column-by-index-no-header", srcs: []blockSrc{{name: "in.csv", lcol: "3", data: lines("\n", true,
			"2125550101,x,Spam", "2125550102,y", "2125550101,z,Other", "x,2125550103,Spam")}}},
		{name: "label-column-by-name", srcs: []blockSrc{{name: "in.tsv", lcol: "who", data: lines("\n", true,
			"who\tphone\tname", "A\t2125550101\tN", "B\t2125550101\tN", "\t2125550102\tN")}}},
		{name: "label-column-missing-in-header", err: true, srcs: []blockSrc{{name: "in.csv", data: lines("\n", true, "phone,x", "2125550101,y")}}},
		{name: "label-column-name-no-header", err: true, srcs: []blockSrc{{name: "in.csv", lcol: "who", data: lines("\n", true, "2125550101,y")}}},
		{name: "label-equals-number-column", err: true, srcs: []blockSrc{{name: "in.csv", column: "1", lcol: "1", data: lines("\n", true, "2125550101,y")}}},
		{name: "header-no-data", err: true, srcs: []blockSrc{{name: "in.csv", data: lines("\n", true, "phone,name", "", "# c")}}},
		{name: "header-no-data-fixed", err: true, srcs: []blockSrc{{name: "in.csv", label: "Spam", data: lines("\n", true, "phone,name")}}},
		{name: "fixed-label-csv-missing-label-column", srcs: []blockSrc{{name: "in.csv", label: "Fixed", data: lines("\n", true,
			"phone,name", "2125550101", "2125550102,\xff", "2125550103,", `"2125550104`, "hello")}}},
		{name: "fixed-label-wins-over-column", srcs: []blockSrc{{name: "in.csv", label: "Fixed", lcol: "2", data: lines("\n", true,
			"2125550101,A", "2125550102,B")}}},
		{name: "bad-fixed-label", err: true, srcs: []blockSrc{{name: "in.txt", label: "\xff", data: lines("\n", true, "2125550101")}}},
		{name: "text-fixed-label-patterns", srcs: []blockSrc{{name: "in.txt", label: " Spaced ", data: lines("\n", true,
			"+33 162 00####", "+33 162 ##1", "+1 212 555 01##  # a pattern with a comment", "+33162000000..+33162000999", "12..5",
			"+1 212 555 01XX", "+999 ####", "2125550101 # c", "\uFEFF2125550102", "+1 212 555 0101")}}},
		{name: "text-no-label", err: true, srcs: []blockSrc{{name: "in.txt", data: lines("\n", true, "2125550101")}}},
		{name: "csv-too-long-lines", srcs: []blockSrc{{name: "in.csv", data: lines("\n", false,
			long, "phone,label", long, "2125550101,A", longLabel, long, "2125550101,B", string(longLine("x", 3<<20, false)), "2125550150,C")}}},
		{name: "csv-bom-crlf", srcs: []blockSrc{{name: "in.csv", data: lines("\r\n", false, "\uFEFFphone;label", "\uFEFF2125550101;\uFEFFA", "2125550101;B\r", "2125550102;\r")}}},
		{name: "conflicts-many-labels", srcs: []blockSrc{{name: "in.csv", data: func() []byte {
			var b bytes.Buffer
			b.WriteString("phone,label\n")
			for i := range 3000 {
				fmt.Fprintf(&b, "21255501%02d,L%d\n", i%37, (i*7)%113)
			}
			return b.Bytes()
		}()}}},
		{name: "sources-text-csv-tsv-stdin-allow", srcs: []blockSrc{
			{name: "a.txt", label: "Text", data: lines("\n", true, "2125550101", "+33 162 ####", "2125550102", "2125550103")},
			{name: "b.csv", data: lines("\n", true, "phone,label", "2125550101,CSV", "2125550104,CSV", "2125550102,Text")},
			{name: "-", format: FormatTSV, chunk: 3, data: lines("\n", true, "label\tphone", "Tab\t2125550101", "Tab\t2125550105", "Text\t2125550103")},
			{name: "d.csv.gz", gz: true, label: "Gz", data: lines("\n", true, "2125550105", "2125550106")},
			{name: "allow.txt", allow: true, data: lines("\n", true, "2125550104", "+33 162 ####")},
			{name: "allow.csv", allow: true, data: lines("\n", true, "phone,label", "2125550106,Whatever")},
		}},
	}
	for _, bc := range cases {
		t.Run(bc.name, func(t *testing.T) {
			identCompare(t, bc, identSizes)
		})
	}
}

// genIdentCSV writes a random CSV/TSV list with a number and a label
// column: labels of every kind (quoted, escaped quotes, spaces, bad ones,
// many distinct ones), numbers from a small pool so that they repeat and
// conflict, and broken lines.
func genIdentCSV(r *rand.Rand, n int, delim byte, header bool, ncol, lcol, cols int) []byte {
	d := string(delim)
	labels := []string{"Spam", "spam", "  Spaced  ", `He said "hi"`, "a,b", "a;b", "a\tb", "", "   ", "\xff", "é",
		"\u00a0Nbsp\u3000", "\u0085x\u0085", `"`, `""`, strings.Repeat("x", 300), "#notcomment", " # hash"}
	nums := []string{"hello", "12", "+33 162 ####", "212-555-0123 x12", "+44 20 7946 0000", "N/A", "", "+1 212 555 01##", "1-800-FLOWERS"}
	for i := range 40 {
		nums = append(nums, fmt.Sprintf("+1 212 555 01%02d", i))
	}
	quote := func(f string) string {
		if strings.ContainsAny(f, d+`"`) || r.IntN(4) == 0 {
			return `"` + strings.ReplaceAll(f, `"`, `""`) + `"`
		}
		return f
	}
	var b bytes.Buffer
	if r.IntN(4) == 0 {
		b.WriteString("\uFEFF")
	}
	crlf := r.IntN(3)
	end := func() {
		if crlf == 1 || (crlf == 2 && r.IntN(2) == 0) {
			b.WriteByte('\r')
		}
		b.WriteByte('\n')
	}
	for range r.IntN(3) {
		b.WriteString([]string{"", "# exported", "   ", `"unterminated,x`}[r.IntN(4)])
		end()
	}
	if header {
		names := make([]string, cols)
		for i := range names {
			names[i] = fmt.Sprintf("c%d", i)
		}
		names[ncol] = []string{"phone", "Number", "notes"}[r.IntN(3)]
		names[lcol] = []string{"label", "Name", "caller_name"}[r.IntN(3)]
		b.WriteString(strings.Join(names, d))
		end()
	}
	for i := range n {
		f := make([]string, cols)
		for j := range f {
			f[j] = fmt.Sprintf("v%d", r.IntN(50))
		}
		f[ncol] = quote(nums[r.IntN(len(nums))])
		lab := fmt.Sprintf("L%d", r.IntN(60))
		if r.IntN(2) == 0 {
			lab = labels[r.IntN(len(labels))]
		}
		if i > 300 && r.IntN(40) == 0 { // past the binary sniff
			lab = "a\x00b"
		}
		f[lcol] = quote(lab)
		line := strings.Join(f, d)
		switch k := r.IntN(100); {
		case k < 3:
			line = ""
		case k < 5:
			line = fmt.Sprintf("# c %d", i)
		case k < 8:
			line = strings.Join(f[:min(ncol, lcol)+1], d) // the later column missing
		case k < 10:
			line += d + `"open`
		case k < 12:
			line = " " + line + "\t"
		case k < 13:
			line = string(longLine("x", MaxLineBytes-1+r.IntN(3), false))
		}
		b.WriteString(line)
		if i < n-1 || r.IntN(2) == 0 {
			end()
		}
	}
	return b.Bytes()
}

func TestLabelsRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(41, 42))
	for seed := range sweep(40, 400) {
		delim := []byte{',', ';', '\t'}[r.IntN(3)]
		cols := 2 + r.IntN(2)
		ncol := r.IntN(cols)
		lcol := (ncol + 1 + r.IntN(cols-1)) % cols
		header := r.IntN(3) > 0
		n := []int{r.IntN(20), 200 + r.IntN(1500)}[r.IntN(2)]
		src := blockSrc{name: "in.csv", data: genIdentCSV(r, n, delim, header, ncol, lcol, cols)}
		if delim == '\t' {
			src.name = "in.tsv"
		}
		if !header || r.IntN(3) == 0 {
			src.lcol = fmt.Sprint(lcol + 1)
		}
		if r.IntN(3) == 0 {
			src.column = fmt.Sprint(ncol + 1)
		}
		if r.IntN(5) == 0 {
			src.label = "Fixed"
		}
		srcs := []blockSrc{src}
		if r.IntN(4) == 0 {
			srcs = append(srcs, blockSrc{name: "b.txt", label: "Text", data: genBlockInput(uint64(seed), 500, false)})
		}
		if r.IntN(4) == 0 {
			srcs = append(srcs, blockSrc{name: "allow.txt", allow: true, data: lines("\n", true, "+1 212 555 0101", "2125550105")})
		}
		if r.IntN(4) == 0 {
			srcs[0].name, srcs[0].chunk, srcs[0].format = "-", 1+r.IntN(30), FormatCSV
			if delim == '\t' {
				srcs[0].format = FormatTSV
			}
		}
		bc := blockCase{srcs: srcs, noGz: r.IntN(2) == 0}
		bc.err = func() bool { // header without a label column name guessed: an error in both
			bc.kind = shard.KindIdentify
			opts, stdin := bc.build(t, t.TempDir(), false)
			return runCompile(t, reference, 0, opts, stdin).err != nil
		}()
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			want := identCompare(t, bc, []int{1, 64, 0})
			t.Logf("err %v; %d entries, %d labels in the table, %d conflicts, %d rejects", want.err, len(want.entries), len(want.table), len(want.conflicts), len(want.rejects))
		})
	}
}

// TestFixedLabelBytes: a block's labels are bounded by the
// block's bytes and one copy of the fixed --label. (A block worker used to
// copy the fixed label once per accepted line: a label of
// shard.MaxLabelBytes on a 1 MiB block of short lines, about 95 000 of
// them, was over 6 GB, past tident's int32 offsets, and the collector
// panicked, if memory lasted that long.) It runs a small block (1 000
// lines, 11 kB).
func TestFixedLabelBytes(t *testing.T) {
	label := strings.Repeat("L", shard.MaxLabelBytes)
	c := &compilation{opts: Options{Kind: shard.KindIdentify}}
	w := &blockWorker{c: c, norm: *blockNormalizer(t, "US"), path: "in.txt", role: "source", ident: true, label: []byte(label)}
	b := newTBlock()
	defer tblockPool.Put(b)
	const n = 1000
	for i := range n {
		b.buf = fmt.Appendf(b.buf, "212555%04d\n", 1000+i)
	}
	if err := w.work(b); err != nil {
		t.Fatal(err)
	}
	if b.accepted != n {
		t.Fatalf("%d accepted, want %d", b.accepted, n)
	}
	if len(b.labels) > len(b.buf)+len(label) {
		t.Errorf("a block of %d bytes holds %d bytes of labels for %d entries: more than one copy of the fixed label of %d bytes",
			len(b.buf), len(b.labels), len(b.idents), len(label))
	}
	for _, id := range b.idents {
		if got := string(b.labels[id.l0:id.l1]); got != label {
			t.Fatalf("entry %d: label of %d bytes, want the fixed label", id.num, len(got))
		}
	}
	b.labels, b.idents = nil, nil
}
