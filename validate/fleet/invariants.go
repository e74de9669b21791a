package fleet

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/calldir/calldir/validate/fleet/refresh"
	"github.com/calldir/calldir/validate/verifier"
	"github.com/calldir/calldir/validate/verifier/plan"
)

// The invariants, by the names violations carry (docs/FLEET.md).
const (
	// InvVerified: the phone loaded only published files and its app
	// trusted only published pointers.
	InvVerified = "verified-bytes"
	// InvHoldsStored: an extension with a stored build ID holds exactly
	// that published build's entries.
	InvHoldsStored = "holds-stored"
	// InvRepair: a refresh with no fault on the phone brings every
	// extension to the day's target (and stores it), whatever earlier
	// faults left.
	InvRepair = "repair"
	// InvDeltaOnly: a phone that holds a build the pointer offers a delta
	// from, after a fault-free day, downloads no build file.
	InvDeltaOnly = "delta-only"
	// InvConvergence: once the faults stop, every phone is at the target
	// within ConvergeBound refreshes.
	InvConvergence = "convergence"
)

// newPhone makes phone i's database in dir and loads the build of a
// pointer drawn from the history up to day 0's, as the app's setup.
func (s *sim) newPhone(ctx context.Context, i int, dir string) (*phone, error) {
	ph := &phone{id: i, db: filepath.Join(dir, fmt.Sprintf("phone-%05d.db", i)), app: refresh.NewState(),
		wipeFrom: map[string]int{}, served: map[int]uint64{}, convergedAt: -1}
	j := s.dice.rng("start", i).IntN(s.first + 1)
	p := s.hist.Pointers[j].Pointer
	ph.fig = PhoneFigures{Phone: i, Start: p.Target, Wipes: []int{}, Converged: -1}
	if err := verifier.CreateDevice(ctx, ph.db, s.opts.Settings, s.extDefs); err != nil {
		return nil, fmt.Errorf("phone %d: %w", i, err)
	}
	d, err := verifier.OpenDevice(ctx, ph.db, s.opts.Settings, s.extDefs)
	if err != nil {
		return nil, fmt.Errorf("phone %d: %w", i, err)
	}
	defer d.Close()
	files, err := s.buildFiles(p.Target)
	if err != nil {
		return nil, err
	}
	for _, ext := range s.hist.Exts {
		rq := refresh.Request{Ext: ext, Files: files[ext]}
		st := plan.Step{Kind: plan.StepLoad, Ext: verifier.ExtName(ext), FailAfter: -1, Tag: "setup"}
		for _, f := range rq.Files {
			st.Ops = append(st.Ops, plan.Op{Kind: f.Kind, Source: plan.Source{Shard: f.Path, Root: filepath.Dir(f.Path)}})
		}
		if res := d.Load(st); res.Err != nil {
			return nil, fmt.Errorf("phone %d: setup load of build %.12s…: %w", i, p.Target, res.Err)
		}
		ph.steps = append(ph.steps, st)
		ph.served[ext]++
		ph.app.Stored[ext] = p.Target
		ph.app.Served[ext] = ph.served[ext]
		ph.app.Jobs[ext] = rq
	}
	ph.app.Highest = p.Sequence
	ph.held = p.Target
	ph.cleanDays = 1
	return ph, nil
}

// buildFiles are a published build's shards in the channel, per
// extension, in manifest order.
func (s *sim) buildFiles(id string) (map[int][]refresh.File, error) {
	dir := filepath.Join(s.hist.Dir, "builds", id)
	m, err := readManifest(dir)
	if err != nil {
		return nil, err
	}
	out := map[int][]refresh.File{}
	for _, sh := range m.Shards {
		kind := plan.OpBlock
		if sh.Kind == "identify" {
			kind = plan.OpIdentify
		}
		out[sh.Extension] = append(out[sh.Extension], refresh.File{Path: filepath.Join(dir, sh.File), Kind: kind, SHA256: sh.SHA256})
	}
	return out, nil
}

