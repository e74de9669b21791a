package e164

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nyaruka/phonenumbers"
)

// The national form's fast path (fast_national.go) against phonenumbers,
// as National worked before it: Parse("+digits", "ZZ"), Format(NATIONAL),
// the digits. refNational is that reference, written here with
// phonenumbers' own calls only (its country calling code check too), so
// that it shares no code with the fast path or its fallback.

func refNational(number int64) (string, bool) {
	if number <= 0 || refCountryCode(number) == 0 {
		return "", false
	}
	num, err := phonenumbers.Parse("+"+strconv.FormatInt(number, 10), "ZZ")
	if err != nil {
		return "", false
	}
	digits := strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, phonenumbers.Format(num, phonenumbers.NATIONAL))
	return digits, digits != ""
}

// refCountryCode is the first of the number's first one, two or three
// digits that phonenumbers knows as a calling code, or 0.
func refCountryCode(number int64) int {
	s := strconv.FormatInt(number, 10)
	for l := 1; l <= 3 && l <= len(s); l++ {
		cc, _ := strconv.Atoi(s[:l])
		if phonenumbers.GetRegionCodeForCountryCode(cc) != phonenumbers.UNKNOWN_REGION {
			return cc
		}
	}
	return 0
}

// nationalTypes are every number type an example may be asked for.
var nationalTypes = []phonenumbers.PhoneNumberType{
	phonenumbers.FIXED_LINE, phonenumbers.MOBILE, phonenumbers.FIXED_LINE_OR_MOBILE,
	phonenumbers.TOLL_FREE, phonenumbers.PREMIUM_RATE, phonenumbers.SHARED_COST,
	phonenumbers.VOIP, phonenumbers.PERSONAL_NUMBER, phonenumbers.PAGER, phonenumbers.UAN,
	phonenumbers.VOICEMAIL, phonenumbers.UNKNOWN,
}

// nationalExample is one example number: its region (or "001/code"),
// calling code, national significant number and E.164 value.
type nationalExample struct {
	region string
	cc     int
	nsn    string
	number int64
}

// nationalExamples are phonenumbers' example numbers: GetExampleNumber
// and GetExampleNumberForType of every type for every supported region,
// and GetExampleNumberForNonGeoEntity of every global network code; each
// number once, in a fixed order.
var nationalExamples = sync.OnceValue(func() []nationalExample {
	var out []nationalExample
	seen := map[int64]bool{}
	add := func(region string, num *phonenumbers.PhoneNumber) {
		if num == nil {
			return
		}
		e := phonenumbers.Format(num, phonenumbers.E164)
		n, err := strconv.ParseInt(e[1:], 10, 64)
		if err != nil || seen[n] {
			return
		}
		seen[n] = true
		out = append(out, nationalExample{region: region, cc: int(num.GetCountryCode()),
			nsn: phonenumbers.GetNationalSignificantNumber(num), number: n})
	}
	var regions []string
	for r := range phonenumbers.GetSupportedRegions() {
		regions = append(regions, r)
	}
	slices.Sort(regions)
	for _, r := range regions {
		add(r, phonenumbers.GetExampleNumber(r))
		for _, typ := range nationalTypes {
			add(r, phonenumbers.GetExampleNumberForType(r, typ))
		}
	}
	var codes []int
	for cc := range phonenumbers.GetSupportedGlobalNetworkCallingCodes() {
		codes = append(codes, cc)
	}
	slices.Sort(codes)
	for _, cc := range codes {
		add("001/"+strconv.Itoa(cc), phonenumbers.GetExampleNumberForNonGeoEntity(cc))
	}
	return out
})

// checkNational compares the fast path on n with the reference; it
// reports whether the fast path decided n and whether they differ.
func checkNational(n int64) (decided bool, diff string) {
	got, cc, ok, decided := appendNationalFast(nil, n)
	if !decided {
		return false, ""
	}
	want, wantOK := refNational(n)
	if string(got) != want || ok != wantOK {
		return true, fmt.Sprintf("+%d: fast path %q, %v; phonenumbers %q, %v", n, got, ok, want, wantOK)
	}
	if wantCC := refCountryCode(n); cc != wantCC {
		return true, fmt.Sprintf("+%d: fast path calling code %d; phonenumbers %d", n, cc, wantCC)
	}
	return true, ""
}

