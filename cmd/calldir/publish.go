package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/calldir/calldir/compiler"
	"github.com/calldir/calldir/shard/channel"
	"github.com/urfave/cli/v2"
)

// keyEnv names the environment variable that holds the path of the
// signing key when --key is not given (a CI secret mounted as a file).
const keyEnv = "CALLDIR_CHANNEL_KEY"

// pauseEnv, when set to a duration, makes publish sleep after each of its
// steps: the kill tests stretch a publish with it so that a SIGKILL at a
// random time lands on every step. Not for users.
const pauseEnv = "CALLDIR_PUBLISH_STEP_PAUSE"

type publishOpts struct {
	channel, key, name     string
	expires, now, maxShrnk string
	retain, chunk          int
	protect                cli.StringSlice
	keepHistory            bool
	sequence               uint64
	quiet                  bool
}

func publishCommand(e *env) *cli.Command {
	var o publishOpts
	return &cli.Command{
		Name:      "publish",
		Usage:     "publish builds to a signed release channel (a directory any static host serves)",
		ArgsUsage: "BUILD...",
		Description: withExamples(`
Makes each BUILD, in order, the channel's target: copies it to
builds/<build_id>/ (content-addressed, never rewritten), writes a delta to it
from each of the last --retain targets under deltas/<base>-<target>/, and
replaces channel.json with a new pointer signed with --key: the channel's
name, a sequence one above the highest published (or --sequence), the
publish and expiry times, the target, and the SHA-256 of every build and
delta manifest it offers. Every pointer is also kept as
pointers/<sequence>.json. Publishing the current target again only re-signs
it with a new sequence and expiry (do it before the pointer expires).

The channel is locked while a publish runs; every file is written and synced
before channel.json is replaced atomically, and builds and deltas neither the
new nor the previous pointer offers are removed only after that. Refused: a
BUILD that fails validate, a --sequence not above the highest published or
more than 1,000 above it (a typo would leave no sequence to publish with), a
--now (or clock) before the current pointer's publish time, a target of
another kind (block, identify) than the current one, a target holding more
than --max-shrink fewer entries than the current one, a BUILD that blocks a
number of a --protect list, a channel signed by another key, and a directory
calldir did not make. A pointer that has already expired by this machine's
clock (a past --now) is published with a warning: devices refuse it.

The key is a PKCS#8 PEM Ed25519 private key (calldir keygen); without --key,
the file named in ` + keyEnv + `.

EXAMPLES:
   calldir keygen --out keys
   calldir publish --channel site/blocklist --key keys/channel-key.pem build-2026-11-25
   ` + keyEnv + `=/run/secrets/channel-key.pem calldir publish --channel site/blocklist build
   calldir publish --channel site/blocklist build   # the current target again: a fresh expiry
   calldir verify-channel --pubkey keys/channel-key.pub.pem site/blocklist`),
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "channel", Usage: "the channel `DIR` (made if missing)", Destination: &o.channel, Required: true},
			&cli.StringFlag{Name: "key", Usage: "signing key `FILE` (default: the file named in " + keyEnv + ")", Destination: &o.key},
			&cli.StringFlag{Name: "name", Usage: "the channel's `NAME` (default: the current one, or the directory's name)", Destination: &o.name},
			&cli.IntFlag{Name: "retain", Value: channel.DefaultRetain, Usage: "deltas to the new target from the last `N` targets", Destination: &o.retain},
			&cli.StringFlag{Name: "expires", Value: "7d", Usage: "the pointer expires `D` after publishing (7d, 36h, 90m; at most 366d)", Destination: &o.expires},
			&cli.StringFlag{Name: "now", Usage: "publish as of `TIME` (RFC 3339), for tests and simulations", Destination: &o.now},
			&cli.Uint64Flag{Name: "sequence", Usage: "the new pointer's sequence `N` (default: one above the highest published)", Destination: &o.sequence},
			&cli.StringFlag{Name: "max-shrink", Value: defaultMaxShrink, Usage: "refuse a target holding more than `P%` fewer entries than the current one", Destination: &o.maxShrnk},
			&cli.IntFlag{Name: "chunk", Value: compiler.DefaultChunk, Usage: "at most `N` entries per delta request", Destination: &o.chunk},
			&cli.StringSliceFlag{Name: "protect", Usage: "protect list `FILE` (as compile's): a BUILD that blocks one of its numbers is refused before anything is published (repeatable)", Destination: &o.protect},
			&cli.BoolFlag{Name: "keep-history", Usage: "keep every build and delta ever published (a staging channel calldir fleet can replay day by day); by default those no live pointer offers are removed", Destination: &o.keepHistory},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "no summary", Destination: &o.quiet},
		},
		Action: func(c *cli.Context) error {
			if c.Args().Len() == 0 {
				return usagef("publish: want at least one BUILD")
			}
			po, err := o.options(e)
			if err != nil {
				return err
			}
			// Every BUILD is held to the protect lists before the first
			// is published: a refusal publishes none of them.
			var protect []compiler.Source
			for _, p := range o.protect.Value() {
				protect = append(protect, compiler.Source{Path: p})
			}
			for _, b := range c.Args().Slice() {
				if len(protect) > 0 {
					if err := compiler.CheckProtected(c.Context, b, protect, nil); err != nil {
						return err
					}
				}
			}
			for i, b := range c.Args().Slice() {
				if i > 0 {
					po.Sequence = 0 // an explicit --sequence is the first build's
				}
				r, err := channel.Publish(c.Context, b, po)
				if err != nil {
					return err
				}
				if !o.quiet {
					printPublished(e, po.Dir, r)
				}
				// Allowed (tests and simulations publish as of a past
				// --now), but channel.json now holds what devices refuse.
				if now := time.Now(); !r.Pointer.Expires.After(now) {
					fmt.Fprintf(e.stderr, "calldir: warning: sequence %d expires %s, not after this machine's clock (%s): devices will refuse it as a frozen channel\n",
						r.Pointer.Sequence, r.Pointer.Expires.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
				}
			}
			return nil
		},
	}
}

