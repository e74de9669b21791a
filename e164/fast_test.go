package e164

import (
	"bufio"
	"compress/gzip"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
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

// The fast path's tests are differential: NormalizeBytes (or its fast path
// alone) against Normalize, which stays the reference, on every input. Zero
// differences are allowed. Each test also reports the share of inputs the
// fast path decided itself.

var fastPolicies = []Policy{PolicyPossible, PolicyValid, PolicyAny}

// fastNorms caches Normalizers by region and policy.
type fastNorms struct {
	mu sync.Mutex
	m  map[string][]*Normalizer
}

func (f *fastNorms) get(tb testing.TB, region string) []*Normalizer {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.m == nil {
		f.m = map[string][]*Normalizer{}
	}
	ns, ok := f.m[region]
	if !ok {
		for _, p := range fastPolicies {
			ns = append(ns, mustNew(tb, region, p))
		}
		f.m[region] = ns
	}
	return ns
}

// fastCount tallies comparisons and fast-path decisions.
type fastCount struct{ cases, fast, diffs atomic.Int64 }

func (c *fastCount) rate() float64 {
	if c.cases.Load() == 0 {
		return 0
	}
	return float64(c.fast.Load()) / float64(c.cases.Load())
}

// compareBytes checks NormalizeBytes(raw) against Normalize(raw) and
// reports whether the fast path decided raw.
func compareBytes(t testing.TB, n *Normalizer, raw string, c *fastCount) {
	t.Helper()
	want, wantWhy := n.Normalize(raw)
	got, gotWhy := n.NormalizeBytes([]byte(raw))
	_, _, fast := n.fastNormalize([]byte(raw))
	c.cases.Add(1)
	if fast {
		c.fast.Add(1)
	}
	if got != want || gotWhy != wantWhy {
		if c.diffs.Add(1) <= 20 {
			t.Errorf("%s/%v: NormalizeBytes(%q) = %+v, %v (fast path: %v); Normalize = %+v, %v",
				n.Region(), n.Policy(), raw, got, gotWhy, fast, want, wantWhy)
		}
	}
}

// fastOtherRegions are the default regions inputs are read with besides
// their own: the national prefix and international prefix rules that
// differ most.
var fastOtherRegions = []string{
	"US", "GB", "FR", "DE", "IN", "JP", "RU", "AR", "BR", "CN", "IT", "AU",
	"MX", "KR", "CO", "SX", "JE", "NZ", "SG", "BY", "HU", "GA", "CA", "KZ",
}

// asciiRenderings writes country code cc and national number nsn in the
// ASCII spellings the fast path takes.
func asciiRenderings(rng *rand.Rand, cc, nsn, ndd string) []string {
	return []string{
		"+" + cc + nsn,
		"+" + cc + " " + grouped(rng, nsn),
		"+" + cc + " (" + ndd + ")" + grouped(rng, nsn),
		"+" + cc + " " + ndd + nsn,
		"00" + cc + nsn,
		"00 " + cc + " " + grouped(rng, nsn),
		"011 " + cc + " " + grouped(rng, nsn),
		"(00" + cc + ") " + grouped(rng, nsn),
		cc + nsn,
		cc + " " + grouped(rng, nsn),
		ndd + nsn,
		"(" + ndd + nsn[:min(len(nsn), 2)] + ") " + grouped(rng, nsn[min(len(nsn), 2):]),
		grouped(rng, nsn),
		" \t" + grouped(rng, ndd+nsn) + "\r\n",
		"+" + grouped(rng, cc+nsn) + "-",
	}
}

var groupSeps = []string{" ", "-", ".", "/", "", "  ", " - ", ") ", " ("}

// grouped splits s into random groups of one to four characters joined by
// random separators.
func grouped(rng *rand.Rand, s string) string {
	var b strings.Builder
	for len(s) > 0 {
		k := min(len(s), 1+rng.IntN(4))
		if b.Len() > 0 {
			b.WriteString(groupSeps[rng.IntN(len(groupSeps))])
		}
		b.WriteString(s[:k])
		s = s[k:]
	}
	return b.String()
}

// TestNormalizeBytesExamples compares NormalizeBytes with Normalize on every
// region's example numbers (and the non-geographical entities'), with
// varied digits, in the formats of the differential test (diff_test.go)
// and in the ASCII spellings of the fast path, under every policy, with
// the number's own default region and with two others.
func TestNormalizeBytesExamples(t *testing.T) {
	var regions []string
	for r := range phonenumbers.GetSupportedRegions() {
		regions = append(regions, r)
	}
	slices.Sort(regions)
	var codes []string
	for cc := range phonenumbers.GetSupportedGlobalNetworkCallingCodes() {
		codes = append(codes, strconv.Itoa(cc))
	}
	slices.Sort(codes)
	regions = append(regions, codes...)

	var norms fastNorms
	var count fastCount
	var ascii fastCount
	t.Cleanup(func() {
		t.Logf("%d cases (input × region × policy) over %d regions, %.1f%% decided by the fast path; of the ASCII spellings, %d cases, %.1f%% fast",
			count.cases.Load(), len(regions), 100*count.rate(), ascii.cases.Load(), 100*ascii.rate())
	})
	for ri, region := range regions {
		t.Run(region, func(t *testing.T) {
			t.Parallel()
			rng := rand.New(rand.NewPCG(uint64(ri), 0xfa57))
			var raws, asciiRaws []string
			for _, in := range diffInputs(region, true) {
				raws = append(raws, in.raw)
			}
			own := region
			var examples []*phonenumbers.PhoneNumber
			if cc, err := strconv.Atoi(region); err == nil {
				examples = append(examples, phonenumbers.GetExampleNumberForNonGeoEntity(cc))
				own = "US"
			} else {
				for _, typ := range diffTypes {
					examples = append(examples, phonenumbers.GetExampleNumberForType(region, typ))
				}
			}
			ndd := phonenumbers.GetNddPrefixForRegion(own, true)
			variants := 4
			if testing.Short() {
				variants = 2
			}
			seen := map[string]bool{}
			for _, ex := range examples {
				if ex == nil {
					continue
				}
				cc := strconv.Itoa(int(ex.GetCountryCode()))
				nsn0 := phonenumbers.GetNationalSignificantNumber(ex)
				if seen[nsn0] {
					continue
				}
				seen[nsn0] = true
				for v := range variants {
					nsn := varyNSN(rng, nsn0, v, ndd)
					asciiRaws = append(asciiRaws, asciiRenderings(rng, cc, nsn, ndd)...)
				}
			}
			others := []string{own, fastOtherRegions[ri%len(fastOtherRegions)], fastOtherRegions[(ri*7+3)%len(fastOtherRegions)]}
			if testing.Short() {
				others = others[:2]
			}
			for _, r := range others {
				for _, n := range norms.get(t, r) {
					for _, raw := range raws {
						compareBytes(t, n, raw, &count)
					}
					for _, raw := range asciiRaws {
						compareBytes(t, n, raw, &count)
						compareBytes(t, n, raw, &ascii)
					}
				}
			}
		})
	}
}

// TestNormalizeBytesSamples compares NormalizeBytes with Normalize on every
// line of the bundled sample lists, whole and split into fields.
func TestNormalizeBytesSamples(t *testing.T) {
	dir := filepath.Join("..", "fixtures", "sample")
	files := []struct {
		name, region string
		sep          string
		gz           bool
	}{
		{"spam-us.txt", "US", "#", false},
		{"vendor-feed.csv", "US", ",", false},
		{"complaints-gb.tsv.gz", "GB", "\t", true},
	}
	var norms fastNorms
	for _, f := range files {
		t.Run(f.name, func(t *testing.T) {
			fh, err := os.Open(filepath.Join(dir, f.name))
			if err != nil {
				t.Fatal(err)
			}
			defer fh.Close()
			var r io.Reader = fh
			if f.gz {
				zr, err := gzip.NewReader(fh)
				if err != nil {
					t.Fatal(err)
				}
				r = zr
			}
			var raws []string
			sc := bufio.NewScanner(r)
			for sc.Scan() {
				line := sc.Text()
				raws = append(raws, line)
				if fields := strings.Split(line, f.sep); len(fields) > 1 {
					for _, field := range fields {
						raws = append(raws, field, strings.Trim(field, `"`))
					}
				}
			}
			if err := sc.Err(); err != nil {
				t.Fatal(err)
			}
			if len(raws) < 1000 {
				t.Fatalf("%s: only %d inputs", f.name, len(raws))
			}
			var count fastCount
			for _, n := range norms.get(t, f.region) {
				for _, raw := range raws {
					compareBytes(t, n, raw, &count)
				}
			}
			t.Logf("%s (region %s): %d inputs × %d policies, %.1f%% decided by the fast path",
				f.name, f.region, len(raws), len(fastPolicies), 100*count.rate())
		})
	}
}

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

// digits appends n random digits.
func (gen *generator) digits(n int) {
	for range n {
		gen.b = append(gen.b, gen.digit())
	}
}

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
// 10 million generated inputs (200,000 with -short), each under one
// default region and policy, over every core. An input the fast path
// declines is not compared: NormalizeBytes hands it to Normalize as it is.
func TestNormalizeBytesGenerated(t *testing.T) {
	total := 10_000_000
	if testing.Short() {
		total = 200_000
	}
	if v := os.Getenv("FASTGEN_N"); v != "" {
		total, _ = strconv.Atoi(v)
	}
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

// TestNormalizeBytesAllocs checks that the fast path decides the common US
// and "+44" spellings without allocating, under every policy.
func TestNormalizeBytesAllocs(t *testing.T) {
	cases := []struct {
		region string
		lines  []string
	}{
		{"US", []string{
			"(212) 555-0123", "212.555.0123", "212-555-0123", "2125550123", "1-212-555-0123",
			"1 (212) 555-0123", "12125550123", "+1 212 555 0123", "+12125550123", "+1 (212) 555-0123",
			"011 44 20 7946 0958", "00 44 20 7946 0958", " +1 212 555 0123\r\n", "555-0123", "12",
			"+44 20 7946 0958", "+442079460958", "+44 (0)20 7946 0958", "+44 7700 900123",
		}},
		{"GB", []string{
			"+44 20 7946 0958", "+442079460958", "+44 (0)20 7946 0958", "020 7946 0958", "07700 900123",
			"0044 20 7946 0958", "+1 212 555 0123",
		}},
		// National prefix transform rules (Expand) and the backtracker.
		{"AR", []string{"011 15 2345-6789", "+54 9 11 2345 6789", "0343 15 555 1212"}},
		{"JE", []string{"01534 456789", "456789"}},
		{"BR", []string{"0 21 2345 6789", "0xx21 2345 6789", "0 15 21 2345 6789"}},
	}
	for _, c := range cases {
		for _, p := range fastPolicies {
			n := mustNew(t, c.region, p)
			for _, line := range c.lines {
				b := []byte(line)
				_, _, ok := n.fastNormalize(b)
				if !ok {
					if c.region == "US" || c.region == "GB" {
						t.Errorf("%s/%v: %q: not decided by the fast path", c.region, p, line)
					}
					continue
				}
				if a := testing.AllocsPerRun(100, func() { n.NormalizeBytes(b) }); a != 0 {
					t.Errorf("%s/%v: NormalizeBytes(%q): %v allocations; want 0", c.region, p, line, a)
				}
			}
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

// TestNormalizeBytesEdges compares NormalizeBytes with Normalize on the
// corners of Parse the generated inputs seldom reach: the 250-character
// limit (also when only the 00 retry is short enough), the digit limit of
// the fast path, viability (two digits, three digits, a '+'), the retry
// without the '+' after an invalid country code, and short national
// numbers.
func TestNormalizeBytesEdges(t *testing.T) {
	pad := func(s string, n int) string { // s with spaces after its first character, n bytes long
		if len(s) >= n {
			return s
		}
		return s[:1] + strings.Repeat(" ", n-len(s)) + s[1:]
	}
	inputs := []string{
		pad("+12125550123", 250), pad("+12125550123", 251), pad("2125550123", 250), pad("2125550123", 251),
		"00" + pad(" 442079460958", 249), "00" + pad(" 442079460958", 250), "00" + pad(" 442079460958", 251),
		"(00)" + strings.Repeat(" ", 246) + "44 20 7946 0958",
		strings.Repeat("1", 24), strings.Repeat("1", 25), "+" + strings.Repeat("4", 23), "00" + strings.Repeat("4", 22),
		strings.Repeat("0", 24), "+" + strings.Repeat("0", 17), "0" + strings.Repeat("1", 17), "0" + strings.Repeat("1", 18),
		"1", "12", "1 2", "1-2", "(12", "12)", "+1", "+12", "+123", "+ 12", "123", "1-2-3", "(1)", "((12))",
		"0", "00", "000", "0000", "00 1", "00 12", "00 123", "001", "0011", "00111", "011", "0111", "01112",
		"+0", "+00", "+01", "+011 44 20 7946 0958", "+00 44 20 7946 0958", "+0044 20 7946 0958", "+011", "+0111",
		"+999 1234567", "+9991234567", "+1 999 1234567", "+801 234", "+800 1234 5678", "+808 12345678", "+979 123456789",
		"+882 12 345 678", "+883 123 456 789", "+888 123 456 789", "+870 301 234 567", "+881 612 345 678",
		"+1", "+1 2", "+1 12", "+1 123", "+44 1", "+44 12", "+44 0", "+44 00", "+44 0 20 7946 0958",
		"+49 0 030 1234567", "+84 00 768 2073", "0049 0 030 1234567", "00 49 30 123456",
		"1 1 212 555 0123", "+1 1 1 212 555 0123", "11 212 555 0123", "1 212 555 0123 4567",
		"- 212 555 0123 -", "/212/555/0123/", ". 2 1 2 . 5 5 5 . 0 1 2 3 .", "(((212))) 555-0123",
		"+54 9 11 2345 6789", "+54 11 15 2345 6789", "011 15 2345-6789", "0343 15 555 1212", "15 2345 6789",
		"+55 0 21 2345 6789", "0 21 2345 6789", "0 15 21 2345 6789", "0 90 21 2345 6789", "021 2345 6789",
		"+1 721 542 5557", "542 5557", "1 542 5557", "+1 268 464 1234", "464 1234",
		"01534 456789", "456789", "+44 1534 456789", "+44 01534 456789", "1481 256789", "256789",
		"+86 10 1234 5678", "010 1234 5678", "12345 010 1234 5678", "+86 17951 010 1234 5678",
		"+7 8 912 345 67 89", "8 912 345 67 89", "8 10 44 20 7946 0958", "810 44 20 7946 0958",
		"+36 06 1 234 5678", "06 1 234 5678", "+57 03 601 234 5678", "+82 08 1 234 5678",
		"+61 1831 2 1234 5678", "0011 44 20 7946 0958", "1831 02 1234 5678",
		"+39 06 1234 5678", "+39 0 6 1234 5678", "+39 312 345 6789", "+39 00 1234", "+225 01 23 45 67 89",
	}
	var norms fastNorms
	var count fastCount
	for _, r := range append([]string{"CA", "AG", "JE", "GG", "IM", "CC", "NF", "SM", "MG", "TT"}, fastOtherRegions...) {
		for _, n := range norms.get(t, r) {
			for _, in := range inputs {
				compareBytes(t, n, in, &count)
			}
		}
	}
	t.Logf("%d cases, %.1f%% decided by the fast path", count.cases.Load(), 100*count.rate())
}
