package e164

import (
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nyaruka/phonenumbers"
)

// A cheap generator of list lines in the spellings the fast path takes
// (and, one line in 32, with a character it declines), for the
// differential test at volume.
// genKind is the kind of a generated input.
type genKind uint8

const (
	genUSNational genKind = iota // (212) 555-0123, 212.555.0123, …
	genUSTrunk                   // 1-212-555-0123, 12125550123, …
	genUSPlus                    // +1 212 555 0123, …
	genIntlPlus                  // +44 20 7946 0958, +33 (0)6 …
	genIntlIDD                   // 011 44 …, 00 44 …, 810 …
	genNational                  // the default region's national form, trunk prefix and all
	genRandom                    // random digits and punctuation
	genJunk                      // any of the above with a character the fast path declines
	numGenKinds
)

var genKindNames = [...]string{"US national", "US trunk 1", "US +1", "+cc international", "IDD international", "national", "random", "junk (declined)"}

// genRegions are the default regions of generated inputs; US is every
// other input.
var genRegions = []string{
	"GB", "FR", "DE", "IN", "JP", "RU", "AR", "BR", "CN", "IT", "AU", "MX",
	"KR", "CO", "ES", "NL", "SE", "CH", "BE", "PL", "ZA", "NG", "EG", "TR",
	"SX", "JE", "GG", "CA", "KZ", "BY", "HU", "GA", "NZ", "SG", "HK", "TH",
}

// genData is what the generator draws from: example national numbers by
// calling code, and each region's calling code and national prefix.
type genData struct {
	codes    []string            // every calling code
	examples map[string][]string // national numbers by calling code
	ndd      map[string]string   // national prefix by region
	cc       map[string]string   // calling code by region
	idds     []string
}

var loadGenData = sync.OnceValue(func() *genData {
	g := &genData{examples: map[string][]string{}, ndd: map[string]string{}, cc: map[string]string{},
		idds: []string{"00", "011", "00", "010", "810", "001", "0011", "000", "009", "119"}}
	add := func(num *phonenumbers.PhoneNumber) {
		if num == nil {
			return
		}
		cc := strconv.Itoa(int(num.GetCountryCode()))
		nsn := phonenumbers.GetNationalSignificantNumber(num)
		if !slices.Contains(g.examples[cc], nsn) {
			g.examples[cc] = append(g.examples[cc], nsn)
		}
	}
	var regions []string
	for r := range phonenumbers.GetSupportedRegions() {
		regions = append(regions, r)
	}
	slices.Sort(regions)
	for _, r := range regions {
		for _, typ := range diffTypes {
			add(phonenumbers.GetExampleNumberForType(r, typ))
		}
		g.ndd[r] = phonenumbers.GetNddPrefixForRegion(r, true)
		g.cc[r] = strconv.Itoa(phonenumbers.GetCountryCodeForRegion(r))
	}
	var nonGeo []int
	for cc := range phonenumbers.GetSupportedGlobalNetworkCallingCodes() {
		nonGeo = append(nonGeo, cc)
	}
	slices.Sort(nonGeo)
	for _, cc := range nonGeo {
		add(phonenumbers.GetExampleNumberForNonGeoEntity(cc))
	}
	for cc := range g.examples {
		g.codes = append(g.codes, cc)
	}
	slices.Sort(g.codes)
	return g
})

// generator writes inputs into one reused buffer.
type generator struct {
	rng *rand.Rand
	g   *genData
	b   []byte
}

func (gen *generator) digit() byte { return byte('0' + gen.rng.IntN(10)) }

var genSeps = []string{" ", " ", "-", "-", ".", "/", "", "  ", " - "}

// grouped appends s in random groups.
func (gen *generator) grouped(s []byte) {
	sep := genSeps[gen.rng.IntN(len(genSeps))]
	paren := gen.rng.IntN(8) == 0
	for i := 0; i < len(s); {
		k := min(len(s)-i, 2+gen.rng.IntN(3))
		if i > 0 {
			if gen.rng.IntN(6) == 0 {
				sep = genSeps[gen.rng.IntN(len(genSeps))]
			}
			gen.b = append(gen.b, sep...)
		}
		if paren && i == 0 {
			gen.b = append(gen.b, '(')
			gen.b = append(gen.b, s[i:i+k]...)
			gen.b = append(gen.b, ')')
		} else {
			gen.b = append(gen.b, s[i:i+k]...)
		}
		i += k
	}
}

// nsn returns an example national number of calling code cc, often with
// digits changed, added or dropped.
func (gen *generator) nsn(cc string, scratch []byte) []byte {
	ex := gen.g.examples[cc]
	if len(ex) == 0 {
		return append(scratch[:0], "12345678"...)
	}
	out := append(scratch[:0], ex[gen.rng.IntN(len(ex))]...)
	switch gen.rng.IntN(8) {
	case 0, 1, 2: // as it is, but the last four digits
		for i := max(0, len(out)-4); i < len(out); i++ {
			out[i] = gen.digit()
		}
	case 3:
		out[gen.rng.IntN(len(out))] = gen.digit()
	case 4:
		out = append(out, gen.digit())
	case 5:
		if len(out) > 1 {
			out = out[:len(out)-1]
		}
	case 6:
		for i := min(2, len(out)); i < len(out); i++ {
			out[i] = gen.digit()
		}
	case 7: // unchanged
	}
	return out
}

