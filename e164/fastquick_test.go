package e164

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestFastQuickTables checks the tables quick reads by the first two
// digits (fastMeta.noop2, plain, ccLead) against the functions they stand
// for, on random numbers of every region, and every trie against the
// backtracker on random digit strings.
func TestFastQuickTables(t *testing.T) {
	tb := loadFastTables()
	rng := rand.New(rand.NewPCG(3, 5))
	perPrefix := 30
	if !long {
		perPrefix = 8
	}
	var regions []string
	for r := range tb.region {
		regions = append(regions, r)
	}
	slices.Sort(regions)
	digits := func(p [2]byte) []byte {
		x := append([]byte(nil), p[0], p[1])
		for range 1 + rng.IntN(16) {
			x = append(x, byte('0'+rng.IntN(10)))
		}
		return x
	}
	b := new(btState)
	checks := 0
	for _, region := range regions {
		m := tb.region[region]
		if !m.ok {
			continue
		}
		for i := range 100 {
			p := [2]byte{byte('0' + i/10), byte('0' + i%10)}
			for range perPrefix {
				x := digits(p)
				checks++
				if m.noop2[i] && !m.npNoOp(x) {
					t.Errorf("%s: noop2[%s], but npNoOp(%s) is false", region, p[:], x)
				}
				if m.noop2[i] {
					if pot, ok := m.stripNationalPrefix(x, nil); !ok || !slices.Equal(pot, x) {
						t.Errorf("%s: noop2[%s], but stripNationalPrefix(%s) = %s, %v", region, p[:], x, pot, ok)
					}
					if st, ok := m.settled(x); !ok || !st {
						t.Errorf("%s: noop2[%s], but settled(%s) = %v, %v", region, p[:], x, st, ok)
					}
				}
				if m.plain[i] || m.ccLead[i] {
					if _, ok, sure := m.idd.matchEnd(x); !sure || ok {
						t.Errorf("%s: plain or ccLead[%s], but the international prefix matches %s", region, p[:], x)
					}
				}
				if m.plain[i] {
					c, nat, ok := quickNational(tb, m, x)
					if !ok || c != m.cc || !slices.Equal(nat, x) {
						t.Errorf("%s: plain[%s], but quickNational(%s) = %v, %s, %v", region, p[:], x, c != nil, nat, ok)
					}
				}
			}
		}
		for _, r := range []*prefixRule{m.npfp, m.idd} {
			if r == nil || r.trie == nil {
				continue
			}
			for range 40 * perPrefix {
				x := digits([2]byte{byte('0' + rng.IntN(10)), byte('0' + rng.IntN(10))})
				x = x[:rng.IntN(len(x)+1)]
				res := r.trie.lookup(x)
				if res.unknown {
					continue
				}
				checks++
				ok := r.bt.match(b, x)
				if ok != res.ok || (ok && !slices.Equal(b.matchcap, res.cap)) {
					t.Errorf("%s: trie(%s) = %v %v; backtracker %v %v", region, x, res.ok, res.cap, ok, b.matchcap)
				}
			}
		}
	}
	t.Logf("%d checks", checks)
}

// TestFastQuickDecide checks quick against decide, the whole fast path
// it shortens, on generated inputs: wherever quick decides, decide
// decides the same.
func TestFastQuickDecide(t *testing.T) {
	total := 400_000
	if !long {
		total = 50_000
	}
	tb := loadFastTables()
	gen := &generator{rng: rand.New(rand.NewPCG(11, 13)), g: loadGenData()}
	quickCount := 0
	for i := range total {
		region, _ := gen.next()
		def := tb.regionMeta(region)
		if def == nil || !def.ok {
			continue
		}
		policy := fastPolicies[i%len(fastPolicies)]
		b := gen.b
		for len(b) > 0 && isASCIISpace(b[0]) {
			b = b[1:]
		}
		for len(b) > 0 && isASCIISpace(b[len(b)-1]) {
			b = b[:len(b)-1]
		}
		if len(b) == 0 {
			continue
		}
		plus := b[0] == '+'
		k := 0
		if plus {
			k = 1
		}
		var d [32]byte
		nd := fastScanDigits(b[k:], &d)
		if nd == 0 || nd > maxFastDigits {
			continue
		}
		views := []fastView{{plus: plus, length: len(b), start: firstDigit(b), digits: d[:nd]}}
		if plus {
			views[0].start = 0
		} else if nd > 2 && d[0] == '0' && d[1] == '0' {
			views = append(views, fastView{plus: true, length: 1 + len(b) - (firstDigit(b) + 2), digits: d[2:nd]})
		}
		for _, v := range views {
			res, why, ok := quick(tb, def, policy, v.plus, v.length, v.digits)
			if !ok {
				continue
			}
			quickCount++
			var bufs fastBufs
			f := fastReader{policy: policy, t: tb, def: def, bufs: &bufs}
			want, wantWhy, wantOK := f.decide(&v)
			if !wantOK || res != want || why != wantWhy {
				t.Errorf("%s/%v %q (+%v %s): quick = %+v, %v; decide = %+v, %v, %v", region, policy, b, v.plus, v.digits, res, why, want, wantWhy, wantOK)
			}
		}
	}
	t.Logf("%d inputs, %d decided by quick", total, quickCount)
}
