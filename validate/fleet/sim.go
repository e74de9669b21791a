package fleet

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"net/http"
	"runtime"
	"sort"
	"sync"
	"time"

	"github.com/calldir/calldir/shard/outfs"
	"github.com/calldir/calldir/validate/fleet/refresh"
	"github.com/calldir/calldir/validate/verifier"
	"github.com/calldir/calldir/validate/verifier/crashvfs"
	"github.com/calldir/calldir/validate/verifier/plan"
)

// ConvergeBound is how many fault-free refreshes bring any phone to the
// target once the faults stop: one. Every state a fault leaves is either
// a stored ID that the phone's rows match (checked after every refresh),
// which the next refresh turns into the target by a delta or a complete
// load, or a cleared ID, which the next refresh turns into the target by
// a complete load; the steps reboot, enabled and foreign clear every ID
// a fault could have made wrong (docs/FLEET.md).
const ConvergeBound = 1

// Options configure a simulation.
type Options struct {
	Channel  string
	Keys     []ed25519.PublicKey
	Devices  int
	Days     int // days with faults, one published pointer each
	Seed     uint64
	Rates    Rates
	Settings verifier.Settings
	Timeout  time.Duration // the client's per-download timeout
	Workers  int           // phones simulated at once; 0: GOMAXPROCS
	Mutation refresh.Mutation
	// Repro, when set, is the directory the reproducers of violations
	// are written into (at most MaxRepros, one per phone).
	Repro    string
	Progress func(day, days int)
}

// MaxRepros bounds the reproducers one run writes.
const MaxRepros = 5

// Violation is an invariant broken by one phone on one day.
type Violation struct {
	Invariant string `json:"invariant"`
	Phone     int    `json:"phone"`
	Day       int    `json:"day"`
	Detail    string `json:"detail"`
	Repro     string `json:"repro,omitempty"` // a plan for calldir replay
}

// DayFigures are one simulated day's.
type DayFigures struct {
	Day        int           `json:"day"`
	Sequence   uint64        `json:"sequence"`
	Faults     bool          `json:"faults"`
	Converged  int           `json:"converged"` // phones whose every extension holds the target and stores it
	Wiped      int           `json:"wiped"`     // phones with an extension empty after their refresh
	Violations int           `json:"violations"`
	Injected   map[Fault]int `json:"injected"`
}

// Report is a whole simulation.
type Report struct {
	Channel    string         `json:"channel"`
	Devices    int            `json:"devices"`
	Days       int            `json:"days"`
	Settle     int            `json:"settle_refreshes"`
	Seed       uint64         `json:"seed"`
	Faults     string         `json:"faults"`
	Settings   string         `json:"settings"`
	Mutation   string         `json:"mutation,omitempty"`
	Pointers   int            `json:"pointers"`
	Skipped    int            `json:"pointers_skipped"`
	Entries    int64          `json:"target_entries"`
	PerDay     []DayFigures   `json:"days_figures"`
	Phones     []PhoneFigures `json:"phones"`
	Violations []Violation    `json:"violations"`
	Converged  int            `json:"converged"` // phones at the target within ConvergeBound refreshes after the faults
	Bound      int            `json:"bound"`
	// DeltaOnlyChecked counts the refreshes the delta-only invariant
	// applied to.
	DeltaOnlyChecked int `json:"delta_only_checked"`
	// Unapplied counts faults drawn that the refresh gave no point to act
	// at: an app kill before request 2–4 of a refresh that made fewer.
	Unapplied map[Fault]int `json:"unapplied,omitempty"`
	Millis    float64       `json:"ms"`
}

// OK says whether no invariant was broken.
func (r *Report) OK() bool { return len(r.Violations) == 0 }

type sim struct {
	opts Options
	hist *History
	srv  *server
	dice dice
	// store is the phones' containers, shared: checked files named by
	// their SHA-256 (a file is the same for every phone that checked it),
	// beside the phones' databases, in the run's scratch directory.
	store    string
	extDefs  []plan.ExtDef
	first    int // index in hist.Pointers of day 0's pointer
	rollback int // commits a power loss may take back (verifier.RollbackCommits)
	client   *http.Transport

	mu     sync.Mutex
	rep    *Report
	repros int
}

