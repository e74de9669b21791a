package e164

import (
	"encoding/binary"
	"math/bits"
	"regexp"
	"regexp/syntax"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/nyaruka/phonenumbers"
)

// The national form on the fast path: what National asks phonenumbers
// (Parse("+digits", "ZZ"), then Format(NATIONAL), digits kept), derived
// from the metadata the normalization fast path compiles, in about the
// time strconv takes to write the E.164 digits instead of 12 to 15 µs:
//
//   - Parse: the calling code by the first three digits (natCodes), then
//     the national prefix rule of the code's main metadata
//     (stripNationalPrefix, as for "+cc" lines), its result kept only when
//     it has a possible length. The national significant number keeps its
//     leading zeros (Italy's, and those of every country that keeps one):
//     Parse stores them as italian_leading_zero and a count, and
//     GetNationalSignificantNumber writes them back.
//   - Format(NATIONAL): the first of the metadata's number formats whose
//     last leading_digits pattern matches at the start and whose pattern
//     matches the whole number (chooseFormattingPatternForNumber); with
//     none, the number as it is. The chosen format's template, its first
//     group replaced by the national prefix formatting rule ("0$1",
//     "8 ($1)", "($1)": where the trunk prefix comes from), is expanded
//     from the pattern's groups by ReplaceAllString. Only digits are kept,
//     so each format reduces to a recipe (natFormat, natRecipe): the
//     digits before, the number, the digits after; or, for a pattern of
//     one length whose template moves or drops digits (Argentina's
//     mobiles), which digit of the number or literal goes where.
//   - The format is looked up in a trie by the number's length and
//     leading digits (natMeta), built from the automata of the formats'
//     patterns: each entry is the format that every number of that length
//     and those leading digits gets, or "unknown" past the trie's size
//     bound, where the automata are walked in order (natMeta.choose).
//
// Only the calling codes a caller uses are read (natCodeOf, a few
// milliseconds each): an export of one country reads one. Where the
// engines cannot tell exactly (a pattern or template outside the recipes,
// a national prefix rule the backtracker and the automaton disagree on, a
// metadata the fast path does not support) a step declines (decided
// false) and National asks phonenumbers; none of phonenumbers' example
// numbers and none of a million generated ones needs it today.
// TestNationalExamples and TestNationalGenerated hold the fast path to
// phonenumbers, TestNationalTrieMatchesChoose the trie to the automata.

// natCodes is, by the first three digits of a number, the country calling
// code CountryCode finds there: the first of its one, two or three digits
// that phonenumbers knows (GetRegionCodeForCountryCode is not "ZZ"); 0
// for none. Built when the package is (999 map lookups: some
// microseconds), so a lookup is one load.
var natCodes = func() *[1000]int16 {
	var valid [1000]bool
	for code := 1; code < 1000; code++ {
		valid[code] = phonenumbers.GetRegionCodeForCountryCode(code) != phonenumbers.UNKNOWN_REGION
	}
	var t [1000]int16
	for p := 100; p < 1000; p++ {
		for _, code := range []int{p / 100, p / 10, p} {
			if valid[code] {
				t[p] = int16(code)
				break
			}
		}
	}
	return &t
}()

// lead3 is the first three digits of x ≥ 100.
func lead3(x uint64) int {
	return int(x / pow10[decimalLen(x)-3])
}

// decimalLen is the number of decimal digits of x > 0: about log10 from
// the bit length (1233/4096 ≈ log10(2)), one more when x reaches the next
// power of ten.
func decimalLen(x uint64) int {
	n := bits.Len64(x) * 1233 >> 12
	if x >= pow10[n] {
		n++
	}
	return n
}

// natCode is one country calling code on the national fast path: its
// main metadata (the region GetRegionCodeForCountryCode names, or the
// global network's), which Parse strips a national prefix with and Format
// formats with, read as the normalization fast path reads it, and its
// formats. Built on the code's first use (a few milliseconds), so an
// export of one country builds one.
type natCode struct {
	ok   bool
	str  string // the code in decimal
	meta *fastMeta
	nat  *natMeta
}

var natByCode [1000]struct {
	p    atomic.Pointer[natCode] // set once built
	once sync.Once
}

func natCodeOf(code int) *natCode {
	e := &natByCode[code]
	if c := e.p.Load(); c != nil {
		return c
	}
	e.once.Do(func() { e.p.Store(newNatCode(code)) })
	return e.p.Load()
}

