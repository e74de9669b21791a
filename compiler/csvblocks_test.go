package compiler

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/calldir/calldir/compiler/bench/gen"

	"github.com/calldir/calldir/e164"
	"github.com/calldir/calldir/shard"
)

// splitReason is what the reference parser makes of splitFields for column
// col: the field, or the reject reason (a bad quote before a missing
// column).
func splitReason(line []byte, delim byte, col int) (string, e164.Reason) {
	fields, ok := splitFields(line, delim, nil)
	switch {
	case !ok:
		return "", e164.ReasonBadCSV
	case col >= len(fields):
		return "", e164.ReasonMissingColumn
	}
	return fields[col], e164.ReasonNone
}

// checkCSVField compares csvField with splitFields on one line, for every
// column up to one past the last.
func checkCSVField(t *testing.T, line []byte, delim byte) {
	t.Helper()
	var scratch []byte
	n := bytes.Count(line, []byte{delim}) + 2
	for col := 0; col <= n; col++ {
		want, wwhy := splitReason(line, delim, col)
		got, gwhy := csvField(line, delim, col, &scratch)
		if wwhy != gwhy || string(got) != want {
			t.Fatalf("line %q delim %q col %d: csvField = %q, %v; splitFields gives %q, %v", line, delim, col, got, gwhy, want, wwhy)
		}
	}
}