// usNumber appends a NANP national number, now and then not a valid or
// possible one.
func (gen *generator) usNumber(scratch []byte) []byte {
	out := scratch[:0]
	switch r := gen.rng.IntN(20); {
	case r == 0: // seven digits: local only
		for range 7 {
			out = append(out, gen.digit())
		}
	case r == 1: // a length around ten
		for range 8 + gen.rng.IntN(5) {
			out = append(out, gen.digit())
		}
	case r < 4: // any digits
		for range 10 {
			out = append(out, gen.digit())
		}
	default:
		out = append(out, byte('2'+gen.rng.IntN(8)), gen.digit(), gen.digit(), byte('2'+gen.rng.IntN(8)))
		for range 6 {
			out = append(out, gen.digit())
		}
	}
	return out
}

var genSpaces = []string{"", "", "", "", " ", "\t", "\r\n", "  "}

// junk are characters and strings the fast path declines.
var junk = []string{"x", "A", "#", "*", ";", ",", "\u00a0", "٣", "\t", "+", "ext", "~", "_", "\x00", "\xff", "tel:", "[", "０"}

// next writes one input and returns its default region and kind.
func (gen *generator) next() (region string, kind genKind) {
	region = "US"
	if gen.rng.IntN(2) == 0 {
		region = genRegions[gen.rng.IntN(len(genRegions))]
	}
	var scratch [32]byte
	gen.b = gen.b[:0]
	gen.b = append(gen.b, genSpaces[gen.rng.IntN(len(genSpaces))]...)
	switch r := gen.rng.IntN(100); {
	case r < 16:
		kind = genUSNational
		gen.grouped(gen.usNumber(scratch[:]))
	case r < 26:
		kind = genUSTrunk
		gen.b = append(gen.b, '1')
		if gen.rng.IntN(2) == 0 {
			gen.b = append(gen.b, genSeps[gen.rng.IntN(len(genSeps))]...)
		}
		gen.grouped(gen.usNumber(scratch[:]))
	case r < 38:
		kind = genUSPlus
		gen.b = append(gen.b, "+1"...)
		gen.b = append(gen.b, genSeps[gen.rng.IntN(len(genSeps))]...)
		gen.grouped(gen.usNumber(scratch[:]))
	case r < 58:
		kind = genIntlPlus
		cc := gen.g.codes[gen.rng.IntN(len(gen.g.codes))]
		gen.b = append(gen.b, '+')
		gen.b = append(gen.b, cc...)
		switch gen.rng.IntN(6) {
		case 0:
			gen.b = append(gen.b, " (0) "...)
		case 1:
			gen.b = append(gen.b, '0')
		default:
			gen.b = append(gen.b, genSeps[gen.rng.IntN(len(genSeps))]...)
		}
		gen.grouped(gen.nsn(cc, scratch[:]))
	case r < 72:
		kind = genIntlIDD
		cc := gen.g.codes[gen.rng.IntN(len(gen.g.codes))]
		if gen.rng.IntN(3) == 0 {
			gen.b = append(gen.b, '(')
		}
		gen.b = append(gen.b, gen.g.idds[gen.rng.IntN(len(gen.g.idds))]...)
		gen.b = append(gen.b, genSeps[gen.rng.IntN(len(genSeps))]...)
		gen.b = append(gen.b, cc...)
		gen.b = append(gen.b, genSeps[gen.rng.IntN(len(genSeps))]...)
		gen.grouped(gen.nsn(cc, scratch[:]))
	case r < 86:
		kind = genNational
		if gen.rng.IntN(3) > 0 {
			gen.b = append(gen.b, gen.g.ndd[region]...)
		}
		gen.grouped(gen.nsn(gen.g.cc[region], scratch[:]))
	default:
		kind = genRandom
		if gen.rng.IntN(4) == 0 {
			gen.b = append(gen.b, '+')
		} else if gen.rng.IntN(4) == 0 {
			gen.b = append(gen.b, "00"...)
		}
		n := gen.rng.IntN(22)
		for range n {
			gen.b = append(gen.b, gen.digit())
			if gen.rng.IntN(3) == 0 {
				gen.b = append(gen.b, " -./()"[gen.rng.IntN(6)])
			}
		}
	}
	if gen.rng.IntN(32) == 0 {
		kind = genJunk
		at := gen.rng.IntN(len(gen.b) + 1)
		gen.b = slices.Insert(gen.b, at, []byte(junk[gen.rng.IntN(len(junk))])...)
	}
	gen.b = append(gen.b, genSpaces[gen.rng.IntN(len(genSpaces))]...)
	return region, kind
}

