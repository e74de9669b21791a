package fleet

import (
	"testing"
)

// Acceptance: with no faults every phone converges in one refresh, and
// one whose build the pointer still offers as a base downloads the delta
// only (the delta-only invariant, checked for every such refresh).
func TestFleetNoFaults(t *testing.T) {
	ch := mustChannel(t, 10, 300, 40)
	rep := mustRun(t, testOptions(ch, 20, 8, 1))
	for _, v := range rep.Violations {
		t.Errorf("violation: %+v", v)
	}
	for _, d := range rep.PerDay {
		if d.Converged != rep.Devices {
			t.Errorf("day %d: %d of %d phones at the target, want all", d.Day, d.Converged, rep.Devices)
		}
	}
	var bytes, complete int64
	for _, p := range rep.Phones {
		bytes += p.Bytes
		complete += p.CompleteBytes
		if len(p.Wipes) != 0 {
			t.Errorf("phone %d: wipes %v without a fault", p.Phone, p.Wipes)
		}
	}
	t.Logf("bytes %d of %d complete (%.1f%%); %.0f ms", bytes, complete, 100*float64(bytes)/float64(complete), rep.Millis)
	if bytes >= complete {
		t.Errorf("downloaded %d bytes, complete downloads would be %d: deltas not used", bytes, complete)
	}
	if rep.DeltaOnlyChecked < rep.Devices*(rep.Days-1) {
		t.Errorf("delta-only checked on %d refreshes, want at least %d (every phone, every day after the first)", rep.DeltaOnlyChecked, rep.Devices*(rep.Days-1))
	}
}

// Each fault class alone, and all together, at a small size with fixed
// seeds: no invariant broken, every phone converged, and the fault was
// injected.
func TestFleetFaults(t *testing.T) {
	ch := mustChannel(t, 10, 300, 40)
	cases := append([]Fault{}, Faults...)
	for _, f := range append(cases, "all") {
		t.Run(string(f), func(t *testing.T) {
			o := testOptions(ch, 20, 8, 3)
			if err := o.Rates.Parse(string(f) + "=0.2"); err != nil {
				t.Fatal(err)
			}
			rep := mustRun(t, o)
			for _, v := range rep.Violations {
				t.Errorf("violation: %+v", v)
			}
			injected := map[Fault]int{}
			for _, d := range rep.PerDay {
				for k, n := range d.Injected {
					injected[k] += n
				}
			}
			wipes := 0
			for _, p := range rep.Phones {
				wipes += len(p.Wipes)
			}
			t.Logf("injected %v; converged %d/%d; wipes %d; %.0f ms", injected, rep.Converged, rep.Devices, wipes, rep.Millis)
			if f != "all" && injected[f] == 0 {
				t.Errorf("no %s fault injected", f)
			}
			if rep.Converged != rep.Devices {
				t.Errorf("%d of %d phones converged", rep.Converged, rep.Devices)
			}
		})
	}
}

// A kill drawn for a refresh of fewer reloads than its kill point cannot
// act: it is counted as unapplied, not as injected (a user asking for kill
// faults on a channel of one-request deltas is told, not misled).
func TestFleetKillUnapplied(t *testing.T) {
	ch := mustChannel(t, 4, 100, 5000) // every delta one request
	o := testOptions(ch, 6, 3, 1)
	o.Rates = Rates{FaultKill: 1}
	rep := mustRun(t, o)
	injected := 0
	for _, d := range rep.PerDay {
		injected += d.Injected[FaultKill]
	}
	// kill=1 draws a kill for every phone on every fault day (3 days);
	// it acts only where the refresh made 2 or more reloads.
	if drawn := o.Devices * o.Days; rep.Unapplied[FaultKill] == 0 || injected+rep.Unapplied[FaultKill] != drawn {
		t.Errorf("kill=1 on one-request deltas: %d injected + %d unapplied, want %d drawn with some unapplied", injected, rep.Unapplied[FaultKill], drawn)
	}
	for _, v := range rep.Violations {
		t.Errorf("violation: %+v", v)
	}
}