func newNatCode(code int) *natCode {
	c := &natCode{str: strconv.Itoa(code)}
	md := mainMetadata(code)
	if md == nil {
		return c
	}
	if c.meta = newFastMeta(md); !c.meta.ok || c.meta.code != int32(code) {
		return c
	}
	c.nat = newNatMeta(md)
	c.ok = c.nat.ok
	return c
}

// mainMetadata is getMetadataForRegionOrCallingCode(code,
// GetRegionCodeForCountryCode(code)), or nil.
func mainMetadata(code int) *phonenumbers.PhoneMetadata {
	idx := metadataIndex()
	region := phonenumbers.GetRegionCodeForCountryCode(code)
	if region == "001" {
		return idx.nonGeo[int32(code)]
	}
	if !phonenumbers.GetSupportedRegions()[region] {
		return nil
	}
	return idx.region[region]
}

// metadataIndex is phonenumbers' metadata collection by region and, for
// the global networks ("001"), by calling code.
var metadataIndex = sync.OnceValue(func() (idx struct {
	region map[string]*phonenumbers.PhoneMetadata
	nonGeo map[int32]*phonenumbers.PhoneMetadata
}) {
	idx.region = map[string]*phonenumbers.PhoneMetadata{}
	idx.nonGeo = map[int32]*phonenumbers.PhoneMetadata{}
	coll, err := phonenumbers.MetadataCollection()
	if err != nil {
		return idx
	}
	for _, md := range coll.GetMetadata() {
		if md.GetId() == "001" {
			idx.nonGeo[md.GetCountryCode()] = md
		} else {
			idx.region[md.GetId()] = md
		}
	}
	return idx
})

// appendNationalFast is AppendNational for a positive number; decided is
// false where the fast path cannot tell, and dst is then as it was.
func appendNationalFast(dst []byte, number int64) (out []byte, cc int, ok, decided bool) {
	var buf [24]byte
	d := formatDecimal(&buf, uint64(number))
	if len(d) <= phonenumbers.MIN_LENGTH_FOR_NSN {
		return dst, countryCodeSlow(number), false, true // too short after '+' (afterIDD)
	}
	code := int(natCodes[int(d[0]-'0')*100+int(d[1]-'0')*10+int(d[2]-'0')])
	if code == 0 {
		return dst, code, false, true // no country calling code
	}
	c := natCodeOf(code)
	if !c.ok {
		return dst, code, false, false
	}
	// parseHelper after "+" and the calling code: the national prefix of
	// the code's main metadata is stripped when what remains has a
	// possible length.
	m := c.meta
	nat := d[len(c.str):]
	if len(nat) < phonenumbers.MIN_LENGTH_FOR_NSN {
		return dst, code, false, true
	}
	// noop2: the rule surely leaves a number of at least three digits
	// that starts so as it is (most numbers: E.164 holds no trunk prefix).
	if len(nat) < 3 || !m.noop2[int(nat[0]-'0')*10+int(nat[1]-'0')] {
		var sb [2 * (maxFastDigits + 8)]byte
		pot, sure := m.stripNationalPrefix(nat, sb[:0])
		if !sure || len(pot) >= len(m.lengths) {
			return dst, code, false, false
		}
		switch m.lengths[len(pot)] {
		case phonenumbers.TOO_SHORT, phonenumbers.IS_POSSIBLE_LOCAL_ONLY, phonenumbers.INVALID_LENGTH:
		default:
			nat = pot
		}
	}
	if len(nat) < phonenumbers.MIN_LENGTH_FOR_NSN || len(nat) > phonenumbers.MAX_LENGTH_FOR_NSN {
		return dst, code, false, true
	}
	out, ok, decided = c.nat.format(dst, nat)
	return out, code, ok, decided
}

// formatDecimal writes x > 0 in decimal at the end of buf and returns
// those digits: eight at a time (swarDigits8).
func formatDecimal(buf *[24]byte, x uint64) []byte {
	n := decimalLen(x)
	binary.LittleEndian.PutUint64(buf[16:], swarDigits8(x%1e8))
	if n > 8 {
		x /= 1e8
		binary.LittleEndian.PutUint64(buf[8:], swarDigits8(x%1e8))
		if n > 16 {
			binary.LittleEndian.PutUint64(buf[:8], swarDigits8(x/1e8))
		}
	}
	return buf[24-n:]
}

