package e164

import (
	"math/bits"
	"regexp"
	"regexp/syntax"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/nyaruka/phonenumbers"
)

// The fast path's tables, all derived at first use from the metadata that
// phonenumbers itself runs on (phonenumbers.MetadataCollection returns the
// collection its lookups were built from), never written by hand:
//
//   - per metadata (a region, or a non-geographical country calling code):
//     the country calling code, the general description's possible and
//     local-only lengths as testNumberLength reads them, its national number
//     pattern as an automaton, the national_prefix_for_parsing rule and
//     national_prefix_transform_rule, and the international_prefix pattern;
//   - per country calling code: the metadata Parse and
//     IsPossibleNumberWithReason use (the main region's, or the
//     non-geographical one), and the region list IsValidNumber walks;
//   - for PolicyValid, built on first use per metadata: automata of every
//     number type pattern with its possible lengths, and of leading_digits;
//   - for quick (fast.go), flat tables of what the above answer for the
//     common shapes: the region by its two letters (byRegion), the calling
//     code by the first three digits (cc3), by the first two digits of a
//     number whether the national prefix rule leaves it alone (noop2),
//     whether Parse reads it as a plain national number (plain) or may find
//     the region's calling code in front (ccLead), and the reason by policy
//     and national number length (fastCC.why). Each entry is what the
//     engines answer for every number with those digits, or false.
//
// Building them all takes some tens of milliseconds (most of it the
// decision tries of the prefix rules) and about 2 MB.
//
// Anything the engines cannot evaluate exactly marks its metadata or code
// unsupported, and every number that needs it goes to Normalize.

// maxFastDigits bounds the digits of an input the fast path takes.
const maxFastDigits = 24

type fastTables struct {
	region map[string]*fastMeta // by region code, for default regions
	// byRegion is region by the two letters of its code, AA to ZZ.
	byRegion [26 * 26]*fastMeta
	cc       [1000]*fastCC // by country calling code
	// cc3 is the calling code extractCountryCode finds in digits that
	// start with these three (100 to 999): the code of the first one, two
	// or three of them.
	cc3 [1000]*fastCC
}

// regionMeta is region[r].
func (t *fastTables) regionMeta(r string) *fastMeta {
	if len(r) == 2 {
		if a, b := uint(r[0]-'A'), uint(r[1]-'A'); a < 26 && b < 26 {
			return t.byRegion[a*26+b]
		}
	}
	return t.region[r]
}

// fastCC is one country calling code.
type fastCC struct {
	code int32
	val  uint64 // code
	str  string // decimal
	// main is the metadata of GetRegionCodeForCountryCode(code): what Parse
	// strips a national prefix with after "+code", what
	// IsPossibleNumberWithReason checks and whose national prefix rule
	// settled applies.
	main *fastMeta
	// regions are GetRegionCodesForCountryCode(code) for IsValidNumber:
	// the region's metadata, or main for "001".
	regions []*fastMeta
	ok      bool
	// poss is possible() by the length of the national number.
	poss [maxFastDigits + 1]Reason
	// why is read's reason by policy and the length of the national
	// number: too long for Parse, poss, or more than 15 E.164 digits; for
	// PolicyValid whyValid, unless too long for Parse.
	why [3][maxFastDigits + 1]Reason
}

// whyValid in fastCC.why: the reason depends on IsValidNumber.
const whyValid = Reason(255)

// fastMeta is the fast path's view of one PhoneMetadata.
type fastMeta struct {
	md    *phonenumbers.PhoneMetadata
	code  int32
	ccStr string
	ok    bool
	// genNoPattern: the general description has no pattern, so
	// IsPossibleNumberWithReason checks only MIN/MAX_LENGTH_FOR_NSN.
	genNoPattern bool
	// lengths is testNumberLength(x, md, UNKNOWN) by len(x).
	lengths [maxFastDigits + 8]phonenumbers.ValidationResult
	gen     *digitDFA   // "^(?:general national number pattern)$"
	npfp    *prefixRule // national_prefix_for_parsing; nil when empty
	// transform is national_prefix_transform_rule.
	transform  string
	transformB []byte
	idd        *prefixRule // international_prefix

	// noop2 tells, by the first two digits, the national numbers of at
	// least three digits that npNoOp holds for, whatever follows.
	noop2 [100]bool
	// For a default region: cc is its calling code, and plain tells, by
	// the first two digits, the numbers of at least three digits without
	// '+' that Parse reads as national numbers left as they are: no
	// international prefix, not the calling code, and npNoOp for this
	// region and the code's main region.
	cc    *fastCC
	plain [100]bool
	// ccLead tells, by the first two digits, the numbers without '+'
	// that the international prefix surely does not match and that may
	// start with the calling code.
	ccLead [100]bool

	valid  func() *fastValid // PolicyValid data, built once on first use
	validP atomic.Pointer[fastValid]
}