func TestCSVFieldSameAsSplitFields(t *testing.T) {
	for _, l := range []string{
		"", ",", ",,", "a", "a,b", "a,b,", ",a", `"a"`, `"a",b`, `a,"b"`, `"a,b",c`, `"a""b",c`, `""`, `""""`,
		`"a`, `a,"b`, `"a"x,b`, `"a"x`, `a"b,c`, `"a""`, `"a"",b`, `a,b,"c`, `"",""`, `" +1 212 555 0123 ",x`,
		"\"a\"\t\"b\"", "a;b;\"c;d\"", `"a"b"c",d`, `x,"",y`, `"1","2","3`,
	} {
		for _, d := range []byte{',', ';', '\t'} {
			checkCSVField(t, []byte(l), d)
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	alphabet := []byte(`"",;	ab1 +`)
	for range sweep(200_000, 5_000_000) {
		line := make([]byte, r.IntN(14))
		for i := range line {
			line[i] = alphabet[r.IntN(len(alphabet))]
		}
		checkCSVField(t, line, []byte{',', ';', '\t'}[r.IntN(3)])
	}
}

func FuzzCSVField(f *testing.F) {
	for _, s := range []string{`a,"b""c",d`, `"x`, `,,`, "a\tb"} {
		f.Add([]byte(s), byte(','))
	}
	f.Fuzz(func(t *testing.T, line []byte, delim byte) {
		if delim == '"' {
			return
		}
		checkCSVField(t, line, delim)
	})
}

// genCSVInput writes a random CSV (or, with delim '\t', TSV) list: maybe a
// header (preceded by blank, comment or broken lines), the number in
// column col of cols, quoted or not, with bad quotes, short lines,
// comments, blank lines, CRLF and a byte-order mark now and then.
func genCSVInput(seed uint64, n int, delim byte, header bool, col, cols int) []byte {
	r := rand.New(rand.NewPCG(seed, 0xc5f))
	var b bytes.Buffer
	if r.IntN(3) == 0 {
		b.WriteString("\uFEFF")
	}
	crlf := r.IntN(3)
	end := func(last bool) {
		if last && r.IntN(2) == 0 {
			return
		}
		if crlf == 1 || (crlf == 2 && r.IntN(2) == 0) {
			b.WriteByte('\r')
		}
		b.WriteByte('\n')
	}
	// What may come before the first record: it does not settle the parser.
	for range r.IntN(4) {
		pre := []string{"", "# exported list", "   ", `"unterminated,x`, "\t"}
		b.WriteString(pre[r.IntN(len(pre))])
		end(false)
	}
	d := string(delim)
	if header {
		names := make([]string, cols)
		for i := range names {
			names[i] = fmt.Sprintf("c%d", i)
		}
		names[col] = []string{"phone", "Number", "msisdn", "notes"}[r.IntN(4)] // "notes": guessed from the first data line
		b.WriteString(strings.Join(names, d))
		end(false)
	}
	var scratch []byte
	for i := range n {
		var num string
		switch k := r.IntN(100); {
		case k < 50:
			scratch = gen.AppendUS(scratch[:0], int64(gen.Areas[r.IntN(len(gen.Areas))])*10_000_000+int64(200+r.IntN(800))*10_000+int64(r.IntN(10_000)), r.IntN(8))
			num = string(scratch)
		case k < 60:
			g := gen.IntlShapes[r.IntN(len(gen.IntlShapes))]
			s := []byte(g.Prefix)
			for range g.Digits {
				s = append(s, byte('0'+r.IntN(10)))
			}
			num = string(s)
		case k < 70:
			num = shortLines[r.IntN(len(shortLines))]
		case k < 75:
			num = gen.Bad[r.IntN(len(gen.Bad))]
		default:
			num = fmt.Sprintf("%d", r.Int64N(1e15))
		}
		fields := make([]string, cols)
		for j := range fields {
			fields[j] = fmt.Sprintf("v%d", r.IntN(100))
		}
		if r.IntN(3) == 0 || strings.ContainsAny(num, d+`"`) {
			num = `"` + strings.ReplaceAll(num, `"`, `""`) + `"`
		}
		fields[col] = num
		line := strings.Join(fields, d)
		switch k := r.IntN(100); {
		case k < 3:
			line = ""
		case k < 5:
			line = "# comment " + fmt.Sprint(i)
		case k < 7:
			line = strings.Join(fields[:col], d) // the number column missing
		case k < 9:
			line += d + `"open`
		case k < 10:
			line = "  " + line + "\t"
		case k < 11:
			line = string(longLine("x", MaxLineBytes-1+r.IntN(3), false))
		}
		b.WriteString(line)
		end(i == n-1)
	}
	return b.Bytes()
}

// csvCases are the CSV/TSV cases of TestBlocksSameAsReference: the reader
// settles the header on the first records, the workers do the rest.
func csvCases() []blockCase {
	var cs []blockCase
	one := func(name string, s blockSrc) {
		cs = append(cs, blockCase{name: name, srcs: []blockSrc{s}})
	}
	for seed := uint64(1); seed <= 6; seed++ {
		header := seed%2 == 1
		cols := 1 + int(seed)%3
		col := int(seed) % cols
		one(fmt.Sprintf("csv-random-%d-header=%v-col=%d", seed, header, col), blockSrc{name: "in.csv", data: genCSVInput(seed, 3000, ',', header, col, cols)})
	}
	one("csv-semicolon", blockSrc{name: "in.csv", data: genCSVInput(7, 2000, ';', true, 1, 3)})
	one("tsv", blockSrc{name: "in.tsv", data: genCSVInput(8, 2000, '\t', true, 2, 3)})
	one("tsv-no-header", blockSrc{name: "in.tab", data: genCSVInput(9, 2000, '\t', false, 0, 2)})
	one("csv-column-by-name", blockSrc{name: "in.csv", column: "c2", data: genCSVInput(10, 2000, ',', true, 1, 3)})
	one("csv-column-by-index", blockSrc{name: "in.csv", column: "2", data: genCSVInput(11, 2000, ',', false, 1, 2)})
	one("csv-stdin-small-reads", blockSrc{name: "-", format: FormatCSV, chunk: 397, data: genCSVInput(12, 2000, ',', true, 0, 2)})
	one("csv-one-line", blockSrc{name: "in.csv", data: []byte("+1 212 555 0123")})
	cs = append(cs, blockCase{name: "csv-header-then-blank", err: true, srcs: []blockSrc{{name: "in.csv", data: []byte("phone,name\r\n\r\n   \n# nothing\n")}}})
	one("csv-bad-lines-only", blockSrc{name: "in.csv", data: []byte("\"a\n\"b,c\n,\"\n")})
	one("csv-settled-on-last-line", blockSrc{name: "in.csv", data: []byte("\"x\n\n2125550123")})
	// Identification builds: labels from a column (bad ones among them:
	// empty, not UTF-8) or fixed, conflicts across sources.
	badLabels := []byte("phone,name\n+1 212 555 0123,\n+1 212 555 0124,\"\xff\"\n2125550126,  Spaced  \n+1 212 555 0123,Other\n2125550199\n+33 162 ####,Pattern\n")
	ident := func(name string, srcs ...blockSrc) {
		cs = append(cs, blockCase{name: "identify-" + name, kind: shard.KindIdentify, srcs: srcs})
	}
	ident("label-column", blockSrc{name: "in.csv", lcol: "2", data: genCSVInput(15, 3000, ',', true, 0, 2)})
	ident("label-column-guessed-number", blockSrc{name: "in.csv", lcol: "2", data: genCSVInput(16, 3000, ';', false, 0, 3)})
	ident("fixed-label-csv", blockSrc{name: "in.csv", label: "Spam", data: genCSVInput(17, 2000, ',', true, 1, 2)})
	ident("bad-labels", blockSrc{name: "in.csv", data: badLabels})
	ident("text", blockSrc{name: "in.txt", label: "Spam", data: genBlockInput(18, 3000, false)})
	ident("text-long", blockSrc{name: "in.txt", label: "Spam", data: genBlockInput(19, 1500, true)})
	ident("tsv-stdin", blockSrc{name: "-", format: FormatTSV, lcol: "c0", chunk: 397, data: genCSVInput(20, 2000, '\t', true, 1, 2)})
	ident("sources-and-allowlist",
		blockSrc{name: "a.csv", lcol: "c1", data: genCSVInput(21, 2000, ',', true, 0, 2)},
		blockSrc{name: "b.txt", label: "Other", data: genBlockInput(22, 2000, false)},
		blockSrc{name: "c.csv.gz", gz: true, lcol: "c0", data: genCSVInput(23, 2000, ',', true, 1, 2)},
		blockSrc{name: "allow.txt", data: []byte("+1 212 555 0123\n2125550124\n"), allow: true})
	cs = append(cs, blockCase{name: "identify-text-without-label", kind: shard.KindIdentify, err: true, srcs: []blockSrc{{name: "in.txt", data: []byte("2125550123\n")}}})
	cs = append(cs, blockCase{name: "csv-and-text", srcs: []blockSrc{
		{name: "a.csv", data: genCSVInput(13, 2000, ',', true, 1, 2)},
		{name: "b.txt", data: genBlockInput(14, 2000, false)},
		{name: "allow.csv", data: []byte("phone\n+1 212 555 0123\n2125550124\n"), allow: true},
	}})
	return cs
}

// TestSettledFieldsSameAsSplit compares settledFields (csvField for the
// number and label columns) with what splitting every field gives (the
// reference parser's way), for blocking and identification sources, with a
// label column or a fixed label.
func TestSettledFieldsSameAsSplit(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	alphabet := []string{`"`, `""`, ",", ";", "\t", " ", "a", "1", "+", "\xff", "\x00", "é", "  x  "}
	var numBuf, lblBuf []byte
	for i := range sweep(100_000, 2_000_000) {
		var b strings.Builder
		for range r.IntN(12) {
			b.WriteString(alphabet[r.IntN(len(alphabet))])
		}
		line := []byte(b.String())
		m := csvMode{delim: []byte{',', ';', '\t'}[r.IntN(3)], col: r.IntN(3), labelCol: -1}
		identify := i%2 == 0
		var fixed []byte
		if identify {
			m.labelCol = r.IntN(3)
			if r.IntN(4) == 0 {
				fixed = []byte("Fixed")
			}
		}
		num, label, why := settledFields(line, m, fixed, &numBuf, &lblBuf)

		// The model: splitFields, then the reference's checks in order.
		var wnum, wlabel string
		wwhy := e164.ReasonNone
		fields, ok := splitFields(line, m.delim, nil)
		switch {
		case !ok:
			wwhy = e164.ReasonBadCSV
		case m.col >= len(fields):
			wwhy = e164.ReasonMissingColumn
		default:
			wnum = fields[m.col]
			if identify {
				wlabel = string(fixed)
				if fixed == nil {
					if m.labelCol >= len(fields) {
						wnum, wwhy = "", e164.ReasonMissingColumn
					} else if wlabel = strings.TrimSpace(fields[m.labelCol]); shard.CheckLabel(wlabel) != nil {
						wnum, wlabel, wwhy = "", "", e164.ReasonBadLabel
					}
				}
			}
		}
		if wwhy != e164.ReasonNone {
			wnum, wlabel = "", ""
			num, label = nil, nil // the fields of a rejected line are not used
		}
		if why != wwhy || string(num) != wnum || string(label) != wlabel {
			t.Fatalf("line %q mode %+v identify %v fixed %q:\n got  %q %q %v\n want %q %q %v",
				line, m, identify, fixed, num, label, why, wnum, wlabel, wwhy)
		}
	}
}