// check judges one phone after its refresh, on its database as the day
// left it (after the reboot, for a power loss). What it expects comes
// from the history alone: the published builds' entries, the day's
// target; the app's stored IDs are only the claims it checks.
func (s *sim) check(ctx context.Context, ph *phone, dv *device, day, pi int, clean, powerLoss bool, log *dayLog, res refresh.Result, out *sessionOut) error {
	d, err := verifier.OpenDevice(ctx, ph.db, s.opts.Settings, s.extDefs)
	if err != nil {
		return fmt.Errorf("reopen: %w", err)
	}
	held := map[string]verifier.Content{}
	for _, e := range s.extDefs {
		state, c, err := d.Content(e.Name)
		if err != nil {
			d.Close()
			return fmt.Errorf("read %s: %w", e.Name, err)
		}
		held[e.Name] = c
		if powerLoss {
			// The switch is the extension's state in the database: a power
			// loss may have taken back a switch-off or a switch-on. What the
			// user sees after the reboot is what the database says.
			switch {
			case state == verifier.StateSwitchedOff && ph.disabled == "":
				ph.disabled, ph.disabledUntil = e.Name, day+1
			case state != verifier.StateSwitchedOff && ph.disabled == e.Name:
				ph.disabled = ""
			}
		}
	}
	d.Close()
	p := s.hist.Pointers[pi].Pointer
	target := s.hist.Builds[p.Target]
	violate := func(inv, format string, a ...any) {
		out.violations++
		s.violate(ph, day, inv, fmt.Sprintf(format, a...), false)
	}

	for _, b := range dv.bad {
		violate(InvVerified, "loaded %s: not a file of any published build or delta", b)
	}
	if res.Payload != nil && !s.hist.Payloads[sum(res.Payload)] {
		violate(InvVerified, "the app trusted a pointer payload no published pointer has (sequence %d, target %.12s…): its signature was not checked", res.Sequence, res.Target)
	}

	for _, ext := range s.hist.Exts {
		name := verifier.ExtName(ext)
		id, ok := ph.app.Stored[ext]
		if !ok {
			continue
		}
		want, known := s.hist.Builds[id]
		switch {
		case !known:
			violate(InvHoldsStored, "%s stores build %.12s…, which no published pointer offers", name, id)
		case held[name] != want[name]:
			if powerLoss && s.rollback != 0 {
				ph.fig.RolledBack++ // allowed by the settings; the next refresh's reboot step forgets the ID
				continue
			}
			violate(InvHoldsStored, "%s stores build %.12s… but holds %s; the build has %s (%s)", name, id, describe(held[name]), describe(want[name]), res.Reached+outcome(res))
		}
	}

	atTarget := true
	var off []string
	for _, ext := range s.hist.Exts {
		name := verifier.ExtName(ext)
		if ph.app.Stored[ext] != p.Target || held[name] != target[name] {
			atTarget = false
			off = append(off, fmt.Sprintf("%s holds %s, stores %q", name, describe(held[name]), short(ph.app.Stored[ext])))
		}
		if held[name].Entries() == 0 && target[name].Entries() > 0 {
			out.wiped = true
		}
		ph.noteWipe(name, held[name], target[name]) // emptied outside a request too: maintenance
	}
	out.converged = atTarget
	if clean && !atTarget {
		violate(InvRepair, "a refresh without a fault did not bring the phone to the target %.12s… (sequence %d): %s; refresh: %s", p.Target, p.Sequence, strings.Join(off, "; "), res.Reached+outcome(res))
	}
	if clean && ph.cleanDays > 0 && !ph.rebooted && ph.held != "" && ph.held != p.Target && offersDelta(p.Deltas, ph.held) {
		s.mu.Lock()
		s.rep.DeltaOnlyChecked++
		s.mu.Unlock()
	}
	if clean && ph.cleanDays > 0 && !ph.rebooted && ph.held != "" && ph.held != p.Target && offersDelta(p.Deltas, ph.held) && log.BuildFiles > 0 {
		violate(InvDeltaOnly, "held build %.12s…, which the pointer offers a delta from, yet downloaded %d build file(s)", ph.held, log.BuildFiles)
	}

	// What the phone holds, for tomorrow's delta-only check.
	ph.held = ""
	for id, b := range s.hist.Builds {
		same := true
		for _, e := range s.extDefs {
			if held[e.Name] != b[e.Name] {
				same = false
			}
		}
		if same {
			ph.held = id
		}
	}
	if clean {
		ph.cleanDays++
		ph.rebooted = false
	} else {
		ph.cleanDays = 0
	}
	if day >= s.opts.Days && atTarget && ph.convergedAt < 0 {
		ph.convergedAt = day - s.opts.Days + 1
	}
	return nil
}

func offersDelta(ds []channelDelta, base string) bool {
	for _, d := range ds {
		if d.Base == base {
			return true
		}
	}
	return false
}

func describe(c verifier.Content) string {
	if c.Entries() == 0 {
		return "no entries"
	}
	return fmt.Sprintf("%d blocking + %d identification entries (digest %016x/%016x)", c.Block, c.Ident, c.BlockSum, c.IdentSum)
}

func outcome(r refresh.Result) string {
	if r.Err != nil {
		return ": " + r.Err.Error()
	}
	return ": done"
}

func short(id string) string {
	if len(id) > 12 {
		return id[:12] + "…"
	}
	return id
}

func extNumber(name string) int {
	n, _ := strconv.Atoi(strings.TrimPrefix(name, "ext"))
	return n
}
