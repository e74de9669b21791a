package fleet

import (
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
)

// Fault is one fault class of the simulation, with its rate flag name.
type Fault string

// The fault classes (docs/FLEET.md). Network faults are drawn per HTTP
// request, the others per phone and day.
const (
	FaultReset    Fault = "reset"     // the connection is cut in the middle of the body
	Fault5xx      Fault = "5xx"       // 503 Service Unavailable
	FaultSlow     Fault = "slow"      // the response starts after the client's timeout
	FaultFlip     Fault = "flip"      // one byte of the body flipped in transit
	FaultStale    Fault = "stale"     // a CDN edge serves an older signed pointer for the day
	FaultPower    Fault = "power"     // power loss at a write point during the day's reloads
	FaultKill     Fault = "kill"      // the app killed between two requests
	FaultDisable  Fault = "disable"   // an extension switched off for 1 to 7 days
	FaultDiskFull Fault = "disk-full" // no page may be added beyond 0 to 2 for the day
)

// Faults lists every class, network first.
var Faults = []Fault{FaultReset, Fault5xx, FaultSlow, FaultFlip, FaultStale, FaultPower, FaultKill, FaultDisable, FaultDiskFull}

// Rates are the fault rates by class: a probability per request or per
// phone and day.
type Rates map[Fault]float64

// ParseFault reads one --fault value: CLASS=RATE, or all=RATE.
func (r Rates) Parse(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok {
		return fmt.Errorf("--fault %q: want CLASS=RATE (classes: all, %s)", s, faultNames())
	}
	rate, err := strconv.ParseFloat(v, 64)
	if err != nil || rate < 0 || rate > 1 {
		return fmt.Errorf("--fault %q: the rate is a probability, 0 … 1", s)
	}
	if k == "all" {
		for _, f := range Faults {
			r[f] = rate
		}
		return nil
	}
	for _, f := range Faults {
		if string(f) == k {
			r[f] = rate
			return nil
		}
	}
	return fmt.Errorf("--fault %q: unknown class %q (classes: all, %s)", s, k, faultNames())
}

func faultNames() string {
	s := make([]string, len(Faults))
	for i, f := range Faults {
		s[i] = string(f)
	}
	return strings.Join(s, ", ")
}

// String lists the non-zero rates in Faults order.
func (r Rates) String() string {
	var s []string
	for _, f := range Faults {
		if r[f] > 0 {
			s = append(s, fmt.Sprintf("%s=%g", f, r[f]))
		}
	}
	if len(s) == 0 {
		return "none"
	}
	sort.Strings(s)
	return strings.Join(s, " ")
}

// dice draws the simulation's random decisions: each from its own
// stream, keyed by the seed and what is decided, so that a decision does
// not depend on the order phones run in.
type dice struct{ seed uint64 }

func (d dice) rng(key ...any) *rand.Rand {
	h := fnv.New64a()
	fmt.Fprint(h, key...)
	return rand.New(rand.NewPCG(d.seed, h.Sum64()))
}

// hit draws one fault: true with probability rate.
func (d dice) hit(rate float64, key ...any) bool {
	return rate > 0 && d.rng(key...).Float64() < rate
}
