package e164

import (
	"encoding/binary"

	"github.com/nyaruka/phonenumbers"
)

// NormalizeBytes is Normalize for a raw line given as bytes; it does not keep
// b. It returns exactly what Normalize(string(b)) returns.
//
// Most lines are decided without allocating, by a fast path that
// reproduces Normalize for the common forms: ASCII digits, optionally
// led by '+', separated by spaces and - . / ( ), with ASCII white space
// around them. It covers every region and policy. Every other line (letters,
// extensions, "tel:" URIs, other scripts, other punctuation, more than
// 24 digits), and every number whose metadata the fast path cannot
// evaluate exactly, goes to Normalize.
func (n *Normalizer) NormalizeBytes(b []byte) (Result, Reason) {
	if res, why, ok := n.fastNormalize(b); ok {
		return res, why
	}
	return n.Normalize(string(b))
}

// The fast path in two tiers, for speed (some tens of nanoseconds a line):
//
//   - The scan (fastScanDigits) copies the digits of the trimmed line to
//     one array on the stack, the only copy of them: every later step works
//     on subslices of it. It has no branch on the kind of byte: every byte
//     is stored at the digit count, which a 256-entry table moves on by 1
//     for a digit, 0 for punctuation and past the digit limit for anything
//     else, in blocks of four.
//   - quick decides the common shapes ("+" and a calling code, the default
//     region's national number with or without its national prefix, the
//     calling code without '+', the international prefix) with lookups in
//     tables that buildFastTables derives from the metadata at start: the
//     default region by its two letters, the calling code by the first three
//     digits, and by the first two digits of a national number whether the
//     national prefix rule leaves it alone (fastMeta.noop2) and whether a
//     number without '+' is a plain national number (fastMeta.plain), and
//     the reason by policy and length (fastCC.why). Such a reading is
//     stable, so decide's second read is skipped; the E.164 number is the
//     calling code times a power of ten plus the national number's value,
//     eight digits at a time (swar8).
//   - Everything quick does not take goes to the first tier, run and
//     decide, which follow Normalize's steps one by one (parse, read,
//     settled, the re-read of the E.164 text, the 00 retry). Their pattern
//     questions go to a literal comparison, a decision trie (a few steps,
//     fast_re.go) or an automaton, and to the backtracker only where the
//     trie does not know. The two buffers of a national prefix transform
//     exist only on a second run, made when the first (without them)
//     declines.
//
// quick's tables are proved against the functions they stand for by
// TestFastQuickTables, and quick against decide by TestFastQuickDecide.

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

// fastView is one string as Parse sees it, described by what Parse
// reads of it when it holds nothing but ASCII digits, the punctuation
// ' ', '-', '.', '/', '(', ')' and at most a leading '+'.
type fastView struct {
	plus   bool   // it starts with '+'
	length int    // its length in bytes
	start  int    // the index of its first digit or '+'
	digits []byte // its digits, in order
}

// fastNormalize is Normalize on the fast path; ok is false when the fast
// path cannot decide b.
func (n *Normalizer) fastNormalize(b []byte) (Result, Reason, bool) {
	// The tables: nil only before they are first built.
	t := fastTablesP.Load()
	if t == nil {
		if t = loadFastTables(); t == nil {
			return Result{}, 0, false
		}
	}
	def := t.regionMeta(n.region)
	if def == nil || !def.ok || n.policy > PolicyAny {
		return Result{}, 0, false
	}
	i, j := 0, len(b)
	for i < j && fastClass[b[i]]&fastSpace != 0 {
		i++
	}
	for j > i && fastClass[b[j-1]]&fastSpace != 0 {
		j--
	}
	if i == j {
		return Result{}, ReasonEmpty, true
	}
	s := b[i:j]
	plus := s[0] == '+'
	k := 0
	if plus {
		k = 1
	}
	var d [32]byte
	nd := fastScanDigits(s[k:], &d)
	if nd > maxFastDigits {
		return Result{}, 0, false // too many digits, or a byte the scan declines
	}
	if nd == 0 {
		return Result{}, ReasonNoDigits, true
	}
	res, why, ok := quick(t, def, n.policy, plus, len(s), d[:nd])
	if ok && (why == ReasonNone || plus || !startsWith00(s)) {
		return res, why, true
	}
	f := fastReader{policy: n.policy, t: t, def: def}
	return f.slow(s, plus, d[:nd], res, why, ok)
}

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

