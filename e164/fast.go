package e164

import (
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

// fastView is one string as Parse sees it, described by what Parse
// reads of it when it holds nothing but ASCII digits, the punctuation
// ' ', '-', '.', '/', '(', ')' and at most a leading '+'.
type fastView struct {
	plus   bool   // it starts with '+'
	length int    // its length in bytes
	start  int    // the index of its first digit or '+', -1 if none
	digits []byte // its digits, in order
}

// fastNormalize is Normalize on the fast path; ok is false when the fast
// path cannot decide b.
func (n *Normalizer) fastNormalize(b []byte) (res Result, why Reason, ok bool) {
	i, j := 0, len(b)
	for i < j && isASCIISpace(b[i]) {
		i++
	}
	for j > i && isASCIISpace(b[j-1]) {
		j--
	}
	s := b[i:j]
	if len(s) == 0 {
		return Result{}, ReasonEmpty, true
	}
	var buf [maxFastDigits]byte
	nd, first := 0, -1
	for k, c := range s {
		switch {
		case '0' <= c && c <= '9':
			if nd == len(buf) {
				return Result{}, 0, false
			}
			if first < 0 {
				first = k
			}
			buf[nd] = c
			nd++
		case c == ' ' || c == '-' || c == '.' || c == '/' || c == '(' || c == ')':
		case c == '+' && k == 0:
		default:
			return Result{}, 0, false
		}
	}
	if nd == 0 {
		return Result{}, ReasonNoDigits, true
	}
	t := loadFastTables()
	if t == nil {
		return Result{}, 0, false
	}
	def := t.region[n.region]
	if def == nil || !def.ok {
		return Result{}, 0, false
	}
	f := fastReader{n: n, t: t, def: def}
	v := fastView{plus: s[0] == '+', length: len(s), start: first, digits: buf[:nd]}
	if v.plus {
		v.start = 0
	}
	if res, why, ok = f.decide(&v); !ok || why == ReasonNone {
		return res, why, ok
	}
	// The 00 retry (afterDoubleZero): the punctuation before the first
	// digit holds no digit, so the two zeros are the first two digits.
	k := 0
	for k < len(s) && (s[k] == ' ' || s[k] == '(' || s[k] == ')' || s[k] == '-' || s[k] == '.' || s[k] == '/') {
		k++
	}
	if k+1 < len(s) && s[k] == '0' && s[k+1] == '0' {
		retry := fastView{plus: true, length: 1 + len(s) - (k + 2), start: 0, digits: buf[2:nd]}
		r2, why2, ok2 := f.decide(&retry)
		if !ok2 {
			return Result{}, 0, false
		}
		if why2 == ReasonNone {
			return r2, ReasonNone, true
		}
	}
	return res, why, true
}

// isASCIISpace reports whether c is one of the ASCII characters that
// isTrimmable trims (unicode.IsSpace).
func isASCIISpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

// fastBufs are the buffers of one read: a is the national number after
// the default region's calling code, b after the national prefix.
type fastBufs struct {
	a, b [2 * (maxFastDigits + 8)]byte
}

// fastReader reads one line for a Normalizer.
type fastReader struct {
	n   *Normalizer
	t   *fastTables
	def *fastMeta // the default region's metadata
}

// decide is Normalizer.decide.
func (f *fastReader) decide(v *fastView) (Result, Reason, bool) {
	var e164 [MaxDigits]byte
	res, ne, stable, why, ok := f.read(v, &e164)
	if !ok || why != ReasonNone || stable {
		return res, why, ok
	}
	again := fastView{plus: true, length: 1 + ne, start: 0, digits: e164[:ne]}
	var e2 [MaxDigits]byte
	res2, _, _, why2, ok := f.read(&again, &e2)
	if !ok {
		return Result{}, 0, false
	}
	if why2 != ReasonNone || res2.Number != res.Number {
		return Result{}, ReasonAmbiguous, true
	}
	return res, ReasonNone, true
}

// read is Normalizer.read: Parse, the policy check, Format(E164) and
// settled. On acceptance it writes the E.164 digits to e164 and returns
// their count.
func (f *fastReader) read(v *fastView, e164 *[MaxDigits]byte) (res Result, ne int, stable bool, why Reason, ok bool) {
	var bufs fastBufs
	c, nat, why, ok := f.parse(v, &bufs)
	if !ok || why != ReasonNone {
		return Result{}, 0, false, why, ok
	}
	switch f.n.policy {
	case PolicyPossible, PolicyValid:
		poss, ok := c.possible(nat)
		if !ok {
			return Result{}, 0, false, 0, false
		}
		if f.n.policy == PolicyValid {
			valid, ok := c.validNumber(nat)
			if !ok {
				return Result{}, 0, false, 0, false
			}
			if !valid {
				if poss == ReasonNone {
					poss = ReasonNotValid
				}
				return Result{}, 0, false, poss, true
			}
		} else if poss != ReasonNone {
			return Result{}, 0, false, poss, true
		}
	}
	ne = len(c.str) + len(nat)
	if ne > MaxDigits {
		return Result{}, 0, false, ReasonTooLong, true
	}
	var num int64
	copy(e164[:], c.str)
	copy(e164[len(c.str):], nat)
	for _, d := range e164[:ne] {
		num = num*10 + int64(d-'0')
	}
	stable, ok = c.main.settled(nat)
	return Result{Number: num}, ne, stable, ReasonNone, ok
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
	if !r.any.prefix(nsn) {
		return true, true
	}
	if r.isLit {
		return r.lit == "", true
	}
	b := btPool.Get().(*btState)
	defer btPool.Put(b)
	if !r.bt.match(b, nsn) {
		return false, false // the automaton and the backtracker disagree
	}
	if b.matchcap[1] != 0 {
		return false, true
	}
	for _, p := range b.matchcap[2:] {
		if p >= 0 {
			return false, true
		}
	}
	return true, true
}

// parse is phonenumbers.Parse(text, region) of a view; it returns the
// calling code and the national significant number (in bufs, or in
// v.digits), or why Parse fails.
func (f *fastReader) parse(v *fastView, bufs *fastBufs) (c *fastCC, nat []byte, why Reason, ok bool) {
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
			c, nat, why, ok = f.fromDefault(v.digits, bufs.a[:0])
			if !ok {
				return nil, nil, 0, false
			}
			if why == ReasonNone && c == nil {
				why = ReasonInvalidCountryCode
			}
		}
	} else {
		c, nat, why, ok = f.fromDefault(v.digits, bufs.a[:0])
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
	pot, ok := m.stripNationalPrefix(nat, bufs.b[:0])
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
	if d[0] == '0' {
		return nil, nil, ReasonInvalidCountryCode
	}
	code := 0
	for i := 0; i < 3 && i < len(d); i++ {
		code = code*10 + int(d[i]-'0')
		if c := t.cc[code]; c != nil {
			return c, d[i+1:], ReasonNone
		}
	}
	return nil, nil, ReasonInvalidCountryCode
}