// Run simulates the fleet.
func Run(ctx context.Context, o Options) (*Report, error) {
	start := time.Now()
	if o.Devices < 1 || o.Days < 1 {
		return nil, fmt.Errorf("fleet: want at least one device and one day")
	}
	if o.Timeout <= 0 {
		o.Timeout = 2 * time.Second
	}
	if o.Workers <= 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
	h, err := ReadHistory(o.Channel, o.Keys)
	if err != nil {
		return nil, err
	}
	if o.Days > len(h.Pointers) {
		return nil, &HistoryError{fmt.Sprintf("%d days asked for, the channel's servable history has %d pointers (%d older ones name files publish removed)", o.Days, len(h.Pointers), h.Skipped)}
	}
	scratch, remove, err := outfs.ScratchDir("calldir-fleet-")
	if err != nil {
		return nil, err
	}
	defer remove()
	d := dice{o.Seed}
	srv, err := startServer(h, o.Rates, d, o.Timeout)
	if err != nil {
		return nil, err
	}
	defer srv.close()
	s := &sim{opts: o, hist: h, srv: srv, dice: d, store: scratch, first: len(h.Pointers) - o.Days,
		client: &http.Transport{MaxIdleConnsPerHost: o.Workers}}
	defer s.client.CloseIdleConnections()
	s.rollback, _ = verifier.RollbackCommits(o.Settings)
	for _, e := range h.Exts {
		n := verifier.ExtName(e)
		s.extDefs = append(s.extDefs, plan.ExtDef{Name: n, Bundle: "com.calldir.fleet." + n})
	}
	last := h.Pointers[len(h.Pointers)-1].Pointer
	s.rep = &Report{Channel: o.Channel, Devices: o.Devices, Days: o.Days, Settle: ConvergeBound, Seed: o.Seed, Faults: o.Rates.String(),
		Settings: o.Settings.Short(), Mutation: string(o.Mutation), Pointers: len(h.Pointers), Skipped: h.Skipped, Bound: ConvergeBound, Violations: []Violation{}}
	for _, c := range h.Builds[last.Target] {
		s.rep.Entries += c.Entries()
	}

	phones := make([]*phone, o.Devices)
	for i := range phones {
		if phones[i], err = s.newPhone(ctx, i, scratch); err != nil {
			return nil, err
		}
	}
	total := o.Days + ConvergeBound
	for day := 0; day < total; day++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		pi := min(s.first+day, len(h.Pointers)-1)
		faults := day < o.Days
		stale := map[int][]byte{}
		injected := map[Fault]int{}
		for _, ph := range phones {
			if k := s.staleBy(ph.id, day, faults); k > 0 && pi-k >= 0 {
				stale[ph.id] = h.Pointers[pi-k].Envelope
			}
		}
		srv.setDay(day, faults, h.Pointers[pi].Envelope, stale)
		df := DayFigures{Day: day, Sequence: h.Pointers[pi].Pointer.Sequence, Faults: faults}
		var wg sync.WaitGroup
		var errMu sync.Mutex
		var firstErr error
		work := make(chan *phone)
		for w := 0; w < o.Workers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for ph := range work {
					out, err := s.session(ctx, ph, day, pi, faults, stale[ph.id] != nil)
					errMu.Lock()
					if err != nil && firstErr == nil {
						firstErr = fmt.Errorf("phone %d, day %d: %w", ph.id, day, err)
					}
					if out.converged {
						df.Converged++
					}
					if out.wiped {
						df.Wiped++
					}
					df.Violations += out.violations
					for f, n := range out.injected {
						injected[f] += n
					}
					for f, n := range out.unapplied {
						if s.rep.Unapplied == nil {
							s.rep.Unapplied = map[Fault]int{}
						}
						s.rep.Unapplied[f] += n
					}
					errMu.Unlock()
				}
			}()
		}
		for _, ph := range phones {
			work <- ph
		}
		close(work)
		wg.Wait()
		if firstErr != nil {
			return nil, firstErr
		}
		df.Injected = injected
		s.rep.PerDay = append(s.rep.PerDay, df)
		if o.Progress != nil {
			o.Progress(day+1, total)
		}
	}
	for _, ph := range phones {
		ph.fig.Converged = ph.convergedAt
		if ph.convergedAt < 0 || ph.convergedAt > ConvergeBound {
			s.violate(ph, total-1, "convergence", fmt.Sprintf("not at the target %.12s… after %d fault-free refresh(es) (the bound is %d)", last.Target, ConvergeBound, ConvergeBound), true)
		} else {
			s.rep.Converged++
		}
		for name, from := range ph.wipeFrom { // a wipe still open at the end
			_ = name
			ph.fig.Wipes = append(ph.fig.Wipes, ph.requests-from)
		}
		s.rep.Phones = append(s.rep.Phones, ph.fig)
	}
	sort.Slice(s.rep.Violations, func(i, j int) bool {
		a, b := s.rep.Violations[i], s.rep.Violations[j]
		if a.Day != b.Day {
			return a.Day < b.Day
		}
		return a.Phone < b.Phone
	})
	s.rep.Millis = float64(time.Since(start).Microseconds()) / 1000
	return s.rep, nil
}