// swarDigits8 is the eight ASCII digits of v < 10^8, the first in the
// lowest byte: its two halves of four digits side by side in one word,
// each split into pairs, each pair into digits, by multiplications with
// reciprocals that hold below 10,000 (10486/2^20 for /100) and below 100
// (103/2^10 for /10).
func swarDigits8(v uint64) uint64 {
	hi := v / 10000
	m := hi | (v-hi*10000)<<32
	top := m * 10486 >> 20 & (0x7f<<32 | 0x7f)
	h := (m-100*top)<<16 + top
	tens := h * 103 >> 10 & (0xf<<48 | 0xf<<32 | 0xf<<16 | 0xf)
	return tens + (h-10*tens)<<8 + 0x3030303030303030
}

// natMeta is Format(NATIONAL) for the national significant numbers of one
// metadata.
type natMeta struct {
	ok      bool
	formats []natFormat
	// root is, by the length of a number, its first trie entry; next holds
	// the nodes, 10 entries each, by digit. An entry ≥ 0 is the offset of
	// the next node, < 0 the outcome ^o: natUnknown, natNone, or
	// natFirst+i for formats[i].
	root [phonenumbers.MAX_LENGTH_FOR_NSN + 1]int32
	next []int32
}

const (
	natUnknown = 0 // past the trie's bound: walk the automata
	natNone    = 1 // no format: the number as it is
	natFirst   = 2
	// maxNatNodes bounds one metadata's trie (40 bytes a node).
	maxNatNodes = 2048
)

// natFormat is one NumberFormat, as far as the digits of Format(NATIONAL)
// go.
type natFormat struct {
	ld   *digitDFA // "^(?:last leading digits pattern)", nil without one
	full *digitDFA // "^(?:pattern)$"
	kind natKind
	// natWhole: the digits are pre, the number, post.
	pre, post []byte
	// natGather: the digits are, in order, nsn[g] for g ≥ 0 and the
	// digit ^g for g < 0.
	gather []int8
}

type natKind uint8

const (
	natSlow   natKind = iota // a template or pattern outside the recipes: phonenumbers formats it
	natWhole                 // pre + number + post
	natGather                // a pattern of one length: gather
)

// format appends the digits of Format(NATIONAL) of the national
// significant number nsn (2 to 17 digits).
func (m *natMeta) format(dst, nsn []byte) (out []byte, ok, decided bool) {
	e := m.root[len(nsn)]
	for i := 0; e >= 0; i++ {
		e = m.next[e+int32(nsn[i]-'0')]
	}
	o := int(^e)
	if o == natUnknown {
		o = m.choose(nsn)
	}
	if o == natNone {
		return append(dst, nsn...), true, true
	}
	f := &m.formats[o-natFirst]
	n := len(dst)
	switch f.kind {
	case natWhole:
		// One byte of pre (the trunk prefix "0") and no post are the
		// common case: appended without a call to memmove.
		if len(f.pre) == 1 {
			dst = append(dst, f.pre[0])
		} else {
			dst = append(dst, f.pre...)
		}
		dst = append(dst, nsn...)
		if len(f.post) > 0 {
			dst = append(dst, f.post...)
		}
	case natGather:
		for _, g := range f.gather {
			if g >= 0 {
				dst = append(dst, nsn[g])
			} else {
				dst = append(dst, byte(^g))
			}
		}
	default:
		return dst, false, false
	}
	return dst, len(dst) > n, true
}

// choose is chooseFormattingPatternForNumber: the outcome for nsn.
func (m *natMeta) choose(nsn []byte) int {
	for i := range m.formats {
		f := &m.formats[i]
		if (f.ld == nil || f.ld.prefix(nsn)) && f.full.full(nsn) {
			return natFirst + i
		}
	}
	return natNone
}

// firstGroupPattern is phonenumbers' FIRST_GROUP_PATTERN.
var firstGroupPattern = regexp.MustCompile(`(\$\d)`)

func newNatMeta(md *phonenumbers.PhoneMetadata) *natMeta {
	m := &natMeta{}
	for _, nf := range md.GetNumberFormat() {
		f, err := newNatFormat(nf)
		if err != nil {
			return m
		}
		m.formats = append(m.formats, f)
	}
	m.buildTrie()
	m.ok = true
	return m
}