// fromDefault is maybeExtractCountryCode for a number without '+': the
// default region's international prefix, then its own calling code.
// A nil code and ReasonNone mean no calling code.
func (f *fastReader) fromDefault(d []byte, buf []byte) (*fastCC, []byte, Reason, bool) {
	def := f.def
	if end, ok, sure := def.idd.matchEnd(d); !sure {
		return nil, nil, 0, false
	} else if ok && (end == len(d) || d[end] != '0') {
		c, nat, why := f.t.afterIDD(d[end:])
		return c, nat, why, true
	}
	if len(d) < len(def.ccStr) || string(d[:len(def.ccStr)]) != def.ccStr {
		return nil, nil, ReasonNone, true
	}
	pot, ok := def.stripNationalPrefix(d[len(def.ccStr):], buf)
	if !ok || len(d) >= len(def.lengths) {
		return nil, nil, 0, false
	}
	fullValid := def.gen.full(d)
	nationalValid := def.gen.full(pot)
	if (!fullValid && nationalValid) || def.lengths[len(d)] == phonenumbers.TOO_LONG {
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
		if len(d) >= len(r.lit) && string(d[:len(r.lit)]) == r.lit {
			return len(r.lit), true, true
		}
		return 0, false, true
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
// subslice of x.
func (m *fastMeta) stripNationalPrefix(x []byte, out []byte) ([]byte, bool) {
	r := m.npfp
	if len(x) == 0 || r == nil {
		return x, true
	}
	if r.isLit && m.transform == "" {
		if len(x) < len(r.lit) || string(x[:len(r.lit)]) != r.lit {
			return x, true
		}
		if m.gen.full(x) && !m.gen.full(x[len(r.lit):]) {
			return x, true
		}
		return x[len(r.lit):], true
	}
	if !r.any.prefix(x) {
		return x, true
	}
	b := btPool.Get().(*btState)
	defer btPool.Put(b)
	if !r.bt.match(b, x) {
		return nil, false
	}
	groups := b.matchcap[:2*(r.nsub+1)]
	viable := m.gen.full(x)
	if m.transform == "" || groups[2*r.nsub] < 0 {
		if viable && !m.gen.full(x[groups[1]:]) {
			return x, true
		}
		return x[groups[1]:], true
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
