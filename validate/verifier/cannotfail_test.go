package verifier

import "testing"

// TestCannotFail: explore skips only the pairs that cannot fail by
// construction. synchronous=off is skipped for every fault but a power
// loss (the one fault that drops unsynced writes), and a deleted hot
// journal after a kill is skipped only where the cache cannot spill.
func TestCannotFail(t *testing.T) {
	variant := func(name string) SettingsVariant {
		for _, v := range Variants {
			if v.Name == name {
				return v
			}
		}
		t.Fatalf("no settings variant %q", name)
		return SettingsVariant{}
	}
	for _, c := range []struct {
		variant, fault string
		skipped        bool
	}{
		{"sync-off", "kill", true},
		{"sync-off", "busy", true},
		{"sync-off", "power-loss", false},
		{"default", "power-loss", false},
		{"default", "kill+delete-journal", true},
		{"small-cache", "kill+delete-journal", false},
		{"default", "kill", false},
	} {
		if got := CannotFail(variant(c.variant), c.fault); (got != "") != c.skipped {
			t.Errorf("CannotFail(%s, %s) = %q, want skipped=%v", c.variant, c.fault, got, c.skipped)
		}
	}
}
