package verifier

import (
	"slices"
	"strings"
	"testing"
)

func oneLine(t *testing.T, what, h, unknown string) {
	t.Helper()
	if h == "" || h == unknown || strings.ContainsAny(h, "\n\t") {
		t.Errorf("%s: Help() = %q: want one line", what, h)
	}
}

// TestExploreNamesHaveHelp: every fault, settings variant and pattern of
// explore's matrix has a one-line Help, and the help tables name nothing
// the matrix does not run.
func TestExploreNamesHaveHelp(t *testing.T) {
	for _, f := range Faults {
		oneLine(t, "fault "+f, Fault(f).Help(), Fault("no-such-fault").Help())
		if v := Fault(f).FirstVariant(); !slices.ContainsFunc(Variants, func(sv SettingsVariant) bool { return sv.Name == v }) {
			t.Errorf("fault %s: first variant %q is not a settings variant", f, v)
		}
	}
	for f := range faultHelp {
		if !slices.Contains(Faults, string(f)) {
			t.Errorf("faultHelp describes %q, which is not one of Faults", f)
		}
	}
	for f := range firstVariant {
		if !slices.Contains(Faults, f) {
			t.Errorf("firstVariant names fault %q, which is not one of Faults", f)
		}
	}
	var names []string
	for _, v := range Variants {
		oneLine(t, "variant "+v.Name, v.Help(), SettingsVariant{Name: "no-such-variant"}.Help())
		names = append(names, v.Name)
	}
	for v := range variantHelp {
		if !slices.Contains(names, v) {
			t.Errorf("variantHelp describes %q, which is not one of Variants", v)
		}
	}
	for _, p := range Patterns {
		oneLine(t, "pattern "+p.Name, p.Help(), "")
	}
}