func (o publishOpts) options(e *env) (channel.PublishOptions, error) {
	po := channel.PublishOptions{Dir: o.channel, Name: o.name, Retain: o.retain, Sequence: o.sequence, Chunk: o.chunk, ToolVersion: Version, KeepHistory: o.keepHistory}
	if o.retain < 0 {
		return po, usagef("--retain %d: want 0 or more", o.retain)
	}
	if err := checkChunk(o.chunk); err != nil {
		return po, err
	}
	var err error
	if po.MaxShrink, err = parseShrink(o.maxShrnk); err != nil {
		return po, err
	}
	if po.Expires, err = parseDays("--expires", o.expires); err != nil {
		return po, err
	}
	if po.Now, err = parseNow(o.now); err != nil {
		return po, err
	}
	key := o.key
	if key == "" {
		key = e.getenv(keyEnv)
	}
	if key == "" {
		return po, usagef("publish: no signing key: give --key FILE or set %s to its path", keyEnv)
	}
	if po.Key, err = channel.ReadPrivateKey(key); err != nil {
		if o.key == "" {
			return po, fmt.Errorf("%w (the path is from %s)", err, keyEnv)
		}
		return po, err
	}
	if s := e.getenv(pauseEnv); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil {
			return po, usagef("%s %q: %v", pauseEnv, s, err)
		}
		po.Step = func(string) { time.Sleep(d) }
	}
	return po, nil
}

// parseDays reads a positive duration of at most 366 days: Go's syntax
// (36h, 90m) or whole days (7d).
func parseDays(flag, s string) (time.Duration, error) {
	var d time.Duration
	if n, ok := strings.CutSuffix(s, "d"); ok {
		days, err := strconv.Atoi(n)
		if err != nil {
			return 0, usagef("%s %q: want a duration such as 7d, 36h or 90m", flag, s)
		}
		d = time.Duration(days) * 24 * time.Hour
	} else {
		var err error
		if d, err = time.ParseDuration(s); err != nil {
			return 0, usagef("%s %q: want a duration such as 7d, 36h or 90m", flag, s)
		}
	}
	if d <= 0 || d > 366*24*time.Hour {
		return 0, usagef("%s %q: want more than 0 and at most 366d", flag, s)
	}
	return d, nil
}

// parseNow reads --now: RFC 3339; "" is the clock.
func parseNow(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, usagef("--now %q: want an RFC 3339 time such as 2026-11-25T08:00:00Z", s)
	}
	return t, nil
}

func printPublished(e *env, dir string, r *channel.Result) {
	p := r.Pointer
	what := "build added"
	switch {
	case r.Resigned:
		what = "same target, re-signed"
	case !r.BuildAdded:
		what = "build already in the channel"
	}
	fmt.Fprintf(e.stderr, "calldir: channel %s (%q) sequence %d: target %.12s… (%s), %d delta(s) offered (%d new), expires %s",
		dir, p.Channel, p.Sequence, p.Target, what, len(p.Deltas), r.DeltasAdded, p.Expires.UTC().Format(time.RFC3339))
	if len(r.Removed) > 0 {
		fmt.Fprintf(e.stderr, "; removed %s", strings.Join(r.Removed, ", "))
	}
	fmt.Fprintln(e.stderr)
	for _, k := range r.Kept {
		fmt.Fprintf(e.stderr, "calldir: warning: not offered any more, left in place: %s\n", k)
	}
}
