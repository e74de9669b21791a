package e164

import (
	"testing"
	"time"
)

func TestQuickFast(t *testing.T) {
	t0 := time.Now()
	tb := loadFastTables()
	t.Logf("tables in %v", time.Since(t0))
	bad := 0
	for r, m := range tb.region {
		if !m.ok {
			t.Logf("region %s not ok", r)
		}
	}
	for _, c := range tb.cc {
		if c != nil && !c.ok {
			t.Logf("cc %d not ok", c.code)
		}
	}
	t0 = time.Now()
	for _, m := range tb.region {
		if v := m.valid(); !v.ok {
			t.Logf("valid not ok %s", m.md.GetId())
		}
	}
	t.Logf("valid in %v", time.Since(t0))
	for _, c := range normCases {
		for _, p := range []Policy{PolicyPossible, PolicyValid, PolicyAny} {
			n := mustNew(t, c.region, p)
			r1, w1 := n.Normalize(c.in)
			r2, w2, ok := n.fastNormalize([]byte(c.in))
			if ok && (r1 != r2 || w1 != w2) {
				bad++
				t.Errorf("%s/%v %q: Normalize %v %v fast %v %v", c.region, p, c.in, r1, w1, r2, w2)
			}
			t.Logf("%s/%v %q: ok=%v %v %v", c.region, p, c.in, ok, r2, w2)
		}
	}
}
