package compiler

import (
	"fmt"
	"sort"
	"strings"

	"github.com/calldir/calldir/e164"
	"github.com/calldir/calldir/shard"
)

// A Range is an inclusive range of CallKit numbers: a pattern such as
// "+33 162 ######" (one million numbers) or "+33162000000..+33162999999".
// CallKit has no wildcard, so a pattern is expanded, but lazily: ranges are
// merged with the sorted numbers of the other sources while the shards are
// written, never materialized.
type Range struct {
	Lo, Hi int64
	Text   string // as written, for reports
	Source string // file or "config"
	Line   int64
}

// Size is the number of numbers in the range.
func (r Range) Size() int64 { return r.Hi - r.Lo + 1 }

// IsPattern reports whether a text-list line is a pattern or a range
// rather than a number: digits then "..", or digits ending in '#'
// wildcards or in two or more 'X'.
func IsPattern(s string) bool {
	s = strings.TrimSpace(s)
	if a, b, ok := strings.Cut(s, ".."); ok {
		return digitsOnly(a) && digitsOnly(b)
	}
	body := strings.TrimRight(s, "#X ")
	wild := s[len(body):]
	// '#' always marks a wildcard; an 'X' only in a run of two or more, so
	// that "555 0123 X" (a cut-off extension) stays a number.
	return (strings.Contains(wild, "#") || strings.Count(wild, "X") >= 2) && digitsOnly(body)
}

// digitsOnly: at least one digit, and nothing but digits and the
// punctuation of a written number.
func digitsOnly(s string) bool {
	digit := false
	for _, c := range s {
		switch {
		case c >= '0' && c <= '9':
			digit = true
		case c == '+' || c == ' ' || c == '-' || c == '.' || c == '(' || c == ')':
		default:
			return false
		}
	}
	return digit
}

// ParsePattern reads "+CC DIGITS ###…" (the wildcards '#' or 'X' only at
// the end, a lone 'X' not one, as in IsPattern; spaces, dashes and dots
// ignored) or "FIRST..LAST" (E.164, '+'
// optional). The digits are E.164: country code first, at most 15 in all,
// and the country code must exist.
func ParsePattern(s string) (Range, error) {
	r := Range{Text: strings.TrimSpace(s)}
	if lo, hi, ok := strings.Cut(r.Text, ".."); ok {
		a, err := patternDigits(lo, false)
		if err != nil {
			return r, err
		}
		b, err := patternDigits(hi, false)
		if err != nil {
			return r, err
		}
		r.Lo, r.Hi = a.value, b.value
		if r.Hi < r.Lo {
			return r, fmt.Errorf("range %q: last below first", r.Text)
		}
		if len(a.digits) != len(b.digits) {
			return r, fmt.Errorf("range %q: both ends must have the same number of digits", r.Text)
		}
		return r, checkRange(r)
	}
	p, err := patternDigits(r.Text, true)
	if err != nil {
		return r, err
	}
	if p.wild == 0 {
		return r, fmt.Errorf("pattern %q has no wildcard (# or X at the end)", r.Text)
	}
	// The rule of IsPattern, so that --pattern and a list line agree: a
	// lone trailing 'X' is a cut-off extension, not a wildcard.
	if p.wild == 1 && p.hashes == 0 {
		return r, fmt.Errorf("pattern %q: a single trailing X is not a wildcard (it reads as a cut-off extension); write # for one wildcard digit", r.Text)
	}
	span := int64(1)
	for i := 0; i < p.wild; i++ {
		span *= 10
	}
	r.Lo = p.value * span
	r.Hi = r.Lo + span - 1
	return r, checkRange(r)
}

type patDigits struct {
	digits string
	wild   int // wildcards, '#' or 'X'
	hashes int // of them '#'
	value  int64
}

func patternDigits(s string, wildOK bool) (patDigits, error) {
	var p patDigits
	var b strings.Builder
	for _, c := range strings.TrimSpace(s) {
		switch {
		case c >= '0' && c <= '9':
			if p.wild > 0 {
				return p, fmt.Errorf("pattern %q: digits after a wildcard (wildcards go at the end)", s)
			}
			b.WriteRune(c)
		case wildOK && (c == '#' || c == 'X'):
			p.wild++
			if c == '#' {
				p.hashes++
			}
		case c == '+' && b.Len() == 0 && p.wild == 0, c == ' ', c == '-', c == '.', c == '(', c == ')':
		default:
			return p, fmt.Errorf("pattern %q: unexpected %q", s, c)
		}
	}
	p.digits = b.String()
	if p.digits == "" {
		return p, fmt.Errorf("pattern %q: no country code (E.164 digits begin with it, as in +33 162 ######)", s)
	}
	if n := len(p.digits) + p.wild; n > e164.MaxDigits {
		return p, fmt.Errorf("pattern %q: %d digits and wildcards, want 1 to %d", s, n, e164.MaxDigits)
	}
	for _, c := range p.digits {
		p.value = p.value*10 + int64(c-'0')
	}
	return p, nil
}

func checkRange(r Range) error {
	if r.Lo < 1 || r.Hi > shard.MaxNumber {
		return fmt.Errorf("%q: outside CallKit's numbers", r.Text)
	}
	if e164.CountryCode(r.Lo) == 0 || e164.CountryCode(r.Lo) != e164.CountryCode(r.Hi) {
		return fmt.Errorf("%q: no country calling code, or two (E.164 digits begin with the country code)", r.Text)
	}
	return nil
}

// intervals is a sorted, coalesced set of ranges.
type intervals [][2]int64

func coalesce(rs []Range) intervals {
	var iv intervals
	for _, r := range rs {
		iv = append(iv, [2]int64{r.Lo, r.Hi})
	}
	sort.Slice(iv, func(i, j int) bool { return iv[i][0] < iv[j][0] })
	out := iv[:0]
	for _, x := range iv {
		if n := len(out); n > 0 && x[0] <= out[n-1][1]+1 {
			out[n-1][1] = max(out[n-1][1], x[1])
			continue
		}
		out = append(out, x)
	}
	return out
}