// TestNormalizeBytesGenerated compares the fast path with Normalize on
// 10 million generated inputs with -tags long (100,000 without; the
// environment variable FASTGEN_N sets another count), each under one default
// region and policy, over every core. An input the fast path declines is not
// compared: NormalizeBytes hands it to Normalize as it is.
//
// Normalize, the reference, is what takes the time: 12 to 30 µs of CPU per
// input (phonenumbers' Parse alone is about 10), so 10 million inputs take
// about 90 s on two cores.
func TestNormalizeBytesGenerated(t *testing.T) {
	total := sweepCount(t, 100_000, 10_000_000, "FASTGEN_N")
	start := time.Now()
	// Normalize allocates about 2 KB per input and the live heap is small:
	// collect less often.
	defer debug.SetGCPercent(debug.SetGCPercent(1000))
	g := loadGenData()
	var norms fastNorms
	for _, r := range append([]string{"US"}, genRegions...) {
		norms.get(t, r)
	}
	workers := runtime.GOMAXPROCS(0)
	var counts [numGenKinds]fastCount
	var diffs atomic.Int64
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			gen := &generator{rng: rand.New(rand.NewPCG(uint64(w), 0x9e3779b97f4a7c15)), g: g}
			var local [numGenKinds][2]int64
			for i := w; i < total; i += workers {
				region, kind := gen.next()
				n := norms.m[region][i%len(fastPolicies)]
				res, why, fast := n.fastNormalize(gen.b)
				local[kind][0]++
				if !fast {
					continue
				}
				local[kind][1]++
				raw := string(gen.b)
				want, wantWhy := n.Normalize(raw)
				if res != want || why != wantWhy {
					if diffs.Add(1) <= 20 {
						t.Errorf("%s/%v: fast path(%q) = %+v, %v; Normalize = %+v, %v", region, n.Policy(), raw, res, why, want, wantWhy)
					}
				}
			}
			for k := range local {
				counts[k].cases.Add(local[k][0])
				counts[k].fast.Add(local[k][1])
			}
		}()
	}
	wg.Wait()
	var sum, fast int64
	var report strings.Builder
	for k := range counts {
		c := &counts[k]
		sum += c.cases.Load()
		fast += c.fast.Load()
		fmt.Fprintf(&report, "\n  %-20s %9d inputs, %6.2f%% decided by the fast path", genKindNames[k], c.cases.Load(), 100*c.rate())
	}
	t.Logf("%d generated inputs on %d workers in %v, %d differences, %.2f%% decided by the fast path:%s",
		sum, workers, time.Since(start).Round(time.Millisecond), diffs.Load(), 100*float64(fast)/float64(sum), report.String())
	if diffs.Load() > 20 {
		t.Errorf("… %d differences in all", diffs.Load())
	}
	for _, k := range []genKind{genUSNational, genUSTrunk, genUSPlus, genIntlPlus, genIntlIDD, genNational} {
		if r := counts[k].rate(); r < 0.95 {
			t.Errorf("%s: %.2f%% decided by the fast path; want at least 95%%", genKindNames[k], 100*r)
		}
	}
}

// TestNormalizeBytesCanFail runs the generated comparison with a wrong
// fast path (another policy, another default region) and expects the
// differences to be found: the comparison is not vacuous.
func TestNormalizeBytesCanFail(t *testing.T) {
	g := loadGenData()
	gen := &generator{rng: rand.New(rand.NewPCG(1, 2)), g: g}
	for _, wrong := range []struct {
		name string
		edit func(n *Normalizer)
	}{
		{"policy any for possible", func(n *Normalizer) { n.policy = PolicyAny }},
		{"policy possible for valid", func(n *Normalizer) { n.policy = PolicyPossible }},
		{"region CA for US", func(n *Normalizer) { n.region = "CA" }},
	} {
		n := mustNew(t, "US", PolicyPossible)
		if wrong.name == "policy possible for valid" {
			n = mustNew(t, "US", PolicyValid)
		}
		bad := *n
		wrong.edit(&bad)
		diffs := 0
		for range 3000 {
			gen.next()
			res, why, ok := bad.fastNormalize(gen.b)
			if !ok {
				continue
			}
			if want, wantWhy := n.Normalize(string(gen.b)); res != want || why != wantWhy {
				diffs++
			}
		}
		if diffs == 0 {
			t.Errorf("%s: no difference found in 3000 inputs", wrong.name)
		}
		t.Logf("%s: %d differences in 3000 inputs", wrong.name, diffs)
	}
}

// sweepCount is how many inputs a generated sweep runs: short without
// -tags long, full with it, or the count the environment variable env
// gives.
func sweepCount(t *testing.T, short, full int, env string) int {
	t.Helper()
	total := short
	if long {
		total = full
	}
	if v := os.Getenv(env); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			t.Fatalf("%s=%q: want a positive count", env, v)
		}
		total = n
	}
	return total
}
