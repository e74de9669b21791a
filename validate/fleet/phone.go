package fleet

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/calldir/calldir/validate/fleet/refresh"
	"github.com/calldir/calldir/validate/verifier"
	"github.com/calldir/calldir/validate/verifier/crashvfs"
	"github.com/calldir/calldir/validate/verifier/plan"
)

// phone is one simulated device between its refreshes: its database file,
// its app's state and what the simulation measured. Nothing of it is open
// between refreshes.
type phone struct {
	id   int
	db   string
	app  *refresh.State
	boot uint64

	disabled      string // the extension switched off, "" none
	disabledUntil int    // the day the user switches it on again
	writes        int64  // write points of its last session through the crash VFS
	rebooted      bool   // lost power since its last refresh
	cleanDays     int    // consecutive days without a fault on it
	held          string // the build every extension held after the last check ("" mixed)

	// steps are every step the phone's database saw, for a reproducer.
	steps []plan.Step
	// wipes: per extension, the request count at which it became empty.
	wipeFrom map[string]int
	requests int            // reloads so far
	served   map[int]uint64 // requests each extension served (its App Group counter)

	fig         PhoneFigures
	convergedAt int // refreshes after the faults stopped (-1 not yet)
	violations  int
}

// PhoneFigures are one phone's totals.
type PhoneFigures struct {
	Phone         int     `json:"phone"`
	Start         string  `json:"start_build"`
	Requests      int     `json:"requests"`       // reloads asked for
	HTTPRequests  int     `json:"http_requests"`  // downloads attempted
	Bytes         int64   `json:"bytes"`          // bytes the server sent it
	CompleteBytes int64   `json:"complete_bytes"` // a complete download of each day's target
	ReloadMillis  float64 `json:"reload_ms"`      // time in the daemon model's reloads
	Wipes         []int   `json:"wipes"`          // each transient wipe's length, in requests
	PowerLosses   int     `json:"power_losses"`
	RolledBack    int     `json:"rolled_back"` // checks after a power loss that found a stored build's commit taken back
	Refreshes     int     `json:"refreshes"`
	Done          int     `json:"refreshes_done"`  // that brought every extension to the target
	Converged     int     `json:"converged_after"` // refreshes after the faults stopped (-1: never)
}

// dayFaults are the phone faults drawn for one phone and day.
type dayFaults struct {
	power    int64 // write point, -1 none
	kill     int   // kill the app before this reload (1-based), 0 none
	disable  int   // switch an extension off for this many days, 0 none
	diskFull int   // pages the database may still grow by, -1 none
	stale    int   // serve the pointer this many publishes older, 0 none
}

func (f dayFaults) any() bool {
	return f.power >= 0 || f.kill > 0 || f.disable > 0 || f.diskFull >= 0 || f.stale > 0
}

// device is the phone as the client sees it during one refresh: reloads
// go to the verifier's daemon model.
type device struct {
	s      *sim
	ph     *phone
	d      *verifier.Driver
	run    *crashvfs.Run
	target map[string]verifier.Content // the day's target, for the wipe count
	kill   int
	n      int // reloads of this session
	killed bool
	bad    []string // loaded files that are not published ones
}

func (dv *device) Boot() uint64 { return dv.ph.boot }

func (dv *device) Enabled(ext int) bool { return dv.ph.disabled != verifier.ExtName(ext) }

func (dv *device) Served(ext int) uint64 { return dv.ph.served[ext] }

func (dv *device) Reload(ctx context.Context, rq refresh.Request) (bool, error) {
	dv.n++
	if dv.kill > 0 && dv.n == dv.kill {
		dv.killed = true
		dv.ph.steps = append(dv.ph.steps, plan.Step{Kind: plan.StepCheck, Tag: fmt.Sprintf("app killed before request %d", dv.n)})
		return false, &refresh.AbortError{Why: fmt.Sprintf("app killed before request %d of the refresh", dv.n)}
	}
	name := verifier.ExtName(rq.Ext)
	state, err := dv.d.State(name)
	if err != nil {
		return false, err
	}
	incremental := rq.Incremental && state == verifier.StateLoaded
	files := rq.Files
	if rq.Incremental && !incremental {
		files = rq.Shard // the system made it complete: the extension loads the job's shard
	}
	st := plan.Step{Kind: plan.StepLoad, Ext: name, Incremental: rq.Incremental, FailAfter: -1}
	if rq.RemoveAll && incremental {
		st.Ops = append(st.Ops, plan.Op{Kind: plan.OpRemoveAll})
	}
	for _, f := range files {
		// The invariant: only published bytes are ever loaded. Hashed here,
		// from the file the extension reads, not from the client's word.
		got, err := hashFile(f.Path)
		if err != nil {
			return false, err
		}
		if !dv.s.hist.Genuine[got] {
			dv.bad = append(dv.bad, fmt.Sprintf("%s (SHA-256 %.12s…)", filepath.Base(f.Path), got))
		}
		st.Ops = append(st.Ops, plan.Op{Kind: f.Kind, Source: plan.Source{Shard: f.Path, Root: filepath.Dir(f.Path)}})
	}
	start := time.Now()
	dv.ph.served[rq.Ext]++
	res := dv.d.Load(st)
	dv.ph.fig.ReloadMillis += float64(time.Since(start).Microseconds()) / 1000
	dv.ph.steps = append(dv.ph.steps, st)
	dv.ph.requests++
	dv.ph.fig.Requests++
	if dv.run != nil && dv.run.PoweredOff() {
		return incremental, &refresh.AbortError{Why: "power lost during a reload"}
	}
	dv.noteWipe(name)
	if res.Err != nil {
		return incremental, res.Err
	}
	return incremental, nil
}

// noteWipe reads an extension after a request and counts it empty
// while the target has entries for it: a transient wipe.
func (dv *device) noteWipe(name string) {
	if _, c, err := dv.d.Content(name); err == nil {
		dv.ph.noteWipe(name, c, dv.target[name])
	}
}

// noteWipe starts or ends a transient wipe of an extension: one that is
// empty while the target has entries, its length in requests.
func (ph *phone) noteWipe(name string, c, target verifier.Content) {
	from, wiping := ph.wipeFrom[name]
	switch {
	case c.Entries() == 0 && target.Entries() > 0 && !wiping:
		ph.wipeFrom[name] = ph.requests
	case c.Entries() > 0 && wiping:
		ph.fig.Wipes = append(ph.fig.Wipes, ph.requests-from)
		delete(ph.wipeFrom, name)
	}
}

func hashFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