// stripQuick is stripNationalPrefix without buffers, for quick: it also
// declines a rule with a transform that its trie does not decide, which
// would take the backtracker only to decline for want of a buffer.
func (m *fastMeta) stripQuick(x []byte) ([]byte, bool) {
	if r := m.npfp; r != nil && !r.isLit && m.transform != "" && len(x) > 0 {
		if r.trie == nil || r.trie.lookup(x).unknown {
			return nil, false
		}
	}
	return m.stripNationalPrefix(x, nil)
}

// decideBufs is decide with the buffers of a national prefix transform.
func (f fastReader) decideBufs(v *fastView) (Result, Reason, bool) {
	var bufs fastBufs
	f.bufs = &bufs
	return f.decide(v)
}

// slow is fastNormalize past quick, given quick's outcome on the line:
// Normalize's decide, where quick could not, and the 00 retry. It runs
// decide with the buffers of a national prefix transform.
func (f *fastReader) slow(s []byte, plus bool, d []byte, res Result, why Reason, ok bool) (Result, Reason, bool) {
	first := firstDigit(s)
	start := first
	if plus {
		start = 0
	}
	if !ok {
		v := fastView{plus: plus, length: len(s), start: start, digits: d}
		if res, why, ok = f.decideBufs(&v); !ok || why == ReasonNone {
			return res, why, ok
		}
	}
	// The 00 retry (afterDoubleZero): the punctuation before the first
	// digit holds no digit, so the two zeros are the first two digits.
	if !plus && first+1 < len(s) && s[first] == '0' && s[first+1] == '0' {
		retry := fastView{plus: true, length: 1 + len(s) - (first + 2), start: 0, digits: d[2:]}
		r2, why2, ok2 := quick(f.t, f.def, f.policy, retry.plus, retry.length, retry.digits)
		if !ok2 {
			r2, why2, ok2 = f.decideBufs(&retry)
		}
		if !ok2 {
			return Result{}, 0, false
		}
		if why2 == ReasonNone {
			return r2, ReasonNone, true
		}
	}
	return res, why, true
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

// fastBufs are the buffers of one read: a is the national number after
// the default region's calling code, b after the national prefix.
type fastBufs struct {
	a, b [2 * (maxFastDigits + 8)]byte
}

// fastReader reads one line for a Normalizer.
type fastReader struct {
	policy Policy
	t      *fastTables
	def    *fastMeta // the default region's metadata
	bufs   *fastBufs // nil: a national prefix transform declines
}

func (f *fastReader) bufA() []byte {
	if f.bufs == nil {
		return nil
	}
	return f.bufs.a[:0]
}

func (f *fastReader) bufB() []byte {
	if f.bufs == nil {
		return nil
	}
	return f.bufs.b[:0]
}

// quick is decide for the common shapes of a number; ok is false for the
// others, which decide takes (quick's ok is not decide's: decide may still
// decide them, or decline).
//
// The shapes: "+" and a calling code; the default region's international
// prefix and a calling code; the default region's calling code without
// '+' (a US "1 212 …"); and a national number, with or without a national
// prefix that is a plain literal. In each, what follows the calling code
// (or the national number, once its prefix is stripped) must be left as it
// is by the national prefix rule of the code's main region (npNoOp), so
// that Parse strips nothing more and settled holds: the number is read once,
// and its reason is a function of its length (fastCC.poss), but for
// PolicyValid. Each step is the one parse, fromDefault, read and settled
// take for that shape; every case they treat otherwise (a national number
// under three digits, a calling code the metadata does not support, a rule
// that strips or transforms) is left to decide.
func quick(t *fastTables, def *fastMeta, policy Policy, plus bool, length int, d []byte) (Result, Reason, bool) {
	// At least three digits: the number is viable, and afterIDD has
	// three digits to read.
	if len(d) < 3 || length > phonenumbers.MAX_INPUT_STRING_LENGTH {
		return Result{}, 0, false
	}
	var c *fastCC
	var nat []byte
	if plus {
		if c = t.cc3[int(d[0]-'0')*100+int(d[1]-'0')*10+int(d[2]-'0')]; c == nil {
			return Result{}, 0, false
		}
		nat = d[len(c.str):]
	} else if k := int(d[0]-'0')*10 + int(d[1]-'0'); def.plain[k] {
		c, nat = def.cc, d
	} else if x := d[len(def.ccStr):]; def.ccLead[k] && len(x) >= 3 && hasLit(d, def.ccStr) &&
		def.noop2[int(x[0]-'0')*10+int(x[1]-'0')] && def.lengths[len(d)] == phonenumbers.TOO_LONG {
		// fromDefault takes the calling code of a number too long as it is
		// (a US "1 212 …").
		c, nat = def.cc, x
	} else {
		var ok bool
		if c, nat, ok = quickNational(t, def, d); !ok {
			return Result{}, 0, false
		}
	}
	// After "+cc" parse strips with the main region's rule; settled reads
	// every number with it.
	if !c.ok || len(nat) < 3 {
		return Result{}, 0, false
	}
	if m := c.main; !m.noop2[int(nat[0]-'0')*10+int(nat[1]-'0')] && !m.npNoOp(nat) {
		return Result{}, 0, false
	}
	n := len(nat)
	if why := c.why[policy][n]; why != ReasonNone {
		if why != whyValid {
			return Result{}, why, true
		}
		valid, ok := c.validNumber(nat)
		if !ok {
			return Result{}, 0, false
		}
		if !valid {
			if why = c.poss[n]; why == ReasonNone {
				why = ReasonNotValid
			}
			return Result{}, why, true
		}
		if len(c.str)+n > MaxDigits {
			return Result{}, ReasonTooLong, true
		}
	}
	// natValue, its common case inline: n is at most 14 here.
	var v uint64
	if n > 8 {
		const zeros = 0x3030303030303030
		hi := (binary.LittleEndian.Uint64(nat) - zeros) << (8 * (16 - n) & 63)
		lo := binary.LittleEndian.Uint64(nat[n-8:]) - zeros
		v = swar8(hi)*1e8 + swar8(lo)
	} else {
		v = natValue(nat)
	}
	return Result{Number: int64(c.val*pow10[n] + v)}, ReasonNone, true
}

// quickNational is quick's fromDefault, and parse's national prefix for a
// national number: the calling code and the national number of digits d
// (at least three) without '+'.
func quickNational(t *fastTables, def *fastMeta, d []byte) (*fastCC, []byte, bool) {
	end, ok, sure := def.idd.matchEnd(d)
	if !sure {
		return nil, nil, false
	}
	if ok && (end == len(d) || d[end] != '0') {
		rest := d[end:]
		if len(rest) < 3 {
			return nil, nil, false
		}
		c := t.cc3[int(rest[0]-'0')*100+int(rest[1]-'0')*10+int(rest[2]-'0')]
		if c == nil {
			return nil, nil, false
		}
		return c, rest[len(c.str):], true
	}
	if def.cc == nil {
		return nil, nil, false
	}
	if hasLit(d, def.ccStr) {
		// The calling code is taken when the number is too long as it is,
		// or only valid without it.
		pot, ok := def.stripQuick(d[len(def.ccStr):])
		if !ok {
			return nil, nil, false
		}
		if def.lengths[len(d)] == phonenumbers.TOO_LONG || (!def.gen.full(d) && def.gen.full(pot)) {
			return def.cc, pot, true
		}
	}
	// A national number: its national prefix is stripped when what
	// remains has a possible length.
	pot, ok := def.stripQuick(d)
	if !ok {
		return nil, nil, false
	}
	switch def.lengths[len(pot)] {
	case phonenumbers.TOO_SHORT, phonenumbers.IS_POSSIBLE_LOCAL_ONLY, phonenumbers.INVALID_LENGTH:
		return def.cc, d, true
	}
	return def.cc, pot, true
}

// decide is Normalizer.decide.
func (f *fastReader) decide(v *fastView) (Result, Reason, bool) {
	res, stable, why, ok := f.read(v)
	if !ok || why != ReasonNone || stable {
		return res, why, ok
	}
	return f.reread(res)
}

// reread is the second half of decide: the E.164 digits of res read again
// as "+digits".
func (f *fastReader) reread(res Result) (Result, Reason, bool) {
	// The digits at the start of a longer array, for natValue.
	var e [MaxDigits + 8]byte
	ne := 1
	for x := res.Number; x >= 10; x /= 10 {
		ne++
	}
	for i, x := ne-1, uint64(res.Number); i >= 0; i, x = i-1, x/10 {
		e[i] = byte('0' + x%10)
	}
	again := fastView{plus: true, length: 1 + ne, start: 0, digits: e[:ne]}
	res2, _, why2, ok := f.read(&again)
	if !ok {
		return Result{}, 0, false
	}
	if why2 != ReasonNone || res2.Number != res.Number {
		return Result{}, ReasonAmbiguous, true
	}
	return res, ReasonNone, true
}

// read is Normalizer.read: Parse, the policy check, Format(E164) and
// settled.
func (f *fastReader) read(v *fastView) (res Result, stable bool, why Reason, ok bool) {
	c, nat, why, ok := f.parse(v)
	if !ok || why != ReasonNone {
		return Result{}, false, why, ok
	}
	switch f.policy {
	case PolicyPossible, PolicyValid:
		poss, ok := c.possible(nat)
		if !ok {
			return Result{}, false, 0, false
		}
		if f.policy == PolicyValid {
			valid, ok := c.validNumber(nat)
			if !ok {
				return Result{}, false, 0, false
			}
			if !valid {
				if poss == ReasonNone {
					poss = ReasonNotValid
				}
				return Result{}, false, poss, true
			}
		} else if poss != ReasonNone {
			return Result{}, false, poss, true
		}
	}
	ln := len(nat)
	if len(c.str)+ln > MaxDigits {
		return Result{}, false, ReasonTooLong, true
	}
	stable, ok = c.main.settled(nat)
	return Result{Number: int64(c.val*pow10[ln] + natValue(nat))}, stable, ReasonNone, ok
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

// possible is check's IsPossibleNumberWithReason mapped to a Reason.
func (c *fastCC) possible(nsn []byte) (Reason, bool) {
	m := c.main
	if m.genNoPattern {
		switch {
		case len(nsn) < 2:
			return ReasonTooShort, true
		case len(nsn) > 17:
			return ReasonTooLong, true
		}
		return ReasonNone, true
	}
	if len(nsn) >= len(m.lengths) {
		return 0, false
	}
	return possibleReason(m.lengths[len(nsn)]), true
}

// settled is settled(code, code+nsn) for a number of this metadata's
// calling code, this being the main metadata of the code.
func (m *fastMeta) settled(nsn []byte) (bool, bool) {
	r := m.npfp
	if r == nil {
		return true, true
	}
	if len(nsn) < 2 {
		return false, true
	}
	if r.isLit {
		// The automaton of a literal matches a prefix of nsn exactly when
		// nsn starts with it.
		return r.lit == "" || !hasLit(nsn, r.lit), true
	}
	if r.trie != nil {
		if res := r.trie.lookup(nsn); !res.unknown {
			return !res.ok || emptyMatch(res.cap), true
		}
	}
	if !r.any.prefix(nsn) {
		return true, true
	}
	b := btPool.Get().(*btState)
	defer btPool.Put(b)
	if !r.bt.match(b, nsn) {
		return false, false // the automaton and the backtracker disagree
	}
	return emptyMatch(b.matchcap), true
}

// emptyMatch reports that a match (FindSubmatchIndex) is empty and
// captures no group.
func emptyMatch(m []int) bool {
	if m[1] != 0 {
		return false
	}
	for _, p := range m[2:] {
		if p >= 0 {
			return false
		}
	}
	return true
}

// npNoOp reports that the national prefix rule leaves x (at least two
// digits) as it is, both in Parse (maybeStripNationalPrefixAndCarrierCode)
// and in settled: it does not match, or matches empty and captures
// nothing (and has a group, or no transform: a transform of a rule
// without groups replaces the empty match).
func (m *fastMeta) npNoOp(x []byte) bool {
	r := m.npfp
	if r == nil {
		return true
	}
	if r.isLit {
		return !hasLit(x, r.lit) || (r.lit == "" && m.transform == "")
	}
	if r.trie != nil {
		if res := r.trie.lookup(x); !res.unknown {
			return !res.ok || (emptyMatch(res.cap) && (m.transform == "" || r.nsub > 0))
		}
	}
	return !r.any.prefix(x)
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

// parse is phonenumbers.Parse(text, region) of a view; it returns the
// calling code and the national significant number (in f.bufs, or in
// v.digits), or why Parse fails.
func (f *fastReader) parse(v *fastView) (c *fastCC, nat []byte, why Reason, ok bool) {
	// parseHelper's input checks, extractPossibleNumber and
	// isViablePhoneNumber: the possible number runs from the first digit or
	// '+' to the end, and is viable when it is two digits, or when it has
	// at least three digits ('+' only in front, punctuation anywhere).
	// Nothing is stripped at the end: phonenumbers' UNWANTED_END_CHARS is
	// Java's class intersection, which Go's regexp reads as a pattern that
	// needs "&&" and "]", and the trailing punctuation is dropped with the
	// rest anyway. The extension patterns all need a letter, '#', ',' or
	// ';', so there is no extension.
	if v.length > phonenumbers.MAX_INPUT_STRING_LENGTH {
		return nil, nil, ReasonTooLong, true
	}
	if v.start < 0 {
		return nil, nil, ReasonNotANumber, true
	}
	l, nd := v.length-v.start, len(v.digits)
	if l < phonenumbers.MIN_LENGTH_FOR_NSN || (nd < 3 && (v.plus || l != 2 || nd != 2)) {
		return nil, nil, ReasonNotANumber, true
	}
	// maybeExtractCountryCode, and parseHelper's retry without the '+'
	// after an invalid country code.
	if v.plus {
		c, nat, why = f.t.afterIDD(v.digits)
		if why == ReasonInvalidCountryCode {
			c, nat, why, ok = f.fromDefault(v.digits)
			if !ok {
				return nil, nil, 0, false
			}
			if why == ReasonNone && c == nil {
				why = ReasonInvalidCountryCode
			}
		}
	} else {
		c, nat, why, ok = f.fromDefault(v.digits)
		if !ok {
			return nil, nil, 0, false
		}
	}
	if why != ReasonNone {
		return nil, nil, why, true
	}
	var m *fastMeta
	if c != nil {
		if !c.ok {
			return nil, nil, 0, false
		}
		// The metadata of the code's main region; when that is the default
		// region, that region's own metadata, which is the same.
		m = c.main
	} else {
		nat = v.digits
		m = f.def
		if c = f.t.cc[m.code]; c == nil || !c.ok {
			return nil, nil, 0, false
		}
	}
	if len(nat) < phonenumbers.MIN_LENGTH_FOR_NSN {
		return nil, nil, ReasonTooShort, true
	}
	// Strip the national prefix only if what remains has a possible
	// length (not TOO_SHORT, IS_POSSIBLE_LOCAL_ONLY or INVALID_LENGTH).
	pot, ok := m.stripNationalPrefix(nat, f.bufB())
	if !ok || len(pot) >= len(m.lengths) {
		return nil, nil, 0, false
	}
	switch m.lengths[len(pot)] {
	case phonenumbers.TOO_SHORT, phonenumbers.IS_POSSIBLE_LOCAL_ONLY, phonenumbers.INVALID_LENGTH:
	default:
		nat = pot
	}
	if len(nat) < phonenumbers.MIN_LENGTH_FOR_NSN {
		return nil, nil, ReasonTooShort, true
	}
	if len(nat) > phonenumbers.MAX_LENGTH_FOR_NSN {
		return nil, nil, ReasonTooLong, true
	}
	// The national number is kept as a uint64 and its leading zeros as
	// the Italian leading zero count: GetNationalSignificantNumber gives
	// nat back as it is.
	return c, nat, ReasonNone, true
}

// afterIDD is extractCountryCode after a '+' or an international prefix.
func (t *fastTables) afterIDD(d []byte) (*fastCC, []byte, Reason) {
	if len(d) <= phonenumbers.MIN_LENGTH_FOR_NSN {
		return nil, nil, ReasonTooShort // ErrTooShortAfterIDD
	}
	// The shortest code of the first one to three digits; none starts
	// with 0.
	c := t.cc3[int(d[0]-'0')*100+int(d[1]-'0')*10+int(d[2]-'0')]
	if c == nil {
		return nil, nil, ReasonInvalidCountryCode
	}
	return c, d[len(c.str):], ReasonNone
}

// fromDefault is maybeExtractCountryCode for a number without '+': the
// default region's international prefix, then its own calling code.
// A nil code and ReasonNone mean no calling code.
func (f *fastReader) fromDefault(d []byte) (*fastCC, []byte, Reason, bool) {
	def := f.def
	if end, ok, sure := def.idd.matchEnd(d); !sure {
		return nil, nil, 0, false
	} else if ok && (end == len(d) || d[end] != '0') {
		c, nat, why := f.t.afterIDD(d[end:])
		return c, nat, why, true
	}
	if !hasLit(d, def.ccStr) {
		return nil, nil, ReasonNone, true
	}
	pot, ok := def.stripNationalPrefix(d[len(def.ccStr):], f.bufA())
	if !ok || len(d) >= len(def.lengths) {
		return nil, nil, 0, false
	}
	// (!fullValid && nationalValid) || TOO_LONG, the automata only run when
	// the length does not decide.
	if def.lengths[len(d)] == phonenumbers.TOO_LONG || (!def.gen.full(d) && def.gen.full(pot)) {
		c := f.t.cc[def.code]
		if c == nil {
			return nil, nil, 0, false
		}
		return c, pot, ReasonNone, true
	}
	return nil, nil, ReasonNone, true
}

// matchEnd is parsePrefixAsIdd's match: whether the pattern matches at the
// start of d, and where the leftmost-first match ends. sure is false when
// the engines disagree.
func (r *prefixRule) matchEnd(d []byte) (end int, ok, sure bool) {
	if r.isLit {
		if hasLit(d, r.lit) {
			return len(r.lit), true, true
		}
		return 0, false, true
	}
	if r.trie != nil {
		if res := r.trie.lookup(d); !res.unknown {
			if !res.ok {
				return 0, false, true
			}
			return res.cap[1], true, true
		}
	}
	if !r.any.prefix(d) {
		return 0, false, true
	}
	b := btPool.Get().(*btState)
	defer btPool.Put(b)
	if !r.bt.match(b, d) {
		return 0, false, false
	}
	return b.matchcap[1], true, true
}

// stripNationalPrefix is maybeStripNationalPrefixAndCarrierCode: x with
// the national prefix removed or transformed, in out (appended) or as a
// subslice of x. A transform needs out: with a nil out it declines.
func (m *fastMeta) stripNationalPrefix(x []byte, out []byte) ([]byte, bool) {
	r := m.npfp
	if len(x) == 0 || r == nil {
		return x, true
	}
	if r.isLit && m.transform == "" {
		if !hasLit(x, r.lit) {
			return x, true
		}
		if m.gen.full(x) && !m.gen.full(x[len(r.lit):]) {
			return x, true
		}
		return x[len(r.lit):], true
	}
	if r.trie != nil {
		if res := r.trie.lookup(x); !res.unknown {
			if !res.ok {
				return x, true
			}
			return m.stripMatch(x, out, res.cap)
		}
	}
	if !r.any.prefix(x) {
		return x, true
	}
	b := btPool.Get().(*btState)
	defer btPool.Put(b)
	if !r.bt.match(b, x) {
		return nil, false
	}
	return m.stripMatch(x, out, b.matchcap)
}

// stripMatch is stripNationalPrefix after the rule matched x with the
// captures m.
func (m *fastMeta) stripMatch(x []byte, out []byte, match []int) ([]byte, bool) {
	r := m.npfp
	groups := match[:2*(r.nsub+1)]
	if m.transform == "" || groups[2*r.nsub] < 0 {
		if groups[1] == 0 {
			return x, true // nothing to strip, viable or not
		}
		if m.gen.full(x) && !m.gen.full(x[groups[1]:]) {
			return x, true
		}
		return x[groups[1]:], true
	}
	viable := m.gen.full(x)
	if out == nil {
		return nil, false
	}
	// ReplaceAllString of the anchored rule: the template expanded, then
	// the rest.
	t := r.re.Expand(out[:0], m.transformB, x, groups)
	t = append(t, x[groups[1]:]...)
	for _, c := range t {
		if c < '0' || c > '9' {
			return nil, false
		}
	}
	if viable && !m.gen.full(t) {
		return x, true
	}
	return t, true
}
