package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"time"

	"github.com/calldir/calldir/shard/channel"
	"github.com/calldir/calldir/validate"
	"github.com/urfave/cli/v2"
)

type verifyChannelOpts struct {
	pubkeys     cli.StringSlice
	minSequence uint64
	now, name   string
	format      string
	timeout     time.Duration
}

func verifyChannelCommand(e *env) *cli.Command {
	var o verifyChannelOpts
	return &cli.Command{
		Name:      "verify-channel",
		Usage:     "check a release channel as an app would: signature, expiry, sequence, every hash, every delta",
		ArgsUsage: "DIR | URL",
		Description: withExamples(`
Checks, in an app's order: channel.json is a DSSE envelope signed by one of
the --pubkey keys (nothing of the payload is trusted before); the pointer's
format; that it has not expired at --now (a frozen channel); that its
sequence is not below --min-sequence (an old pointer served again: give the
highest sequence the fleet has seen); its name, with --name. Then every
build it offers (its manifest against the SHA-256 the pointer signed, then
every check of calldir validate) and every delta (the same, then that the
delta applied to its base is exactly the target).

A URL is fetched over HTTP(S): channel.json, then, only once its signature
verifies, the manifests, then, only once each matches its signed hash, the
files each names, each bounded by the size its manifest declares, within
--timeout.

FINDING KINDS (besides validate's, for builds and deltas):
` + channelKinds() + `
EXAMPLES:
   calldir verify-channel --pubkey keys/channel-key.pub.pem site/blocklist
   calldir verify-channel --pubkey keys/channel-key.pub.pem --min-sequence 41 https://cdn.example.com/blocklist
   calldir verify-channel --pubkey old.pub.pem --pubkey new.pub.pem --format github site/blocklist`),
		Flags: []cli.Flag{
			&cli.StringSliceFlag{Name: "pubkey", Usage: "trusted public key `FILE` (SPKI PEM); repeat for a key being rotated", Destination: &o.pubkeys, Required: true},
			&cli.Uint64Flag{Name: "min-sequence", Usage: "refuse a pointer whose sequence is below `N`", Destination: &o.minSequence},
			&cli.StringFlag{Name: "now", Usage: "judge expiry as of `TIME` (RFC 3339; default: the clock)", Destination: &o.now},
			&cli.StringFlag{Name: "name", Usage: "the channel `NAME` expected", Destination: &o.name},
			&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Value: "text", Usage: "output `FORMAT`: text, json or github", Destination: &o.format},
			&cli.DurationFlag{Name: "timeout", Value: 2 * time.Minute, Usage: "URL: give up after `D`", Destination: &o.timeout},
		},
		Action: func(c *cli.Context) error {
			switch o.format {
			case "text", "json", "github":
			default:
				return usagef("--format %q: want text, json or github", o.format)
			}
			if c.Args().Len() != 1 {
				return usagef("verify-channel: want one channel DIR or URL")
			}
			return runVerifyChannel(c.Context, o, c.Args().First(), e)
		},
	}
}

func channelKinds() string {
	kinds := []struct {
		k    validate.Kind
		help string
	}{
		{channel.KindMissing, "a file the pointer offers is absent (or no channel.json)"},
		{channel.KindEnvelope, "channel.json is not a DSSE envelope of a pointer"},
		{channel.KindSignature, "no pinned key signed it: payload or signature changed"},
		{channel.KindPointer, "the signed payload is not a valid pointer"},
		{channel.KindExpired, "the pointer expired (a frozen channel)"},
		{channel.KindRollback, "sequence below --min-sequence (an old pointer replayed)"},
		{channel.KindChannelName, "another channel's pointer (--name)"},
		{channel.KindManifestHash, "a manifest differs from the SHA-256 the pointer signed"},
		{channel.KindBuildID, "a manifest of another build than the pointer offers"},
		{channel.KindFetch, "URL: a file that could not be downloaded"},
		{channel.KindBuildKind, "the builds a pointer offers are not all of one kind (block, identify)"},
		{channel.KindNotRegular, "a file the channel offers is a FIFO, device or directory"},
	}
	var b strings.Builder
	for _, k := range kinds {
		fmt.Fprintf(&b, "   %-18s %s\n", k.k, k.help)
	}
	return b.String()
}

func runVerifyChannel(ctx context.Context, o verifyChannelOpts, src string, e *env) error {
	vo := channel.VerifyOptions{MinSequence: o.minSequence, Channel: o.name}
	for _, p := range o.pubkeys.Value() {
		k, err := channel.ReadPublicKey(p)
		if err != nil {
			return err
		}
		vo.Keys = append(vo.Keys, k)
	}
	var err error
	if vo.Now, err = parseNow(o.now); err != nil {
		return err
	}
	var r *channel.Report
	if channel.IsURL(src) {
		ctx, cancel := context.WithTimeout(ctx, o.timeout)
		defer cancel()
		r, err = channel.VerifyURL(ctx, src, vo, channel.FetchOptions{})
	} else {
		if scheme, _, ok := strings.Cut(src, "://"); ok && !strings.ContainsAny(scheme, `/\`) {
			return usagef("verify-channel: %s: scheme %s: want an http(s) URL or a channel directory", src, scheme)
		}
		if fi, serr := os.Stat(src); serr != nil {
			var pe *fs.PathError
			if errors.As(serr, &pe) {
				serr = pe.Err
			}
			return fmt.Errorf("verify-channel: %s: %w", src, serr)
		} else if !fi.IsDir() {
			return usagef("verify-channel: %s is not a directory (a channel directory or an http(s) URL)", src)
		}
		r, err = channel.Verify(ctx, src, vo)
	}
	if err != nil {
		return err
	}
	summary := fmt.Sprintf("%s: checked the signature against %d key(s)", src, len(vo.Keys))
	if r.Expires != nil {
		summary = fmt.Sprintf("%s: channel %q sequence %d, target %.12s…, expires %s; checked signature (%d key(s)), expiry, sequence >= %d, %d build(s), %d delta(s), %d shard(s), %s entries",
			src, r.Channel, r.Sequence, r.Target, r.Expires.UTC().Format(time.RFC3339), len(vo.Keys), o.minSequence, r.Builds, r.Deltas, r.Shards, group(r.Entries))
	}
	if err := printFindings(e.stdout, "verify-channel", o.format, r, r.Findings, summary, "error"); err != nil {
		return err
	}
	if len(r.Findings) > 0 {
		return findingsError{fmt.Sprintf("%d finding(s)", len(r.Findings))}
	}
	return nil
}