func newNatFormat(nf *phonenumbers.NumberFormat) (natFormat, error) {
	var f natFormat
	var err error
	if f.full, err = compileDigitDFA("^(?:" + nf.GetPattern() + ")$"); err != nil {
		return f, err
	}
	if lds := nf.GetLeadingDigitsPattern(); len(lds) > 0 {
		// FindStringIndex's match starts at 0 exactly when some match does.
		if f.ld, err = compileDigitDFA("^(?:" + lds[len(lds)-1] + ")"); err != nil {
			return f, err
		}
	}
	// formatNsnUsingPatternWithCarrier, NATIONAL without a carrier code:
	// the first "$d" of the format replaced by the national prefix
	// formatting rule, taken as it is (ReplaceAllStringFunc).
	tmpl := nf.GetFormat()
	if rule := nf.GetNationalPrefixFormattingRule(); rule != "" {
		first := true
		tmpl = firstGroupPattern.ReplaceAllStringFunc(tmpl, func(s string) string {
			if first {
				first = false
				return rule
			}
			return s
		})
	}
	f.kind, f.pre, f.post, f.gather = natRecipe(nf.GetPattern(), tmpl)
	return f, nil
}

// natItem is one element of a format pattern: a character class repeated
// min to max times (max -1: unbounded), greedily, in group g (0: none).
type natItem struct {
	min, max int
	any      bool // the class holds every digit
	group    int
}

// natItems reads a format pattern as a sequence of single-character
// classes, each repeated greedily, some inside groups that are not
// nested: "(\d{3})(\d{3,4})". ok is false for anything else.
func natItems(re *syntax.Regexp) (items []natItem, ok bool) {
	top := []*syntax.Regexp{re}
	if re.Op == syntax.OpConcat {
		top = re.Sub
	}
	for _, r := range top {
		group := 0
		if r.Op == syntax.OpCapture {
			group, r = r.Cap, r.Sub[0]
		}
		in := []*syntax.Regexp{r}
		if r.Op == syntax.OpConcat {
			in = r.Sub
		}
		if r.Op == syntax.OpEmptyMatch {
			in = nil
		}
		for _, x := range in {
			min, max := 1, 1
			switch x.Op {
			case syntax.OpLiteral:
				for range x.Rune {
					items = append(items, natItem{min: 1, max: 1, group: group})
				}
				continue
			case syntax.OpRepeat:
				min, max = x.Min, x.Max
			case syntax.OpQuest:
				min, max = 0, 1
			case syntax.OpStar:
				min, max = 0, -1
			case syntax.OpPlus:
				min, max = 1, -1
			}
			if x.Op == syntax.OpRepeat || x.Op == syntax.OpQuest || x.Op == syntax.OpStar || x.Op == syntax.OpPlus {
				if x.Flags&syntax.NonGreedy != 0 {
					return nil, false
				}
				x = x.Sub[0]
			}
			var any bool
			switch x.Op {
			case syntax.OpLiteral:
				if len(x.Rune) != 1 {
					return nil, false
				}
			case syntax.OpCharClass:
				any = true
				for c := '0'; c <= '9'; c++ {
					any = any && classHas(x.Rune, c)
				}
			case syntax.OpAnyChar, syntax.OpAnyCharNotNL:
				any = true
			default:
				return nil, false
			}
			items = append(items, natItem{min: min, max: max, any: any, group: group})
		}
	}
	return items, true
}

func classHas(ranges []rune, c rune) bool {
	for i := 0; i+1 < len(ranges); i += 2 {
		if ranges[i] <= c && c <= ranges[i+1] {
			return true
		}
	}
	return false
}

