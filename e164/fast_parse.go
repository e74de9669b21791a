package e164

import "github.com/nyaruka/phonenumbers"

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