// Every example number of every region and type, and of every global
// network code: the fast path decides each one as phonenumbers does, and
// National (the fast path or its fallback) gives the reference's answer.
func TestNationalExamples(t *testing.T) {
	ex := nationalExamples()
	if len(ex) < 1000 {
		t.Fatalf("only %d example numbers", len(ex))
	}
	undecided := 0
	for _, e := range ex {
		decided, diff := checkNational(e.number)
		if diff != "" {
			t.Errorf("%s: %s", e.region, diff)
		}
		if !decided {
			undecided++
			t.Logf("%s: +%d: not decided by the fast path", e.region, e.number)
		}
		got, ok := National(e.number)
		if want, wantOK := refNational(e.number); got != want || ok != wantOK {
			t.Errorf("%s: National(%d) = %q, %v; phonenumbers %q, %v", e.region, e.number, got, ok, want, wantOK)
		}
		if _, cc, _ := AppendNational(nil, e.number); cc != e.cc {
			t.Errorf("%s: AppendNational(%d): calling code %d, want %d", e.region, e.number, cc, e.cc)
		}
	}
	t.Logf("%d example numbers, %d not decided by the fast path", len(ex), undecided)
	if undecided > 0 {
		t.Errorf("%d example numbers not decided by the fast path; want none", undecided)
	}
}

// Every number of one to four digits, and every calling code followed by
// one to three digits: too short for a national significant number, or
// just long enough.
func TestNationalShort(t *testing.T) {
	for n := int64(1); n < 10_000; n++ {
		if decided, diff := checkNational(n); !decided || diff != "" {
			t.Errorf("+%d: decided %v %s", n, decided, diff)
		}
	}
}

// nationalGen makes the generated numbers: example numbers with their
// digits varied, lengthened or shortened, with a trunk prefix or zeros
// after the calling code, any digits after any calling code, and any
// positive int64.
type nationalGen struct {
	rng   *rand.Rand
	ex    []nationalExample
	codes []int          // every supported calling code
	np    map[int]string // calling code: its main region's national prefix
	b     []byte
}

// nationalGenKinds name the kinds of generated numbers.
var nationalGenKinds = []string{"example varied", "example longer or shorter", "trunk prefix after the code",
	"zeros after the code", "any digits after a code", "any int64"}

func newNationalGen(seed uint64) *nationalGen {
	g := &nationalGen{rng: rand.New(rand.NewPCG(seed, 0x6e6174696f6e616c)), ex: nationalExamples(), np: map[int]string{}}
	coll, err := phonenumbers.MetadataCollection()
	if err != nil {
		panic(err)
	}
	byRegion := map[string]string{}
	for _, md := range coll.GetMetadata() {
		byRegion[md.GetId()] = md.GetNationalPrefix()
	}
	for cc := range phonenumbers.GetSupportedCallingCodes() {
		g.codes = append(g.codes, cc)
		g.np[cc] = byRegion[phonenumbers.GetRegionCodeForCountryCode(cc)]
	}
	slices.Sort(g.codes)
	return g
}

func (g *nationalGen) digits(n int) {
	for range n {
		g.b = append(g.b, byte('0'+g.rng.IntN(10)))
	}
}

// next returns a generated number and its kind; ok is false for digits
// that are no positive int64 (the caller draws again).
func (g *nationalGen) next() (int64, int, bool) {
	g.b = g.b[:0]
	e := g.ex[g.rng.IntN(len(g.ex))]
	kind := g.rng.IntN(len(nationalGenKinds))
	switch kind {
	case 0: // the last k digits of an example replaced
		k := 1 + g.rng.IntN(len(e.nsn))
		g.b = append(strconv.AppendInt(g.b, int64(e.cc), 10), e.nsn[:len(e.nsn)-k]...)
		g.digits(k)
	case 1: // an example cut or lengthened by up to three digits
		g.b = strconv.AppendInt(g.b, int64(e.cc), 10)
		if d := g.rng.IntN(7) - 3; d < 0 {
			g.b = append(g.b, e.nsn[:max(0, len(e.nsn)+d)]...)
		} else {
			g.b = append(g.b, e.nsn...)
			g.digits(d)
		}
	case 2: // the national prefix between the code and the number
		g.b = append(strconv.AppendInt(g.b, int64(e.cc), 10), g.np[e.cc]...)
		k := g.rng.IntN(len(e.nsn) + 1)
		g.b = append(g.b, e.nsn[:len(e.nsn)-k]...)
		g.digits(k)
	case 3: // leading zeros of the national number
		g.b = strconv.AppendInt(g.b, int64(g.codes[g.rng.IntN(len(g.codes))]), 10)
		for range 1 + g.rng.IntN(3) {
			g.b = append(g.b, '0')
		}
		g.digits(g.rng.IntN(12))
	case 4: // any digits after any code
		g.b = strconv.AppendInt(g.b, int64(g.codes[g.rng.IntN(len(g.codes))]), 10)
		g.digits(1 + g.rng.IntN(15))
	case 5: // any positive int64 of 1 to 19 digits
		g.b = append(g.b, byte('1'+g.rng.IntN(9)))
		g.digits(g.rng.IntN(19))
	}
	n, err := strconv.ParseInt(string(g.b), 10, 64)
	return n, kind, err == nil && n > 0
}