// staleBy is how many publishes older the pointer a CDN edge serves the
// phone today is (0: the current one).
func (s *sim) staleBy(phone, day int, faults bool) int {
	if !faults || !s.dice.hit(s.opts.Rates[FaultStale], "stale", phone, day) {
		return 0
	}
	return 1 + s.dice.rng("stale-by", phone, day).IntN(3)
}

// drawFaults are the phone faults of one phone and day.
func (s *sim) drawFaults(ph *phone, day int, faults bool) dayFaults {
	f := dayFaults{power: -1, diskFull: -1}
	if !faults {
		return f
	}
	r := s.opts.Rates
	if s.dice.hit(r[FaultPower], "power", ph.id, day) {
		est := ph.writes
		if est <= 0 {
			est = 64
		}
		f.power = s.dice.rng("power-at", ph.id, day).Int64N(est + est/4 + 1)
	}
	if s.dice.hit(r[FaultKill], "kill", ph.id, day) {
		f.kill = 2 + s.dice.rng("kill-at", ph.id, day).IntN(3)
	}
	if s.dice.hit(r[FaultDisable], "disable", ph.id, day) {
		f.disable = 1 + s.dice.rng("disable-for", ph.id, day).IntN(7)
	}
	if s.dice.hit(r[FaultDiskFull], "disk-full", ph.id, day) {
		f.diskFull = 1 + s.dice.rng("disk-full-pages", ph.id, day).IntN(2)
	}
	return f
}

// violate records a violation (and the phone's reproducer, for its
// first one while fewer than MaxRepros were written).
func (s *sim) violate(ph *phone, day int, inv, detail string, final bool) {
	v := Violation{Invariant: inv, Phone: ph.id, Day: day, Detail: detail}
	s.mu.Lock()
	write := s.opts.Repro != "" && ph.violations == 0 && s.repros < MaxRepros
	if write {
		s.repros++
	}
	s.mu.Unlock()
	ph.violations++
	if write {
		path, err := s.writeRepro(ph, day, inv)
		if err != nil {
			v.Detail += "; reproducer not written: " + err.Error()
		} else {
			v.Repro = path
		}
	}
	s.mu.Lock()
	s.rep.Violations = append(s.rep.Violations, v)
	s.mu.Unlock()
}

// sessionOut is what one phone's day adds to the day's figures.
type sessionOut struct {
	converged, wiped bool
	violations       int
	injected         map[Fault]int
	unapplied        map[Fault]int // drawn, but the refresh gave the fault no point to act at
}

// session is one phone's day: the daemon starts, the user may switch an
// extension off or on, the app refreshes, the power may fail; then the
// invariants are checked on the database as the reboot left it.
func (s *sim) session(ctx context.Context, ph *phone, day, pi int, faults, stale bool) (sessionOut, error) {
	out := sessionOut{injected: map[Fault]int{}, unapplied: map[Fault]int{}}
	f := s.drawFaults(ph, day, faults)
	if stale {
		f.stale = 1
		out.injected[FaultStale]++
	}
	set := s.opts.Settings
	var run *crashvfs.Run
	if f.power >= 0 {
		var err error
		if run, err = crashvfs.Start(ph.db, crashvfs.Config{PowerLossAt: f.power, DiskFullAt: -1, Tear: true, Seed: s.opts.Seed ^ uint64(ph.id)<<20 ^ uint64(day)}); err != nil {
			return out, err
		}
		set.VFS = crashvfs.Name
		out.injected[FaultPower]++
	}
	d, err := verifier.OpenDevice(ctx, ph.db, set, s.extDefs)
	if err != nil {
		if run != nil {
			run.Finish()
		}
		return out, err
	}
	target := s.hist.Pointers[pi].Pointer.Target
	dv := &device{s: s, ph: ph, d: d, run: run, target: s.hist.Builds[target], kill: f.kill}
	res, err := s.phoneDay(ctx, ph, dv, day, pi, faults, f, &out)
	d.Close()
	if run != nil {
		if !run.PoweredOff() { // the point was past the day's writes: the power fails after the refresh
			run.PowerOff()
		}
		ph.steps = append(ph.steps, plan.Step{Kind: plan.StepCheck, Tag: "power loss (not replayed)"})
		cr, ferr := run.Finish()
		if ferr != nil && err == nil {
			err = fmt.Errorf("power loss: %w", ferr)
		}
		ph.writes = cr.Writes
		ph.boot++
		ph.rebooted = true
		ph.fig.PowerLosses++
	}
	if f.diskFull >= 0 {
		ph.steps = append(ph.steps, plan.Step{Kind: plan.StepDiskFull}) // the limit lasts one session
	}
	if err != nil {
		return out, err
	}
	if dv.killed {
		out.injected[FaultKill]++
	} else if f.kill > 0 {
		out.unapplied[FaultKill]++ // the refresh made fewer requests than the kill point
	}
	log := s.srv.takeLog(ph.id)
	for k, n := range log.Faults {
		out.injected[k] += n
	}
	ph.fig.HTTPRequests += log.Requests
	ph.fig.Bytes += log.Bytes
	ph.fig.CompleteBytes += int64(len(s.hist.Pointers[pi].Envelope)) + s.hist.Full[target]
	ph.fig.Refreshes++
	if res.Done() {
		ph.fig.Done++
	}
	clean := !f.any() && len(log.Faults) == 0 && ph.disabled == ""
	return out, s.check(ctx, ph, dv, day, pi, clean, run != nil, log, res, &out)
}

