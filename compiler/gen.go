package compiler

import (
	"bufio"
	"io"
	"math/rand/v2"
	"strconv"
)

// GenMix is the kind of input GenerateLines writes.
type GenMix string

const (
	GenUS    GenMix = "us"   // US numbers in every national and international format
	GenIntl  GenMix = "intl" // "+cc" numbers of many countries
	GenMixed GenMix = "mixed"
)

// NANP area codes in service, for plausible US numbers.
var genAreas = []int{201, 202, 205, 206, 212, 213, 214, 215, 303, 305, 310, 312, 313, 404, 415, 469, 503, 512, 602, 617, 646, 702, 713, 718, 773, 786, 818, 917, 929, 972}

// genIntl are international number shapes: prefix and the count of
// subscriber digits that follow, possible for their country.
var genIntl = []struct {
	prefix string
	digits int
}{
	{"+44 20 7", 7}, {"+44 7700 9", 5}, {"+33 1 ", 8}, {"+33 6 ", 8}, {"+49 30 ", 7}, {"+49 151 ", 8},
	{"+34 91 ", 7}, {"+39 06 ", 8}, {"+31 20 ", 7}, {"+61 2 ", 8}, {"+81 3 ", 8}, {"+91 98", 8},
	{"+55 11 9", 8}, {"+52 55 ", 8}, {"+86 10 ", 8}, {"+7 495 ", 7}, {"+46 8 ", 7}, {"+41 44 ", 7},
}

// GenerateLines writes n lines of a benchmark input: mixed formats, about
// 20% repeats of earlier numbers (in another format) and 1% bad lines. The
// same seed gives the same bytes.
func GenerateLines(w io.Writer, n int, seed uint64, mix GenMix) error {
	r := rand.New(rand.NewPCG(seed, 0xca11d1))
	bw := bufio.NewWriterSize(w, 1<<20)
	var recent [4096]int64 // earlier US numbers, for repeats
	filled := 0
	var buf []byte
	for i := 0; i < n; i++ {
		buf = buf[:0]
		switch {
		case r.IntN(100) == 0:
			buf = append(buf, genBad[r.IntN(len(genBad))]...)
		case mix == GenIntl || (mix == GenMixed && r.IntN(4) == 0):
			g := genIntl[r.IntN(len(genIntl))]
			buf = append(buf, g.prefix...)
			for k := 0; k < g.digits; k++ {
				buf = append(buf, byte('0'+r.IntN(10)))
			}
		default:
			var sub int64
			if filled > 0 && r.IntN(5) == 0 { // a repeat
				sub = recent[r.IntN(min(filled, len(recent)))]
			} else {
				sub = int64(genAreas[r.IntN(len(genAreas))])*10_000_000 + int64(200+r.IntN(800))*10_000 + int64(r.IntN(10_000))
			}
			recent[filled%len(recent)] = sub
			filled++
			buf = appendUS(buf, sub, r.IntN(8))
		}
		buf = append(buf, '\n')
		if _, err := bw.Write(buf); err != nil {
			return err
		}
	}
	return bw.Flush()
}

var genBad = []string{"555-0123", "hello", "12", "+999 123 4567", "N/A", "+1 212 555 01", "---"}

// appendUS renders a 10-digit NANP number in one of eight formats.
func appendUS(b []byte, n int64, format int) []byte {
	s := strconv.FormatInt(n, 10)
	a, x, y := s[0:3], s[3:6], s[6:10]
	switch format {
	case 0:
		return append(append(append(append(append(append(b, '('), a...), ") "...), x...), '-'), y...)
	case 1:
		return append(append(append(append(append(b, a...), '.'), x...), '.'), y...)
	case 2:
		return append(append(append(append(append(append(b, "+1 "...), a...), ' '), x...), ' '), y...)
	case 3:
		return append(append(append(append(append(append(b, "1-"...), a...), '-'), x...), '-'), y...)
	case 4:
		return append(append(b, '1'), s...)
	case 5:
		return append(append(b, "+1"...), s...)
	case 6:
		return append(append(append(append(append(b, a...), '-'), x...), '-'), y...)
	default:
		return append(b, s...)
	}
}