// TestNationalGenerated compares the fast path with phonenumbers on
// 1,000,000 generated numbers with -tags long (100,000 without; the
// environment variable NATIONAL_N sets another count), over every core.
// phonenumbers, the reference, is what takes the time: 12 to 30 µs a
// number.
func TestNationalGenerated(t *testing.T) {
	total := sweepCount(t, 100_000, 1_000_000, "NATIONAL_N")
	start := time.Now()
	workers := runtime.GOMAXPROCS(0)
	var counts [6][2]atomic.Int64 // by kind: numbers, decided
	var diffs atomic.Int64
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			g := newNationalGen(uint64(w))
			var local [6][2]int64
			for i := w; i < total; i += workers {
				n, kind, ok := g.next()
				for !ok {
					n, kind, ok = g.next()
				}
				local[kind][0]++
				decided, diff := checkNational(n)
				if decided {
					local[kind][1]++
				}
				if diff != "" && diffs.Add(1) <= 20 {
					t.Error(diff)
				}
			}
			for k := range local {
				counts[k][0].Add(local[k][0])
				counts[k][1].Add(local[k][1])
			}
		}()
	}
	wg.Wait()
	var report strings.Builder
	var sum, decided int64
	for k, name := range nationalGenKinds {
		c, d := counts[k][0].Load(), counts[k][1].Load()
		sum += c
		decided += d
		fmt.Fprintf(&report, "\n  %-28s %8d numbers, %6.2f%% decided by the fast path", name, c, 100*float64(d)/float64(max(c, 1)))
	}
	t.Logf("%d generated numbers on %d workers in %v, %d differences, %.2f%% decided by the fast path:%s",
		sum, workers, time.Since(start).Round(time.Millisecond), diffs.Load(), 100*float64(decided)/float64(sum), report.String())
	if diffs.Load() > 20 {
		t.Errorf("… %d differences in all", diffs.Load())
	}
	if rate := float64(decided) / float64(sum); rate < 0.99 {
		t.Errorf("%.2f%% decided by the fast path; want at least 99%%", 100*rate)
	}
}

// The comparison is not vacuous: a national table with one country's
// trunk prefix dropped, or its formats' choice taken from another
// country, gives numbers that differ from phonenumbers.
func TestNationalCanFail(t *testing.T) {
	for _, wrong := range []struct {
		name string
		cc   int
		edit func(m *natMeta)
	}{
		{"GB without its trunk prefix", 44, func(m *natMeta) { editLiterals(m, '0', -1) }},
		{"RU with 0 for its trunk prefix 8", 7, func(m *natMeta) { editLiterals(m, '8', '0') }},
		{"FR with GB's formats", 33, func(m *natMeta) {
			gb := newNatMeta(mainMetadata(44))
			*m = *gb
		}},
		{"AR without the trie", 54, func(m *natMeta) {
			for l := range m.root {
				m.root[l] = ^int32(natNone)
			}
		}},
	} {
		m := newNatMeta(mainMetadata(wrong.cc))
		wrong.edit(m)
		diffs, cases := 0, 0
		for _, e := range nationalExamples() {
			if e.cc != wrong.cc {
				continue
			}
			cases++
			got, ok, decided := m.format(nil, []byte(e.nsn))
			if want, wantOK := refNational(e.number); decided && (string(got) != want || ok != wantOK) {
				diffs++
			}
		}
		t.Logf("%s: %d differences in %d example numbers", wrong.name, diffs, cases)
		if diffs == 0 {
			t.Errorf("%s: no difference found in %d example numbers", wrong.name, cases)
		}
	}
}