// validData is valid(), without the call once it is built.
func (m *fastMeta) validData() *fastValid {
	if v := m.validP.Load(); v != nil {
		return v
	}
	v := m.valid()
	m.validP.Store(v)
	return v
}

// prefixRule is a pattern applied anchored at the start of the digits:
// "^(?:p)" with leftmost-first semantics.
type prefixRule struct {
	any *digitDFA // whether it matches at all
	// lit: the pattern is this plain literal (no group, no operator), the
	// common "0", "1", "00", "011".
	lit   string
	isLit bool
	bt    *btProg
	// trie is bt's outcome by the leading digits that decide it, for a
	// pattern that is no literal: what the fast path looks up instead of
	// running bt, which it still runs where the trie answers unknown.
	trie *prefixTrie
	re   *regexp.Regexp // for Expand, and the group count
	nsub int
}

func newPrefixRule(p string) (*prefixRule, error) {
	expr := "^(?:" + p + ")"
	re, err := regexp.Compile(expr)
	if err != nil {
		return nil, err
	}
	r := &prefixRule{re: re, nsub: re.NumSubexp()}
	if r.any, err = compileDigitDFA(expr); err != nil {
		return nil, err
	}
	if r.bt, err = compileBT(expr); err != nil {
		return nil, err
	}
	r.bt.ncap = max(r.bt.ncap, 2*(r.nsub+1)) // FindSubmatchIndex pads with -1
	if sre, err := syntax.Parse(p, syntax.Perl); err == nil {
		switch sre = sre.Simplify(); {
		case sre.Op == syntax.OpEmptyMatch:
			r.isLit = true
		case sre.Op == syntax.OpLiteral && sre.Flags&syntax.FoldCase == 0:
			r.lit, r.isLit = string(sre.Rune), true
		}
	}
	if !r.isLit {
		r.trie = buildPrefixTrie(r.bt)
	}
	return r, nil
}

// testLength is phonenumbers' testNumberLength(number, metadata, UNKNOWN)
// for a number of n digits: the general description's lengths.
func testLength(md *phonenumbers.PhoneMetadata, n int) (res phonenumbers.ValidationResult, ok bool) {
	desc := md.GetGeneralDesc()
	if desc == nil {
		return 0, false
	}
	possible := desc.PossibleLength
	if len(possible) == 0 {
		possible = md.GeneralDesc.PossibleLength
	}
	if len(possible) == 0 {
		return 0, false // phonenumbers would index out of range
	}
	if possible[0] == -1 {
		return phonenumbers.INVALID_LENGTH, true
	}
	actual := int32(n)
	for _, l := range desc.PossibleLengthLocalOnly {
		if l == actual {
			return phonenumbers.IS_POSSIBLE_LOCAL_ONLY, true
		}
	}
	switch minimum := possible[0]; {
	case minimum == actual:
		return phonenumbers.IS_POSSIBLE, true
	case minimum > actual:
		return phonenumbers.TOO_SHORT, true
	case possible[len(possible)-1] < actual:
		return phonenumbers.TOO_LONG, true
	}
	for _, l := range possible[1:] {
		if l == actual {
			return phonenumbers.IS_POSSIBLE, true
		}
	}
	return phonenumbers.INVALID_LENGTH, true
}

func newFastMeta(md *phonenumbers.PhoneMetadata) *fastMeta {
	m := &fastMeta{md: md, code: md.GetCountryCode(), ccStr: strconv.Itoa(int(md.GetCountryCode()))}
	m.valid = sync.OnceValue(func() *fastValid { return newFastValid(md) })
	gd := md.GetGeneralDesc()
	if gd == nil {
		return m
	}
	m.genNoPattern = gd.GetNationalNumberPattern() == ""
	for n := range m.lengths {
		r, ok := testLength(md, n)
		if !ok {
			return m
		}
		m.lengths[n] = r
	}
	var err error
	if m.gen, err = compileDigitDFA("^(?:" + gd.GetNationalNumberPattern() + ")$"); err != nil {
		return m
	}
	if p := md.GetNationalPrefixForParsing(); p != "" {
		if m.npfp, err = newPrefixRule(p); err != nil {
			return m
		}
	}
	m.transform = md.GetNationalPrefixTransformRule()
	m.transformB = []byte(m.transform)
	// Parse compiles the international prefix as it is, unanchored, and
	// takes a match only at the start: the leftmost-first match at 0 is
	// that of "^(?:p)".
	if m.idd, err = newPrefixRule(md.GetInternationalPrefix()); err != nil {
		return m
	}
	m.ok = true
	for i := range m.noop2 {
		m.noop2[i] = m.npNoOp2([2]byte{byte('0' + i/10), byte('0' + i%10)})
	}
	return m
}

