package e164

import (
	"math/rand/v2"
	"regexp"
	"slices"
	"testing"

	"github.com/nyaruka/phonenumbers"
)

// TestFastEngines checks the fast path's two pattern engines against
// package regexp on every pattern of the metadata they evaluate, on digit
// strings made from the metadata's example numbers (with national
// prefixes, digits changed, cut and added) and random ones:
// digitDFA.full against MatchString of "^(?:p)$", digitDFA.prefix against
// MatchString of "^(?:p)", and btProg.match against FindSubmatchIndex.
func TestFastEngines(t *testing.T) {
	tb := loadFastTables()
	perPattern := 400
	if !long {
		perPattern = 60
	}
	rng := rand.New(rand.NewPCG(7, 11))
	var metas []*fastMeta
	for _, m := range tb.region {
		metas = append(metas, m)
	}
	for _, c := range tb.cc {
		if c != nil && !slices.Contains(metas, c.main) {
			metas = append(metas, c.main)
		}
	}
	slices.SortFunc(metas, func(a, b *fastMeta) int {
		if a.md.GetId() != b.md.GetId() {
			if a.md.GetId() < b.md.GetId() {
				return -1
			}
			return 1
		}
		return int(a.code - b.code)
	})
	b := new(btState)
	checks, matches := 0, 0
	for _, m := range metas {
		md := m.md
		// The digit strings: example numbers and their neighbours.
		var seeds []string
		region := md.GetId()
		for _, typ := range diffTypes {
			var num *phonenumbers.PhoneNumber
			if region == "001" {
				num = phonenumbers.GetExampleNumberForNonGeoEntity(int(m.code))
			} else {
				num = phonenumbers.GetExampleNumberForType(region, typ)
			}
			if num != nil {
				seeds = append(seeds, phonenumbers.GetNationalSignificantNumber(num))
			}
		}
		seeds = append(seeds, "0", "1", "00", "011", "8", "810", "0011", "12345678")
		inputs := make([][]byte, 0, perPattern)
		for range perPattern {
			s := []byte(seeds[rng.IntN(len(seeds))])
			switch rng.IntN(8) {
			case 0:
				s = append([]byte(md.GetNationalPrefix()), s...)
			case 1:
				if len(s) > 0 {
					s[rng.IntN(len(s))] = byte('0' + rng.IntN(10))
				}
			case 2:
				s = s[:rng.IntN(len(s)+1)]
			case 3:
				s = append(s, byte('0'+rng.IntN(10)))
			case 4:
				s = s[:0]
				for range rng.IntN(20) {
					s = append(s, byte('0'+rng.IntN(10)))
				}
			case 5:
				s = append([]byte(m.ccStr), s...)
			}
			inputs = append(inputs, s)
		}
		full := func(name, p string, d *digitDFA) {
			re := regexp.MustCompile("^(?:" + p + ")$")
			for _, in := range inputs {
				checks++
				want := re.Match(in)
				if want {
					matches++
				}
				if got := d.full(in); got != want {
					t.Errorf("%s/%d %s: full(%q) = %v; regexp %v", region, m.code, name, in, got, want)
				}
			}
		}
		prefix := func(name, p string, r *prefixRule) {
			re := regexp.MustCompile("^(?:" + p + ")")
			for _, in := range inputs {
				checks++
				want := re.FindSubmatchIndex(in)
				if got := r.any.prefix(in); got != (want != nil) {
					t.Errorf("%s/%d %s: prefix(%q) = %v; regexp %v", region, m.code, name, in, got, want)
				}
				if want == nil {
					continue
				}
				matches++
				if !r.bt.match(b, in) {
					t.Errorf("%s/%d %s: backtracker: no match for %q; regexp %v", region, m.code, name, in, want)
					continue
				}
				if got := b.matchcap[:len(want)]; !slices.Equal(got, want) {
					t.Errorf("%s/%d %s: backtracker(%q) = %v; regexp %v", region, m.code, name, in, got, want)
				}
			}
			// The decision trie, where it knows the outcome, is regexp's.
			if r.trie == nil {
				return
			}
			for _, in := range inputs {
				res := r.trie.lookup(in)
				if res.unknown {
					continue
				}
				checks++
				want := re.FindSubmatchIndex(in)
				if res.ok != (want != nil) || (want != nil && !slices.Equal(res.cap[:len(want)], want)) {
					t.Errorf("%s/%d %s: trie(%q) = %v %v; regexp %v", region, m.code, name, in, res.ok, res.cap, want)
				}
			}
		}
		full("general", md.GetGeneralDesc().GetNationalNumberPattern(), m.gen)
		if m.npfp != nil {
			prefix("national prefix", md.GetNationalPrefixForParsing(), m.npfp)
		}
		prefix("international prefix", md.GetInternationalPrefix(), m.idd)
		// Parse runs the international prefix unanchored and takes a match
		// at 0 only.
		idd := regexp.MustCompile(md.GetInternationalPrefix())
		for _, in := range inputs {
			want := idd.FindIndex(in)
			end, ok, sure := m.idd.matchEnd(in)
			if !sure || ok != (want != nil && want[0] == 0) || (ok && end != want[1]) {
				t.Errorf("%s/%d: matchEnd(%q) = %d, %v, %v; regexp %v", region, m.code, in, end, ok, sure, want)
			}
		}
		v := m.valid()
		if !v.ok {
			t.Errorf("%s/%d: PolicyValid data not built", region, m.code)
			continue
		}
		descs := map[string]*phonenumbers.PhoneNumberDesc{
			"premium": md.GetPremiumRate(), "toll free": md.GetTollFree(), "shared cost": md.GetSharedCost(),
			"voip": md.GetVoip(), "personal": md.GetPersonalNumber(), "pager": md.GetPager(), "uan": md.GetUan(),
			"voicemail": md.GetVoicemail(), "fixed line": md.GetFixedLine(), "mobile": md.GetMobile(),
		}
		for name, d := range descs {
			dm, ok := newDescMatcher(d)
			if !ok {
				t.Errorf("%s/%d %s: no automaton", region, m.code, name)
				continue
			}
			full(name, d.GetNationalNumberPattern(), dm.dfa)
		}
		if ld := md.GetLeadingDigits(); ld != "" {
			re := regexp.MustCompile("^(?:" + ld + ")")
			for _, in := range inputs {
				checks++
				if got, want := v.leading.prefix(in), re.Match(in); got != want {
					t.Errorf("%s/%d leading digits: prefix(%q) = %v; regexp %v", region, m.code, in, got, want)
				}
			}
		}
	}
	t.Logf("%d metadata, %d pattern checks, %d of them matches", len(metas), checks, matches)
}

// TestFastTransformAllocs checks that a national prefix transform (regexp
// Expand into the caller's buffer) does not allocate.
func TestFastTransformAllocs(t *testing.T) {
	if raceEnabled() {
		t.Skip("the race detector makes sync.Pool drop items at random")
	}
	m := loadFastTables().region["AR"]
	x := []byte("0343155551212")
	var buf [64]byte
	got, ok := m.stripNationalPrefix(x, buf[:0])
	if !ok || string(got) != "93435551212" {
		t.Fatalf("stripNationalPrefix(%s) = %s, %v; want 93435551212", x, got, ok)
	}
	if a := testing.AllocsPerRun(100, func() { m.stripNationalPrefix(x, buf[:0]) }); a != 0 {
		t.Errorf("stripNationalPrefix: %v allocations; want 0", a)
	}
}
