package main

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/calldir/calldir/shard/channel"
	"github.com/calldir/calldir/shard/outfs"
	"github.com/calldir/calldir/validate/fleet"
	"github.com/calldir/calldir/validate/fleet/refresh"
	"github.com/calldir/calldir/validate/verifier"
	"github.com/calldir/calldir/validate/verifier/htmlreport"
	"github.com/urfave/cli/v2"
)

type fleetOpts struct {
	channel string
	pubkeys []string
	devices int
	days    int
	seed    uint64
	faults  []string
	set     []string
	timeout time.Duration
	workers int
	mutate  string
	repro   string
	report  string
	format  string
}

func fleetCommand(e *env) *cli.Command {
	var o fleetOpts
	return &cli.Command{
		Name:      "fleet",
		Usage:     "simulate a fleet of phones refreshing from a channel's history under faults, and check every phone after every refresh",
		ArgsUsage: " ",
		Description: withExamples(`
Serves the history of a release channel (every pointer in pointers/, one per
simulated day, with the files it offers) from a server on the loopback
interface, starts each of --devices phones at a build drawn from it, and runs
the reference app refresh (docs/EXTENSION.md §3, package
validate/fleet/refresh) on each phone every day, against the verifier's
model of CallDirectory.db: one database per phone, the crash VFS for power
loss. Faults, each with a rate (--fault CLASS=RATE, repeatable; all=RATE sets
every class): reset, 5xx, slow, flip (per download); stale (an older signed
pointer for a day), power, kill, disable, disk-full (per phone and day).
After the --days with faults, one fault-free refresh more.

After every refresh: only published bytes were loaded (verified-bytes); an
extension whose build ID the app stores holds exactly that build
(holds-stored); a refresh without a fault reaches the day's target (repair)
and downloads a delta only when the phone's build is offered as its base
(delta-only); once the faults stop every phone is at the target within one
refresh (convergence). A violation names the phone, the day and, with
--repro DIR, a plan that calldir replay runs on one device. Day d's clock is
pointer d's publish time. docs/FLEET.md describes all of it.

--channel must hold every file of the pointers it serves: publish removes
what no live pointer offers, so simulate a staging channel published with
publish --keep-history (or a mirror that keeps every publish, as a CDN's
immutable cache does); older pointers whose files are gone are skipped and
counted.

Exit status 1 on any violation or a phone that does not converge.

SETTINGS (--set KEY=VALUE, the plan settings; default: the daemon's, journal_mode=delete synchronous=full):
` + replaySettings() + `
EXAMPLES:
   calldir fleet --channel staging --pubkey keys/channel-key.pub.pem --devices 20 --days 10 --seed 1
   calldir fleet --channel staging --pubkey keys/channel-key.pub.pem --devices 200 --days 10 --fault all=0.05 --report fleet.html --repro repro
   calldir fleet --channel staging --pubkey keys/channel-key.pub.pem --devices 50 --days 9 --fault power=0.2 --set journal_mode=wal --format json`),
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "channel", Usage: "the channel `DIR` whose history is served (published with --keep-history, or a mirror)", Destination: &o.channel, Required: true},
			&cli.StringSliceFlag{Name: "pubkey", Usage: "the key `FILE` the app pins (SPKI PEM); repeatable", Required: true},
			&cli.IntFlag{Name: "devices", Value: 20, Usage: "phones simulated", Destination: &o.devices},
			&cli.IntFlag{Name: "days", Value: 0, Usage: "days with faults, one pointer each: the last `N` pointers (default: all but the first)", Destination: &o.days},
			&cli.Uint64Flag{Name: "seed", Value: 1, Usage: "seed of every random decision", Destination: &o.seed},
			&cli.StringSliceFlag{Name: "fault", Usage: "a fault class and its rate, `CLASS=RATE` (repeatable; all=RATE)"},
			&cli.StringSliceFlag{Name: "set", Usage: "a model setting, `KEY=VALUE` (repeatable)"},
			&cli.DurationFlag{Name: "timeout", Value: 2 * time.Second, Usage: "the app's timeout per download", Destination: &o.timeout},
			&cli.IntFlag{Name: "workers", Usage: "phones simulated at once (default: GOMAXPROCS)", Destination: &o.workers},
			&cli.StringFlag{Name: "mutate", Usage: "run a deliberately broken client (" + mutationNames() + ") to see the invariants catch it", Destination: &o.mutate},
			&cli.StringFlag{Name: "repro", Usage: "write a replay plan per violating phone (at most 5) into `DIR`", Destination: &o.repro},
			&cli.StringFlag{Name: "report", Usage: "also write the figures as a self-contained HTML page to `FILE`", Destination: &o.report},
			&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Value: "text", Usage: "output `FORMAT`: text or json", Destination: &o.format},
		},
		Action: func(c *cli.Context) error {
			if c.Args().Len() > 0 {
				return usagef("fleet: takes no arguments (give --channel)")
			}
			if o.format != "text" && o.format != "json" {
				return usagef("--format %q: want text or json", o.format)
			}
			o.pubkeys, o.faults, o.set = c.StringSlice("pubkey"), c.StringSlice("fault"), c.StringSlice("set")
			return runFleet(c.Context, o, e)
		},
	}
}

