package e164

import (
	"bufio"
	"compress/gzip"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

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
			if !long {
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
			if !long {
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
// line of the bundled sample lists, whole, split into fields, and as the
// number column alone, under every policy.
func TestNormalizeBytesSamples(t *testing.T) {
	dir := filepath.Join("..", "fixtures", "sample")
	files := []struct {
		name, region string
		sep          string
		column       int // the number column, -1 for a plain list
		gz           bool
	}{
		{"spam-us.txt", "US", "#", -1, false},
		{"vendor-feed.csv", "US", ",", 1, false},
		{"complaints-gb.tsv.gz", "GB", "\t", 0, true},
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
			var raws, numbers []string
			br := bufio.NewReader(r)
			for lineNo := 1; ; lineNo++ {
				line, err := br.ReadString('\n')
				if line != "" {
					raws = append(raws, line)
					fields := strings.Split(strings.TrimRight(line, "\r\n"), f.sep)
					if len(fields) > 1 {
						for _, field := range fields {
							raws = append(raws, field, strings.Trim(field, `"`))
						}
					}
					switch {
					case f.column < 0 && !strings.HasPrefix(line, "#") && strings.TrimSpace(line) != "":
						numbers = append(numbers, fields[0])
					case f.column >= 0 && lineNo > 1 && f.column < len(fields):
						numbers = append(numbers, strings.Trim(fields[f.column], `"`))
					}
				}
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			if len(numbers) < 1000 {
				t.Fatalf("%s: only %d numbers", f.name, len(numbers))
			}
			var all, column fastCount
			for _, n := range norms.get(t, f.region) {
				for _, raw := range raws {
					compareBytes(t, n, raw, &all)
				}
				for _, raw := range numbers {
					compareBytes(t, n, raw, &column)
				}
			}
			t.Logf("%s (region %s): %d inputs × %d policies, %.1f%% decided by the fast path; the %d numbers alone: %.1f%%",
				f.name, f.region, len(raws), len(fastPolicies), 100*all.rate(), len(numbers), 100*column.rate())
		})
	}
}

// TestNormalizeBytesAllocs checks that the fast path decides the common US
// and "+44" spellings without allocating, under every policy.
func TestNormalizeBytesAllocs(t *testing.T) {
	if raceEnabled() {
		t.Skip("the race detector makes sync.Pool drop items at random")
	}
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
		{"BR", []string{"0 21 2345 6789", "021 91234 5678", "0 15 21 2345 6789"}},
	}
	for _, c := range cases {
		for _, p := range fastPolicies {
			n := mustNew(t, c.region, p)
			for _, line := range c.lines {
				b := []byte(line)
				_, _, ok := n.fastNormalize(b)
				if !ok {
					t.Errorf("%s/%v: %q: not decided by the fast path", c.region, p, line)
					continue
				}
				if a := testing.AllocsPerRun(100, func() { n.NormalizeBytes(b) }); a != 0 {
					t.Errorf("%s/%v: NormalizeBytes(%q): %v allocations; want 0", c.region, p, line, a)
				}
			}
		}
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

// raceEnabled reports whether the test binary was built with -race.
func raceEnabled() bool {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return false
	}
	for _, s := range bi.Settings {
		if s.Key == "-race" {
			return s.Value == "true"
		}
	}
	return false
}
