package plan

import (
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestSettingValues: settingTable describes exactly the settings Pairs
// renders, in its order, each with one line of help, and the values it
// names are the ones Set takes: every listed value of an enumeration, both
// ends of a range; not a value outside them.
func TestSettingValues(t *testing.T) {
	var pairKeys []string
	for _, p := range DefaultSettings().Pairs() {
		k, _, _ := strings.Cut(p, "=")
		pairKeys = append(pairKeys, k)
	}
	var keys []string
	for _, k := range SettingKeys() {
		keys = append(keys, string(k))
	}
	if !slices.Equal(keys, pairKeys) {
		t.Fatalf("settingTable lists %v; Pairs renders %v", keys, pairKeys)
	}
	set := func(k SettingKey, v string) error {
		s := DefaultSettings()
		return s.Set(string(k), v)
	}
	for _, k := range SettingKeys() {
		if h := k.Help(); h == "" || h == SettingKey("no-such-key").Help() || strings.ContainsAny(h, "\n\t") {
			t.Errorf("%s: Help() = %q: want one line", k, h)
		}
		if err := set(k, k.Default()); err != nil {
			t.Errorf("%s: its default %q: %v", k, k.Default(), err)
		}
		if err := set(k, "bogus"); err == nil {
			t.Errorf("%s=bogus: accepted", k)
		}
		vals := k.Values()
		lo, hi, isRange := strings.Cut(vals, " … ")
		if !isRange {
			for _, v := range strings.Split(vals, ", ") {
				if err := set(k, v); err != nil {
					t.Errorf("%s: listed value %q: %v", k, v, err)
				}
			}
			continue
		}
		if i := strings.LastIndex(lo, " "); i >= 0 {
			lo = lo[i+1:] // "a duration, 0", "0, or a power of two 512"
		}
		for _, v := range []string{lo, hi} {
			if err := set(k, v); err != nil {
				t.Errorf("%s: end of range %q: %v", k, v, err)
			}
		}
		var below, above string
		if a, err := strconv.Atoi(lo); err == nil {
			b, _ := strconv.Atoi(hi)
			below, above = strconv.Itoa(a-1), strconv.Itoa(b+1)
		} else {
			d, err := time.ParseDuration(hi)
			if err != nil {
				t.Fatalf("%s: range %q is neither integers nor durations", k, vals)
			}
			below, above = "-1s", (d + time.Second).String()
		}
		for _, v := range []string{below, above} {
			if err := set(k, v); err == nil {
				t.Errorf("%s=%s: accepted, outside %q", k, v, vals)
			}
		}
	}
}
