package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/calldir/calldir/validate/fleet"
)

// fleetChannel compiles and publishes days daily builds with calldir
// compile and calldir publish --now --keep-history, and returns the
// channel and the public key.
func fleetChannel(t *testing.T, days int) (ch, pub string) {
	t.Helper()
	s := newChannelSetup(t)
	ch = filepath.Join(s.dir, "ch")
	base := seqNums(14155550000, 300, 3)
	t0 := time.Date(2026, 3, 1, 6, 0, 0, 0, time.UTC)
	for i := 0; i < days; i++ {
		nums := append([]int64(nil), base[i*5:]...)
		nums = append(nums, seqNums(14155570000+int64(i)*100, 5, 7)...)
		b := compileBuild(t, s.dir, fmt.Sprintf("day%02d", i), 160, nums...)
		mustCLI(t, 0, "publish", "--keep-history", "--channel", ch, "--key", s.priv, "--now", t0.Add(time.Duration(i)*24*time.Hour).Format(time.RFC3339), "--chunk", "20", "--expires", "30d", b)
	}
	return ch, s.pub
}

// The CI's small fleet: no faults, every phone converged, exit 0; JSON
// holds the figures.
func TestFleetCLI(t *testing.T) {
	mirror, pub := fleetChannel(t, 6)
	out, _ := mustCLI(t, 0, "fleet", "--channel", mirror, "--pubkey", pub, "--devices", "10", "--days", "5", "--seed", "2", "--timeout", "200ms")
	for _, want := range []string{"converged: 10 of 10 phones", "violations: 0", "transient wipes: none"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	report := filepath.Join(t.TempDir(), "fleet.html")
	out, _ = mustCLI(t, 0, "fleet", "--channel", mirror, "--pubkey", pub, "--devices", "10", "--days", "5", "--fault", "all=0.1", "--timeout", "200ms", "--format", "json", "--report", report)
	var rep fleet.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Converged != 10 || len(rep.PerDay) != 6 || len(rep.Phones) != 10 {
		t.Errorf("json: converged %d, %d days, %d phones", rep.Converged, len(rep.PerDay), len(rep.Phones))
	}
	page, err := os.ReadFile(report)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(page), "<polyline") || !strings.Contains(string(page), "Phones per day") {
		t.Errorf("report has no plots")
	}
}

// A mutated client is caught (exit 1), the violation names its
// invariant and a reproducer, and calldir replay of the reproducer fails
// on one device the same way (the rows differ from the stored build).
func TestFleetCLIMutationReproduces(t *testing.T) {
	mirror, pub := fleetChannel(t, 6)
	repro := filepath.Join(t.TempDir(), "repro")
	out, _ := mustCLI(t, 1, "fleet", "--channel", mirror, "--pubkey", pub, "--devices", "10", "--days", "5", "--seed", "3",
		"--fault", "kill=0.4", "--mutate", "store-early", "--repro", repro, "--timeout", "200ms")
	if !strings.Contains(out, "holds-stored") || !strings.Contains(out, "calldir replay ") {
		t.Fatalf("no holds-stored violation with a reproducer:\n%s", out)
	}
	var plan string
	for _, line := range strings.Split(out, "\n") {
		if _, p, ok := strings.Cut(line, "reproduce on one device: calldir replay "); ok {
			plan = p
			break
		}
	}
	rout, _ := mustCLI(t, 1, "replay", plan)
	if !strings.Contains(rout, "rows differ from build") {
		t.Errorf("replay of %s does not show the rows differing:\n%s", plan, rout)
	}
}
