package e164

import "encoding/binary"

// fastClass marks the bytes the scan reads: punctuation Parse skips, and
// white space trimmed around the line.
var fastClass = func() (t [256]uint8) {
	for _, c := range []byte(" -./()") {
		t[c] |= fastPunct
	}
	for _, c := range []byte(" \t\n\v\f\r") {
		t[c] |= fastSpace
	}
	return t
}()

const (
	fastPunct = 1 << iota // ' ' - . / ( )
	fastSpace             // an ASCII space that isTrimmable trims
)

// fastScan is what the scan adds to its count for a byte: 1 for a digit,
// 0 for punctuation, and for anything else scanBad, which takes the count
// past maxFastDigits (and leaves it the same modulo 32, where the next
// digit goes).
var fastScan = func() (t [256]uint8) {
	for c := range t {
		switch {
		case '0' <= c && c <= '9':
			t[c] = 1
		case fastClass[c]&fastPunct == 0:
			t[c] = scanBad
		}
	}
	return t
}()

const scanBad = 32

// pow10 is 10^i modulo 2^64.
var pow10 = func() (p [2 * maxFastDigits]uint64) {
	x := uint64(1)
	for i := range p {
		p[i] = x
		x *= 10
	}
	return p
}()

// firstDigit is the index of the first digit of s, a line that the scan
// takes: after a '+' and punctuation.
func firstDigit(s []byte) int {
	k := 0
	if len(s) > 0 && s[0] == '+' {
		k = 1
	}
	for k < len(s) && fastClass[s[k]]&fastPunct != 0 {
		k++
	}
	return k
}

// startsWith00 is afterDoubleZero's test for a line that the scan takes.
func startsWith00(s []byte) bool {
	k := firstDigit(s)
	return (len(s) == 0 || s[0] != '+') && k+1 < len(s) && s[k] == '0' && s[k+1] == '0'
}

// fastScanDigits copies the digits of s to d and returns their count, or
// a count over maxFastDigits when s has a byte that is neither a digit nor
// punctuation. It has no branch on the kind of byte: every byte is stored,
// and moves the count on by its fastScan weight. (Inlined, its loop would
// keep the count in memory.)
//
//go:noinline
func fastScanDigits(s []byte, d *[32]byte) int {
	to := d[:]
	tab := &fastScan
	nd := 0
	if len(s) < 4 {
		for _, c := range s {
			to[nd&31] = c
			nd += int(tab[c])
		}
		return nd
	}
	r := (len(s)-1)&3 + 1
	w := uint64(1)<<(8*r) - 1 // r bytes of ones
	c0, c1, c2, c3 := s[0], s[1], s[2], s[3]
	to[nd&31] = c0
	nd += int(tab[c0] & uint8(w))
	to[nd&31] = c1
	nd += int(tab[c1] & uint8(w>>8))
	to[nd&31] = c2
	nd += int(tab[c2] & uint8(w>>16))
	to[nd&31] = c3
	nd += int(tab[c3] & uint8(w>>24))
	for i := r; i < len(s); i += 4 {
		q := (*[4]byte)(s[i : i+4])
		c0, c1, c2, c3 := q[0], q[1], q[2], q[3]
		to[nd&31] = c0
		nd += int(tab[c0])
		to[nd&31] = c1
		nd += int(tab[c1])
		to[nd&31] = c2
		nd += int(tab[c2])
		to[nd&31] = c3
		nd += int(tab[c3])
	}
	return nd
}

// isASCIISpace reports whether c is one of the ASCII characters that
// isTrimmable trims (unicode.IsSpace).
func isASCIISpace(c byte) bool {
	return fastClass[c]&fastSpace != 0
}

// natValue is the value of the digits x, at most 16 of them. With
// 8 bytes readable from x's start (its capacity) it takes them 8 at a
// time, each 8 ASCII digits at once (SWAR: the digits' values in one
// word, then pairs, quads and the octet joined by three multiplications).
func natValue(x []byte) uint64 {
	const zeros = 0x3030303030303030
	switch l := len(x); {
	case l > 0 && l <= 8 && cap(x) >= 8:
		// The bytes after x are dropped by the shift; what their
		// subtraction borrows goes up, into them.
		w := binary.LittleEndian.Uint64(x[:8]) - zeros
		return swar8(w << (8 * (8 - l) & 63))
	case l > 8 && l <= 16:
		hi := (binary.LittleEndian.Uint64(x[:8]) - zeros) << (8 * (16 - l) & 63)
		lo := binary.LittleEndian.Uint64(x[l-8:]) - zeros
		return swar8(hi)*1e8 + swar8(lo)
	}
	var v uint64
	for _, c := range x {
		v = v*10 + uint64(c-'0')
	}
	return v
}

// swar8 is the value of 8 decimal digits, one a byte, the first in the
// lowest byte.
func swar8(w uint64) uint64 {
	w = (w*10 + w>>8) & 0x00ff00ff00ff00ff
	w = (w*100 + w>>16) & 0x0000ffff0000ffff
	return (w*10000 + w>>32) & 0xffffffff
}

// hasLit reports whether x starts with lit.
func hasLit(x []byte, lit string) bool {
	if len(x) < len(lit) {
		return false
	}
	for i := 0; i < len(lit); i++ {
		if x[i] != lit[i] {
			return false
		}
	}
	return true
}