// npNoOp2 reports that npNoOp holds for every number of at least three
// digits that starts with p.
func (m *fastMeta) npNoOp2(p [2]byte) bool {
	r := m.npfp
	switch {
	case r == nil:
		return true
	case r.isLit:
		lit := r.lit
		return (lit == "" && m.transform == "") || (len(lit) >= 1 && lit[0] != p[0]) || (len(lit) >= 2 && lit[1] != p[1])
	}
	if res := r.trie.after(p[:]); res != nil {
		return !res.ok || (emptyMatch(res.cap) && (m.transform == "" || r.nsub > 0))
	}
	return r.any.deadAfter(p[:])
}

// noMatch2 reports that the rule matches no input of at least three
// digits that starts with p (matchEnd).
func (r *prefixRule) noMatch2(p [2]byte) bool {
	if r.isLit {
		lit := r.lit
		return (len(lit) >= 1 && lit[0] != p[0]) || (len(lit) >= 2 && lit[1] != p[1])
	}
	if res := r.trie.after(p[:]); res != nil {
		return !res.ok
	}
	return r.any.deadAfter(p[:])
}

// fastValid is what IsValidNumber reads of one metadata: the national
// number patterns of the general description and of each number type,
// with their possible lengths, and leading_digits.
type fastValid struct {
	ok      bool
	gen     descMatcher
	types   []descMatcher // any of them makes a number valid
	leading *digitDFA     // nil when the metadata has no leading digits
	// live2 tells, by the first two digits of a number, the patterns that
	// may match it: bit i for types[i], liveGen for gen. The others'
	// automata are dead after those digits.
	live2 [100]uint32
}

const liveGen = 1 << 31

// descMatcher is isNumberMatchingDesc for one PhoneNumberDesc.
type descMatcher struct {
	anyLength bool   // no possible lengths listed: the pattern decides
	lengths   uint64 // bit n: n is a listed possible length
	dfa       *digitDFA
}

func newDescMatcher(d *phonenumbers.PhoneNumberDesc) (descMatcher, bool) {
	if d == nil {
		return descMatcher{}, false // phonenumbers would dereference nil
	}
	m := descMatcher{anyLength: len(d.PossibleLength) == 0}
	for _, l := range d.PossibleLength {
		if l >= 0 && l < 64 {
			m.lengths |= 1 << l
		}
	}
	var err error
	m.dfa, err = compileDigitDFA("^(?:" + d.GetNationalNumberPattern() + ")$")
	return m, err == nil
}

func (m *descMatcher) matches(nsn []byte) bool {
	if !m.anyLength && (len(nsn) >= 64 || m.lengths&(1<<len(nsn)) == 0) {
		return false
	}
	return m.dfa.full(nsn)
}

func newFastValid(md *phonenumbers.PhoneMetadata) *fastValid {
	v := &fastValid{}
	var ok bool
	if v.gen, ok = newDescMatcher(md.GetGeneralDesc()); !ok {
		return v
	}
	// getNumberTypeHelper: premium rate, toll free, shared cost, VoIP,
	// personal, pager, UAN, voicemail, fixed line, then mobile unless its
	// pattern is declared the fixed line's. Whether one of them matches
	// does not depend on their order: the likeliest come first.
	descs := []*phonenumbers.PhoneNumberDesc{md.GetFixedLine()}
	if !md.GetSameMobileAndFixedLinePattern() {
		descs = append(descs, md.GetMobile())
	}
	descs = append(descs, md.GetPremiumRate(), md.GetTollFree(), md.GetSharedCost(), md.GetVoip(),
		md.GetPersonalNumber(), md.GetPager(), md.GetUan(), md.GetVoicemail())
	for _, d := range descs {
		m, ok := newDescMatcher(d)
		if !ok {
			return v
		}
		if !m.anyLength && m.lengths == 0 {
			continue // only length -1: never matches
		}
		v.types = append(v.types, m)
	}
	if ld := md.GetLeadingDigits(); ld != "" {
		var err error
		if v.leading, err = compileDigitDFA("^(?:" + ld + ")"); err != nil {
			return v
		}
	}
	for i := range v.live2 {
		p := []byte{byte('0' + i/10), byte('0' + i%10)}
		if !v.gen.dfa.deadAfter(p) {
			v.live2[i] |= liveGen
		}
		for j := range v.types {
			if !v.types[j].dfa.deadAfter(p) {
				v.live2[i] |= 1 << j
			}
		}
	}
	v.ok = true
	return v
}

// known reports getNumberTypeHelper(nsn, md) != UNKNOWN.
func (v *fastValid) known(nsn []byte) bool {
	live := uint32(1)<<len(v.types) - 1 | liveGen
	if len(nsn) >= 2 {
		live = v.live2[int(nsn[0]-'0')*10+int(nsn[1]-'0')]
	}
	if live&liveGen == 0 || !v.gen.matches(nsn) {
		return false
	}
	for live &^= liveGen; live != 0; live &= live - 1 {
		if v.types[bits.TrailingZeros32(live)].matches(nsn) {
			return true
		}
	}
	return false
}

