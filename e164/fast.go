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