// editLiterals replaces, in every recipe of m, the literal digit from
// with to, or drops it (to < 0).
func editLiterals(m *natMeta, from byte, to int) {
	for i := range m.formats {
		f := &m.formats[i]
		var pre []byte
		for _, c := range f.pre {
			if c != from {
				pre = append(pre, c)
			} else if to >= 0 {
				pre = append(pre, byte(to))
			}
		}
		var gather []int8
		for _, g := range f.gather {
			if g >= 0 || byte(^g) != from {
				gather = append(gather, g)
			} else if to >= 0 {
				gather = append(gather, ^int8(to))
			}
		}
		f.pre, f.gather = pre, gather
	}
}

// The trie gives, for every number, the format the automata choose
// (natMeta.choose, chooseFormattingPatternForNumber), in every calling
// code's metadata: numbers of every length from 2 to 17 digits that
// start like an example number of the code, or with random digits.
func TestNationalTrieMatchesChoose(t *testing.T) {
	byCC := map[int][]string{}
	for _, e := range nationalExamples() {
		byCC[e.cc] = append(byCC[e.cc], e.nsn)
	}
	rng := rand.New(rand.NewPCG(7, 11))
	per := 200
	if long {
		per = 5000
	}
	checked, unknown := 0, 0
	var codes []int
	for code := range phonenumbers.GetSupportedCallingCodes() {
		codes = append(codes, code)
	}
	slices.Sort(codes)
	for _, code := range codes {
		c := natCodeOf(code)
		if !c.ok {
			t.Errorf("+%d: no national tables", code)
			continue
		}
		m := c.nat
		nsns := byCC[code]
		for i := range per {
			l := 2 + rng.IntN(16)
			b := make([]byte, 0, l)
			if len(nsns) > 0 && i%4 != 0 {
				s := nsns[rng.IntN(len(nsns))]
				b = append(b, s[:rng.IntN(min(len(s), l)+1)]...)
			}
			for len(b) < l {
				b = append(b, byte('0'+rng.IntN(10)))
			}
			e := m.root[len(b)]
			for j := 0; e >= 0; j++ {
				e = m.next[e+int32(b[j]-'0')]
			}
			checked++
			if o := int(^e); o == natUnknown {
				unknown++
			} else if want := m.choose(b); o != want {
				t.Errorf("+%d %s: the trie says %d, the automata %d", code, b, o, want)
			}
		}
	}
	t.Logf("%d numbers, %d past the tries' bound", checked, unknown)
}

// CountryCode, from its table of first three digits, is phonenumbers'
// lookup of one, two and three digits.
func TestCountryCodeTable(t *testing.T) {
	for p := int64(1); p < 1000; p++ {
		for n := p; n < 1e17; n = n*10 + p%10 {
			if got, want := CountryCode(n), countryCodeSlow(n); got != want {
				t.Fatalf("CountryCode(%d) = %d, want %d", n, got, want)
			}
		}
	}
}

// formatDecimal is strconv's decimal, from 1 to the largest int64.
func TestFormatDecimal(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var buf [24]byte
	for i := range 1_000_000 {
		x := uint64(rng.Int64N(1<<63-1)) >> rng.UintN(63)
		switch i {
		case 0, 1, 2:
			x = []uint64{1, 1<<63 - 1, 1e18}[i]
		}
		if x == 0 {
			continue
		}
		if got, want := string(formatDecimal(&buf, x)), strconv.FormatUint(x, 10); got != want {
			t.Fatalf("formatDecimal(%d) = %s", x, got)
		}
	}
	for p := uint64(1); p < 1e19 && p > 0; p *= 10 {
		for _, x := range []uint64{p - 1, p, p + 1} {
			if x > 0 && x < 1<<63 && string(formatDecimal(&buf, x)) != strconv.FormatUint(x, 10) {
				t.Fatalf("formatDecimal(%d) = %s", x, formatDecimal(&buf, x))
			}
		}
	}
}

// FuzzNational holds the fast path to phonenumbers on any int64.
func FuzzNational(f *testing.F) {
	for _, n := range []int64{447700900123, 33612345678, 390612345678, 5491123456789, 79161234567, 4930123456, 1, 100, 1 << 62} {
		f.Add(n)
	}
	f.Fuzz(func(t *testing.T, n int64) {
		if n <= 0 { // no number: AppendNational says so before the fast path
			if key, cc, ok := AppendNational(nil, n); ok || cc != 0 || len(key) > 0 {
				t.Errorf("AppendNational(%d) = %q, %d, %v; want nothing", n, key, cc, ok)
			}
			return
		}
		if _, diff := checkNational(n); diff != "" {
			t.Error(diff)
		}
	})
}