func mutationNames() string {
	s := make([]string, len(refresh.Mutations))
	for i, m := range refresh.Mutations {
		s[i] = string(m)
	}
	return strings.Join(s, ", ")
}

func runFleet(ctx context.Context, o fleetOpts, e *env) error {
	if o.devices < 1 {
		return usagef("--devices %d: want at least 1", o.devices)
	}
	if o.days < 0 {
		return usagef("--days %d: want a number of days", o.days)
	}
	var p outfs.Plan
	p.ReadDir("channel", o.channel)
	for _, k := range o.pubkeys {
		p.Read("pubkey", k)
	}
	if o.repro != "" {
		p.WriteInto("repro", o.repro)
	}
	p.WriteFile("report", o.report)
	if err := p.Check(); err != nil {
		return err
	}
	opts := fleet.Options{Channel: o.channel, Devices: o.devices, Days: o.days, Seed: o.seed, Rates: fleet.Rates{},
		Settings: verifier.DefaultSettings(), Timeout: o.timeout, Workers: o.workers, Repro: o.repro}
	for _, f := range o.faults {
		if err := opts.Rates.Parse(f); err != nil {
			return usageError{err}
		}
	}
	for _, kv := range o.set {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return usagef("--set %q: want KEY=VALUE", kv)
		}
		if err := opts.Settings.Set(k, v); err != nil {
			return usageError{err}
		}
	}
	if o.mutate != "" {
		ok := false
		for _, m := range refresh.Mutations {
			ok = ok || string(m) == o.mutate
		}
		if !ok {
			return usagef("--mutate %q: want one of %s", o.mutate, mutationNames())
		}
		opts.Mutation = refresh.Mutation(o.mutate)
	}
	for _, k := range o.pubkeys {
		pub, err := channel.ReadPublicKey(k)
		if err != nil {
			return usagef("--pubkey %s: %v", k, err)
		}
		opts.Keys = append(opts.Keys, pub)
	}
	if opts.Days == 0 {
		h, err := fleet.ReadHistory(o.channel, opts.Keys)
		if err != nil {
			return err
		}
		opts.Days = max(len(h.Pointers)-1, 1)
	}
	var html *outfs.File
	if o.report != "" {
		if err := checkOwnReport(o.report); err != nil {
			return err
		}
		var err error
		if html, err = createOut(o.report, false); err != nil {
			return err
		}
		defer html.Discard()
	}
	if isTerminal(e.stderr) {
		opts.Progress = func(day, days int) { fmt.Fprintf(e.stderr, "\r\033[Kday %d/%d", day, days) }
	}
	rep, err := fleet.Run(ctx, opts)
	if opts.Progress != nil {
		fmt.Fprint(e.stderr, "\r\033[K")
	}
	if err != nil {
		return err
	}
	if o.format == "json" {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else {
		printFleet(e.stdout, rep, opts.Keys)
	}
	if html != nil {
		if err := html.Commit(htmlreport.WriteSeries(html, fleetPage(rep))); err != nil {
			return err
		}
	}
	if !rep.OK() {
		return findingsError{fmt.Sprintf("%d violation(s)", len(rep.Violations))}
	}
	return nil
}

// fleetFigures are the per-phone figures summed up.
type fleetFigures struct {
	requests, wipes, wipeMax, wipeSum int
	bytes, complete                   int64
	reloadMs, reloadMax               float64
}

func sumFleet(rep *fleet.Report) fleetFigures {
	var f fleetFigures
	for _, p := range rep.Phones {
		f.requests += p.Requests
		f.bytes += p.Bytes
		f.complete += p.CompleteBytes
		f.reloadMs += p.ReloadMillis
		f.reloadMax = max(f.reloadMax, p.ReloadMillis)
		for _, w := range p.Wipes {
			f.wipes++
			f.wipeSum += w
			f.wipeMax = max(f.wipeMax, w)
		}
	}
	return f
}