// natRecipe is the digits of m.ReplaceAllString(nsn, tmpl), m the
// compiled pattern, for every nsn the whole pattern matches.
//
// The match starts at 0. For a pattern of one length every match is
// that long and its groups sit at fixed places: the template expanded
// from a source whose bytes name their positions gives the recipe. For
// a pattern of several lengths, the match is the whole number when every
// element from the first of variable length on holds every digit (the
// backtracker's first match then takes the greediest counts that fit,
// which reach the end whenever a whole match exists); the recipe is then
// the template's digits around its groups, when those are the pattern's
// groups in order, covering all of it, with no digit between them.
func natRecipe(pattern, tmpl string) (kind natKind, pre, post []byte, gather []int8) {
	re, err := regexp.Compile(pattern)
	if err != nil {
		return natSlow, nil, nil, nil
	}
	sre, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return natSlow, nil, nil, nil
	}
	items, ok := natItems(sre)
	if !ok || len(tmpl) == 0 {
		return natSlow, nil, nil, nil
	}
	for i := 0; i < len(tmpl); i++ {
		if tmpl[i] >= 0x80 {
			return natSlow, nil, nil, nil // the source's bytes are ≥ 0x80
		}
	}
	ngroups := re.NumSubexp()
	fixed, length, minLen := true, 0, 0
	for _, it := range items {
		fixed = fixed && it.min == it.max
		length += it.max
		minLen += it.min
	}
	if minLen == 0 || ngroups > 60 {
		return natSlow, nil, nil, nil // an empty match would be replaced too
	}
	if fixed {
		if length > phonenumbers.MAX_LENGTH_FOR_NSN {
			return natSlow, nil, nil, nil
		}
		src := make([]byte, length)
		match := make([]int, 2*(ngroups+1))
		for i := range match {
			match[i] = -1
		}
		match[0], match[1] = 0, length
		pos := 0
		for _, it := range items {
			if g := it.group; g > 0 {
				if match[2*g] < 0 {
					match[2*g] = pos
				}
				match[2*g+1] = pos + it.min
			}
			for range it.min {
				src[pos] = byte(0x80 + pos)
				pos++
			}
		}
		out := re.ExpandString(nil, tmpl, string(src), match)
		for _, b := range out {
			switch {
			case b >= 0x80:
				gather = append(gather, int8(b-0x80))
			case '0' <= b && b <= '9':
				gather = append(gather, ^int8(b))
			}
		}
		// Digits, every digit of the number in order, digits: pre and
		// post, which copy faster.
		i := 0
		for i < len(gather) && gather[i] < 0 {
			pre = append(pre, byte(^gather[i]))
			i++
		}
		for j := range length {
			if i >= len(gather) || gather[i] != int8(j) {
				return natGather, nil, nil, gather
			}
			i++
		}
		for ; i < len(gather); i++ {
			if gather[i] >= 0 {
				return natGather, nil, nil, gather
			}
			post = append(post, byte(^gather[i]))
		}
		return natWhole, pre, post, nil
	}
	variable := false
	for _, it := range items {
		variable = variable || it.min != it.max
		if it.group == 0 || (variable && !it.any) {
			return natSlow, nil, nil, nil
		}
	}
	// Group g stands for the byte 0x80+g-1, the whole match for all of
	// them.
	src := make([]byte, ngroups)
	match := []int{0, ngroups}
	for g := range ngroups {
		src[g] = byte(0x80 + g)
		match = append(match, g, g+1)
	}
	out := re.ExpandString(nil, tmpl, string(src), match)
	next := 0
	for _, b := range out {
		switch {
		case b >= 0x80:
			if int(b-0x80) != next {
				return natSlow, nil, nil, nil
			}
			next++
		case '0' <= b && b <= '9':
			switch next {
			case 0:
				pre = append(pre, b)
			case ngroups:
				post = append(post, b)
			default:
				return natSlow, nil, nil, nil
			}
		}
	}
	if next != ngroups {
		return natSlow, nil, nil, nil
	}
	return natWhole, pre, post, nil
}