// phoneDay runs the day's events on the open database and the refresh.
func (s *sim) phoneDay(ctx context.Context, ph *phone, dv *device, day, pi int, faults bool, f dayFaults, out *sessionOut) (refresh.Result, error) {
	d := dv.d
	// The daemon's prepare step at launch: an extension stuck loading
	// (a power loss in a reload) goes back to 4.
	if err := d.Prepare(); err != nil && dv.run == nil {
		return refresh.Result{}, fmt.Errorf("prepare: %w", err)
	}
	ph.steps = append(ph.steps, plan.Step{Kind: plan.StepPrepare})
	if ph.disabled != "" {
		// Maintenance empties a switched-off extension.
		if err := d.Maintenance(); err != nil && dv.run == nil {
			return refresh.Result{}, fmt.Errorf("maintenance: %w", err)
		}
		ph.steps = append(ph.steps, plan.Step{Kind: plan.StepMaintenance})
		if day >= ph.disabledUntil || !faults {
			// The user switches it on: the system loads the last job.
			name := ph.disabled
			ph.disabled = ""
			ext := extNumber(name)
			job := ph.app.Jobs[ext]
			kill := dv.kill
			dv.kill = 0
			_, err := dv.Reload(ctx, refresh.Request{Ext: ext, Files: job.Files})
			dv.kill = kill
			dv.n = 0
			var ab *refresh.AbortError
			if errors.As(err, &ab) {
				return refresh.Result{Aborted: true, Err: err}, nil
			}
		}
	}
	if f.disable > 0 && ph.disabled == "" {
		name := s.extDefs[s.dice.rng("disable-which", ph.id, day).IntN(len(s.extDefs))].Name
		if err := d.Disable(name); err != nil && dv.run == nil {
			return refresh.Result{}, fmt.Errorf("disable: %w", err)
		}
		ph.steps = append(ph.steps, plan.Step{Kind: plan.StepDisable, Ext: name})
		ph.disabled, ph.disabledUntil = name, day+f.disable
		out.injected[FaultDisable]++
	}
	if f.diskFull >= 0 {
		if err := d.SetMaxPageCount(0, f.diskFull); err != nil && dv.run == nil {
			return refresh.Result{}, fmt.Errorf("disk full: %w", err)
		}
		ph.steps = append(ph.steps, plan.Step{Kind: plan.StepDiskFull, Extra: f.diskFull})
		out.injected[FaultDiskFull]++
	}
	c := refresh.Client{
		Base:       s.srv.url,
		HTTP:       &http.Client{Timeout: s.opts.Timeout, Transport: phoneTransport{ph.id, s.client}},
		Keys:       s.opts.Keys,
		Dir:        s.store,
		Extensions: s.hist.Exts,
		Mutation:   s.opts.Mutation,
	}
	res := c.Refresh(ctx, s.hist.Pointers[pi].Pointer.Published, ph.app, dv)
	if !refresh.InOrder(res.Trace) {
		return res, fmt.Errorf("the client ran its steps out of the documented order: %v", res.Trace)
	}
	return res, nil
}