func printFleet(w io.Writer, rep *fleet.Report, _ []ed25519.PublicKey) {
	fmt.Fprintf(w, "fleet: %d phones × %d days (+%d fault-free) of %s (%d pointers served, %d skipped), %s entries in the target\n",
		rep.Devices, rep.Days, rep.Settle, rep.Channel, rep.Pointers, rep.Skipped, group(rep.Entries))
	fmt.Fprintf(w, "settings: %s; faults: %s; seed %d", orDefault(rep.Settings), rep.Faults, rep.Seed)
	if rep.Mutation != "" {
		fmt.Fprintf(w, "; client mutation: %s", rep.Mutation)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "day  sequence  converged  wiped  violations  faults injected")
	for _, d := range rep.PerDay {
		var inj []string
		for k, n := range d.Injected {
			inj = append(inj, fmt.Sprintf("%s %d", k, n))
		}
		sort.Strings(inj)
		tag := ""
		if !d.Faults {
			tag = " (fault-free)"
		}
		fmt.Fprintf(w, "%3d  %8d  %9d  %5d  %10d  %s%s\n", d.Day, d.Sequence, d.Converged, d.Wiped, d.Violations, strings.Join(inj, ", "), tag)
	}
	f := sumFleet(rep)
	n := float64(max(len(rep.Phones), 1))
	fmt.Fprintf(w, "per phone: %.1f reload requests, %s downloaded (a complete download every day: %s, %.1f%%), %.1f ms in reloads (max %.1f)\n",
		float64(f.requests)/n, bytesText(int64(float64(f.bytes)/n)), bytesText(int64(float64(f.complete)/n)), 100*float64(f.bytes)/float64(max(f.complete, 1)), f.reloadMs/n, f.reloadMax)
	if f.wipes > 0 {
		fmt.Fprintf(w, "transient wipes: %d, %.1f requests long on average (longest %d)\n", f.wipes, float64(f.wipeSum)/float64(f.wipes), f.wipeMax)
	} else {
		fmt.Fprintln(w, "transient wipes: none")
	}
	if n := rep.Unapplied[fleet.FaultKill]; n > 0 {
		fmt.Fprintf(w, "kill drawn %d time(s) where the refresh made fewer requests than the kill point (2-4): publish with a smaller --chunk to exercise it\n", n)
	}
	fmt.Fprintf(w, "delta-only checked on %d refreshes; converged: %d of %d phones within %d refresh after the faults stopped\n", rep.DeltaOnlyChecked, rep.Converged, rep.Devices, rep.Bound)
	fmt.Fprintf(w, "violations: %d\n", len(rep.Violations))
	for _, v := range rep.Violations {
		fmt.Fprintf(w, "  day %d, phone %d: %s: %s\n", v.Day, v.Phone, v.Invariant, v.Detail)
		if v.Repro != "" {
			fmt.Fprintf(w, "    reproduce on one device: calldir replay %s\n", v.Repro)
		}
	}
}

func orDefault(s string) string {
	if s == "" || s == "default" {
		return "the daemon's defaults (journal_mode=delete synchronous=full)"
	}
	return s
}

// fleetPage is the HTML report: the summary, the violations, and plots
// per day and per phone.
func fleetPage(rep *fleet.Report) htmlreport.SeriesPage {
	f := sumFleet(rep)
	pg := htmlreport.SeriesPage{
		Title: fmt.Sprintf("calldir fleet: %d phones × %d days of %s", rep.Devices, rep.Days, rep.Channel),
		Tool:  "calldir " + Version,
		Summary: [][2]string{
			{"faults", rep.Faults}, {"settings", orDefault(rep.Settings)}, {"seed", fmt.Sprint(rep.Seed)},
			{"converged", fmt.Sprintf("%d of %d within %d refresh after the faults", rep.Converged, rep.Devices, rep.Bound)},
			{"transient wipes", fmt.Sprint(f.wipes)},
			{"downloaded", fmt.Sprintf("%s of %s for complete downloads", bytesText(f.bytes), bytesText(f.complete))},
			{"violations", fmt.Sprint(len(rep.Violations))},
		},
	}
	if rep.Mutation != "" {
		pg.Summary = append(pg.Summary, [2]string{"client mutation", rep.Mutation})
	}
	for _, v := range rep.Violations {
		s := fmt.Sprintf("day %d, phone %d: %s: %s", v.Day, v.Phone, v.Invariant, v.Detail)
		if v.Repro != "" {
			s += " (calldir replay " + v.Repro + ")"
		}
		pg.Findings = append(pg.Findings, s)
	}
	var conv, wiped, viol []float64
	for _, d := range rep.PerDay {
		conv = append(conv, float64(d.Converged))
		wiped = append(wiped, float64(d.Wiped))
		viol = append(viol, float64(d.Violations))
	}
	var req, bytes, complete, ms []float64
	for _, p := range rep.Phones {
		req = append(req, float64(p.Requests))
		bytes = append(bytes, float64(p.Bytes))
		complete = append(complete, float64(p.CompleteBytes))
		ms = append(ms, p.ReloadMillis)
	}
	pg.Charts = []htmlreport.Chart{
		{Title: "Phones per day", XLabel: "day", Lines: []htmlreport.Line{{Label: "at the target", Values: conv}, {Label: "an extension wiped", Values: wiped}, {Label: "violations", Values: viol}}},
		{Title: "Downloaded per phone", XLabel: "phone", Bytes: true, Lines: []htmlreport.Line{{Label: "bytes", Values: bytes}, {Label: "complete downloads", Values: complete}}},
		{Title: "Reload requests per phone", XLabel: "phone", Lines: []htmlreport.Line{{Label: "requests", Values: req}}},
		{Title: "Reload time per phone (ms, model)", XLabel: "phone", Lines: []htmlreport.Line{{Label: "ms", Values: ms}}},
	}
	return pg
}