// buildTrie builds m's trie. An entry is decided when, for every number
// of its length that goes that way, each format either surely fails (its
// leading digits or its pattern match none of them) or surely matches (all
// of them), and the first that does not surely fail surely matches; or
// when every format surely fails. Whether an automaton accepts every
// string or none of a given length from a state is a table by state and
// length (lenSets).
func (m *natMeta) buildTrie() {
	nf := len(m.formats)
	type sets struct{ some, all []uint32 }
	ld := make([]sets, nf)
	full := make([]sets, nf)
	for i, f := range m.formats {
		full[i].some, full[i].all = f.full.lenSets(false)
		if f.ld != nil {
			ld[i].some, ld[i].all = f.ld.lenSets(true)
		}
	}
	// A walk's state is 2 entries a format: the state of its leading
	// digits automaton (ldMatched once they matched, as for a format
	// without them) and that of its pattern's. The states of the open
	// nodes are kept one after the other in arena.
	const ldMatched = ^uint32(0)
	const (
		no = iota
		yes
		maybe
	)
	status := func(s []uint32, i, r int) int {
		fs := s[2*i+1]
		if fs == dfaDead {
			return no
		}
		fAll, fSome := full[i].all[fs/dfaStride]>>r&1 != 0, full[i].some[fs/dfaStride]>>r&1 != 0
		lAll, lSome := true, true
		if ls := s[2*i]; ls != ldMatched {
			if ls == dfaDead {
				return no
			}
			lAll, lSome = ld[i].all[ls/dfaStride]>>r&1 != 0, ld[i].some[ls/dfaStride]>>r&1 != 0
		}
		switch {
		case !fSome || !lSome:
			return no
		case fAll && lAll:
			return yes
		}
		return maybe
	}
	// evaluate is the entry for s with r digits to come (-1: undecided),
	// and the formats of live that may still match (the others surely
	// fail for every number that goes this way, and their states are no
	// longer followed).
	evaluate := func(s []uint32, live uint64, r int) (entry int32, still uint64) {
		entry = ^int32(natNone)
		first := true
		for l := live; l != 0; l &= l - 1 {
			i := bits.TrailingZeros64(l)
			st := status(s, i, r)
			if st == no {
				continue
			}
			still |= 1 << i
			if first {
				first = false
				entry = -1
				if st == yes {
					return ^int32(natFirst + i), still
				}
			}
		}
		return entry, still
	}
	step := func(dst, s []uint32, live uint64, c int) {
		for l := live; l != 0; l &= l - 1 {
			i := bits.TrailingZeros64(l)
			f := &m.formats[i]
			dst[2*i+1] = f.full.t[s[2*i+1]+uint32(c)]
			switch ls := s[2*i]; {
			case ls == ldMatched || f.ld.t[ls+dfaAcc]&accMore != 0:
				dst[2*i] = ldMatched // prefix: matched before this digit
			default:
				dst[2*i] = f.ld.t[ls+uint32(c)]
			}
		}
	}
	type open struct {
		s      int    // its state: arena[s : s+2*nf]
		live   uint64 // the formats that may match
		depth  int
		length int
		at     int // the entry to point at the node: ≥ 0 in next, < 0 root[^at]
	}
	arena := make([]uint32, 2*nf)
	for i, f := range m.formats {
		if f.ld == nil {
			arena[2*i] = ldMatched
		}
	}
	var queue []open
	for l := range m.root {
		m.root[l] = ^int32(natUnknown)
		if l < phonenumbers.MIN_LENGTH_FOR_NSN || nf > 64 {
			continue // (more formats than a live mask holds: choose walks them)
		}
		if o, live := evaluate(arena[:2*nf], 1<<nf-1, l); o != -1 {
			m.root[l] = o
		} else {
			queue = append(queue, open{s: 0, live: live, length: l, at: ^l})
		}
	}
	child := make([]uint32, 2*nf)
	for q := 0; q < len(queue); q++ {
		o := queue[q]
		if len(m.next)/10 >= maxNatNodes {
			continue // stays unknown
		}
		node := int32(len(m.next))
		m.next = append(m.next, make([]int32, 10)...)
		if o.at < 0 {
			m.root[^o.at] = node
		} else {
			m.next[o.at] = node
		}
		for c := range 10 {
			step(child, arena[o.s:o.s+2*nf], o.live, c)
			e, live := evaluate(child, o.live, o.length-o.depth-1)
			if e != -1 {
				m.next[int(node)+c] = e
				continue
			}
			m.next[int(node)+c] = ^int32(natUnknown)
			queue = append(queue, open{s: len(arena), live: live, depth: o.depth + 1, length: o.length, at: int(node) + c})
			arena = append(arena, child...)
		}
	}
}

// lenSets tells, by state and by a number of digits r (bit r, r ≤ 31),
// whether some string (some) or every string (all) of r digits read from
// the state makes the automaton accept: as a whole match (full), or, with
// prefix, as prefix does (accMore before a digit, or accEnd at the end).
func (d *digitDFA) lenSets(prefix bool) (some, all []uint32) {
	n := len(d.t) / dfaStride
	some, all = make([]uint32, n), make([]uint32, n)
	for s := range n {
		if d.t[s*dfaStride+dfaAcc]&accEnd != 0 {
			some[s], all[s] = 1, 1
		}
	}
	for r := 1; r <= phonenumbers.MAX_LENGTH_FOR_NSN; r++ {
		for s := range n {
			base := s * dfaStride
			if prefix && d.t[base+dfaAcc]&accMore != 0 {
				some[s] |= 1 << r
				all[s] |= 1 << r
				continue
			}
			anyOK, allOK := false, true
			for c := range 10 {
				ns := d.t[base+c] / dfaStride
				anyOK = anyOK || some[ns]>>(r-1)&1 != 0
				allOK = allOK && all[ns]>>(r-1)&1 != 0
			}
			if anyOK {
				some[s] |= 1 << r
			}
			if allOK {
				all[s] |= 1 << r
			}
		}
	}
	return some, all
}
