package e164

import (
	"slices"
	"testing"
)

func TestPrefixLengths(t *testing.T) {
	for _, tc := range []struct {
		region, prefix string
		want           []int
	}{
		{"GB", "70000", []int{10}},    // Ofcom's "7000 0": personal numbers of 10 digits without the 0
		{"FR", "0140", []int{10}},     // ARCEP writes the trunk 0: 10 digits
		{"FR", "6", []int{9}},         // the same plan without it
		{"US", "415555", []int{10}},   // NPA-NXX: 10-digit numbers
		{"CA", "613200", []int{10}},   // CNAC's codes, the same plan
		{"GB", "7700900", nil},        // Ofcom's drama range: valid in no length
		{"FR", "01 40", nil},          // digits only
		{"FR", "", nil},               // nothing to extend
		{"US", "41555512345678", nil}, // longer than any number
	} {
		n, err := New(tc.region, PolicyPossible)
		if err != nil {
			t.Fatal(err)
		}
		if got := n.PrefixLengths(tc.prefix); !slices.Equal(got, tc.want) {
			t.Errorf("%s %q: %v, want %v", tc.region, tc.prefix, got, tc.want)
		}
	}
}