// fastTablesP is loadFastTables() once it has returned.
var fastTablesP atomic.Pointer[fastTables]

var loadFastTables = sync.OnceValue(func() *fastTables {
	t := buildFastTables()
	if t != nil {
		fastTablesP.Store(t)
	}
	return t
})

func buildFastTables() *fastTables {
	coll, err := phonenumbers.MetadataCollection()
	if err != nil {
		return nil
	}
	t := &fastTables{region: make(map[string]*fastMeta)}
	// The same derivation as phonenumbers' metadata container: regions by
	// id, non-geographical entities ("001") by calling code.
	nonGeo := make(map[int32]*fastMeta)
	for _, md := range coll.GetMetadata() {
		if md.GetId() == "001" {
			nonGeo[md.GetCountryCode()] = newFastMeta(md)
		} else {
			t.region[md.GetId()] = newFastMeta(md)
		}
	}
	supported := phonenumbers.GetSupportedRegions()
	for region := range t.region {
		if !supported[region] {
			delete(t.region, region) // getMetadataForRegion would return nil
		}
	}
	for code := range phonenumbers.GetSupportedCallingCodes() {
		if code <= 0 || code >= len(t.cc) {
			continue
		}
		c := &fastCC{code: int32(code), val: uint64(code), str: strconv.Itoa(code), ok: true}
		regions := phonenumbers.GetRegionCodesForCountryCode(code)
		if len(regions) == 0 {
			continue
		}
		lookup := func(region string) *fastMeta {
			if region == "001" {
				return nonGeo[int32(code)]
			}
			return t.region[region]
		}
		if c.main = lookup(regions[0]); c.main == nil || !c.main.ok || c.main.code != int32(code) {
			c.ok = false
		}
		for _, r := range regions {
			m := lookup(r)
			if m == nil || m.code != int32(code) || (r == "001" && len(regions) > 1) {
				c.ok = false
			}
			c.regions = append(c.regions, m)
		}
		if c.ok {
			var zeros [maxFastDigits]byte
			for n := range c.poss {
				if c.poss[n], c.ok = c.possible(zeros[:n]); !c.ok {
					break
				}
				for p := range c.why {
					why := ReasonNone
					switch {
					case n > phonenumbers.MAX_LENGTH_FOR_NSN:
						why = ReasonTooLong
					case Policy(p) == PolicyValid:
						why = whyValid
					case Policy(p) == PolicyPossible:
						why = c.poss[n]
					}
					if why == ReasonNone && len(c.str)+n > MaxDigits {
						why = ReasonTooLong
					}
					c.why[p][n] = why
				}
			}
		}
		t.cc[code] = c
	}
	for p := 100; p < 1000; p++ {
		for _, code := range []int{p / 100, p / 10, p} {
			if t.cc[code] != nil {
				t.cc3[p] = t.cc[code]
				break
			}
		}
	}
	for _, m := range t.region {
		m.cc = t.cc[m.code]
		if !m.ok || m.cc == nil || !m.cc.ok {
			continue
		}
		for i := range m.plain {
			p := [2]byte{byte('0' + i/10), byte('0' + i%10)}
			noCC := m.ccStr[0] != p[0] || (len(m.ccStr) >= 2 && m.ccStr[1] != p[1])
			m.plain[i] = noCC && m.idd.noMatch2(p) && m.noop2[i] && m.cc.main.noop2[i]
			m.ccLead[i] = !noCC && m.idd.noMatch2(p)
		}
	}
	for r, m := range t.region {
		if len(r) == 2 {
			if a, b := uint(r[0]-'A'), uint(r[1]-'A'); a < 26 && b < 26 {
				t.byRegion[a*26+b] = m
			}
		}
	}
	return t
}

// validNumber is IsValidNumber for a number of calling code c and national
// significant number nsn; ok is false when the tables cannot tell.
func (c *fastCC) validNumber(nsn []byte) (valid, ok bool) {
	// GetRegionCodeForNumber: the only region, or the first whose leading
	// digits match the number, or, for a region without leading digits,
	// whose number types know it; then IsValidNumberForRegion.
	if len(c.regions) == 1 {
		v := c.regions[0].validData()
		return v.ok && v.known(nsn), v.ok
	}
	for _, m := range c.regions {
		v := m.validData()
		if !v.ok {
			return false, false
		}
		if v.leading != nil {
			if v.leading.prefix(nsn) {
				return v.known(nsn), true
			}
		} else if v.known(nsn) {
			return true, true
		}
	}
	return false, true
}
