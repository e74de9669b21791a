package refresh

import (
	"flag"
	"os"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite docs/EXTENSION.md's list of refresh steps from Steps")

const (
	docPath  = "../../../docs/EXTENSION.md"
	docBegin = "<!-- refresh steps: generated from validate/fleet/refresh.Steps -->\n"
	docEnd   = "<!-- end of refresh steps -->\n"
)

// The documented protocol and the client are one list: docs/EXTENSION.md
// holds exactly Markdown(), and Refresh reaches the steps in that order.
func TestDocIsStepList(t *testing.T) {
	data, err := os.ReadFile(docPath)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(data)
	a, b := strings.Index(doc, docBegin), strings.Index(doc, docEnd)
	if a < 0 || b < a {
		t.Fatalf("%s: no generated list between %q and %q", docPath, docBegin, docEnd)
	}
	got, want := doc[a+len(docBegin):b], Markdown()
	if got == want {
		return
	}
	if !*update {
		t.Fatalf("%s's refresh steps differ from refresh.Steps; run go test ./validate/fleet/refresh -run Doc -update\ndoc:\n%s\nsteps:\n%s", docPath, got, want)
	}
	doc = doc[:a+len(docBegin)] + want + doc[b:]
	if err := os.WriteFile(docPath, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
}

// Every step name Refresh reports is in Steps, and the order in which a
// refresh reaches them is the list's.
func TestStepNamesUnique(t *testing.T) {
	seen := map[string]bool{}
	for _, s := range Steps {
		if seen[s.Name] || s.Doc == "" {
			t.Errorf("step %q repeated or undocumented", s.Name)
		}
		seen[s.Name] = true
	}
}

func TestInOrder(t *testing.T) {
	for _, tc := range []struct {
		trace []string
		want  bool
	}{
		{[]string{"reboot", "enabled", "foreign", "fetch", "signature", "freeze", "rollback", "choose", "download", "clear", "delta", "store", "clear", "complete", "store"}, true},
		{[]string{"reboot", "enabled", "foreign", "fetch", "signature", "freeze", "rollback", "choose", "download", "store", "clear", "complete"}, true},
		{[]string{"reboot", "enabled", "foreign", "fetch", "signature", "freeze", "rollback", "choose", "download", "clear", "store", "complete"}, false}, // store before the load
		{[]string{"fetch", "reboot"}, false},
		{[]string{"reboot", "fetch", "signature", "choose", "download", "clear", "delta", "download"}, false},
	} {
		if got := InOrder(tc.trace); got != tc.want {
			t.Errorf("InOrder(%v) = %v, want %v", tc.trace, got, tc.want)
		}
	}
}
