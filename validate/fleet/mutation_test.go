package fleet

import (
	"testing"

	"github.com/calldir/calldir/validate/fleet/refresh"
)

// Each mutation of the client is caught by the invariant that names it,
// under the faults that expose it.
func TestFleetMutationsCaught(t *testing.T) {
	ch := mustChannel(t, 10, 300, 40)
	cases := []struct {
		m      refresh.Mutation
		faults []string
		want   string
	}{
		{refresh.StoreEarly, []string{"kill=0.3", "disk-full=0.3"}, InvHoldsStored},
		{refresh.SkipSignature, []string{"flip=0.5"}, InvVerified},
		{refresh.AnyBase, []string{"kill=0.2", "disk-full=0.2"}, InvHoldsStored},
		{refresh.NoFallback, []string{"kill=0.3"}, InvRepair},
	}
	if len(cases) != len(refresh.Mutations) {
		t.Fatalf("%d cases for %d mutations", len(cases), len(refresh.Mutations))
	}
	for _, tc := range cases {
		t.Run(string(tc.m), func(t *testing.T) {
			o := testOptions(ch, 20, 8, 5)
			o.Mutation = tc.m
			for _, f := range tc.faults {
				if err := o.Rates.Parse(f); err != nil {
					t.Fatal(err)
				}
			}
			rep := mustRun(t, o)
			by := map[string]int{}
			for _, v := range rep.Violations {
				by[v.Invariant]++
			}
			t.Logf("violations by invariant: %v", by)
			if by[tc.want] == 0 {
				t.Errorf("mutation %s not caught by %s (violations: %v)", tc.m, tc.want, by)
			}
		})
	}
}
