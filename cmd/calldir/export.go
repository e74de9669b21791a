package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/calldir/calldir/compiler"
	"github.com/calldir/calldir/shard/livelookup"
	"github.com/urfave/cli/v2"
)

// liveOpts are the options of a Live Caller ID Lookup export, shared by
// `export live-lookup` and `compile --live-lookup`.
type liveOpts struct {
	out      string
	keyForms string
	category string
	expiry   int
	icons    string
}

// flags are the export's options; outFlag names the output directory's
// flag (--out for export, --live-lookup for compile).
func (o *liveOpts) flags(outFlag string, aliases ...string) []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: outFlag, Aliases: aliases, Usage: "Live Caller ID Lookup export `DIR` (block.binpb, identity.binpb, their PIRProcessDatabase configurations, live-lookup.json; replaced atomically, and only if calldir made it)", Destination: &o.out},
		&cli.StringFlag{Name: "key-forms", Value: string(livelookup.FormE164), Usage: "`FORMS` of each number's key: e164 (+14155550123), national (07700900123), or e164,national", Destination: &o.keyForms},
		&cli.StringFlag{Name: "category", Value: "business", Usage: "identity: `CATEGORY` of every caller, person or business", Destination: &o.category},
		&cli.IntFlag{Name: "cache-expiry-minutes", Value: livelookup.DefaultCacheExpiryMinutes, Usage: "identity: `MINUTES` a phone reuses an answer", Destination: &o.expiry},
		&cli.StringFlag{Name: "icons", Usage: fmt.Sprintf("identity: `DIR` of +E164.heic icons, at most %d bytes each", livelookup.MaxIconBytes), Destination: &o.icons},
	}
}

// options checks the flags and turns them into the export's options.
func (o *liveOpts) options(outFlag string) (livelookup.Options, error) {
	var lo livelookup.Options
	seen := map[livelookup.Form]bool{}
	for _, s := range strings.Split(o.keyForms, ",") {
		f, err := livelookup.ParseForm(strings.TrimSpace(s))
		if err != nil {
			return lo, usagef("--key-forms: %v", err)
		}
		if !seen[f] {
			seen[f] = true
			lo.Forms = append(lo.Forms, f)
		}
	}
	c, err := livelookup.ParseCategory(o.category)
	if err != nil {
		return lo, usagef("--category: %v", err)
	}
	if o.expiry < 0 || o.expiry > 1<<32-1 {
		return lo, usagef("--cache-expiry-minutes %d: want 0 to %d", o.expiry, uint32(1<<32-1))
	}
	if o.out == "" {
		return lo, usagef("--%s DIR is required", outFlag)
	}
	lo.Category, lo.CacheExpiryMinutes, lo.ToolVersion = c, uint32(o.expiry), Version
	return lo, nil
}

// needOut refuses, for compile, the export's options given without the
// export (--live-lookup DIR, or out in [live_lookup]): they would be
// ignored.
func (o *liveOpts) needOut(set func(string) bool) error {
	if o.out != "" {
		return nil
	}
	for _, f := range []string{"key-forms", "category", "cache-expiry-minutes", "icons"} {
		if set(f) {
			return usagef("--%s is an option of the Live Caller ID Lookup export: it needs --live-lookup DIR (or out in the [live_lookup] table of --config)", f)
		}
	}
	return nil
}

// job is the export of builds as the compiler package runs it.
func (o *liveOpts) job(outFlag string, builds []string) (*compiler.LiveLookup, error) {
	lo, err := o.options(outFlag)
	if err != nil {
		return nil, err
	}
	return &compiler.LiveLookup{Out: o.out, Builds: builds, IconsDir: o.icons, Options: lo}, nil
}

// jobIf is job for compile --live-lookup: nil when no export is asked for;
// the builds are filled in by the compile.
func (o *liveOpts) jobIf(outFlag string) (*compiler.LiveLookup, error) {
	if o.out == "" {
		return nil, nil
	}
	return o.job(outFlag, nil)
}

func exportCommand(e *env) *cli.Command {
	var o liveOpts
	var quiet, allowEmpty bool
	var maxShrink string
	return &cli.Command{
		Name:  "export",
		Usage: "export builds for another target",
		// Without a known subcommand, the list goes to stderr and the exit
		// status is 2, as for calldir without a command: a script that
		// forgot "live-lookup" does not pass.
		Action: func(c *cli.Context) error {
			c.App.Writer = e.stderr
			defer func() { c.App.Writer = e.stdout }()
			if err := cli.ShowSubcommandHelp(c); err != nil {
				return err
			}
			var names []string
			for _, sc := range c.Command.Subcommands {
				if sc.Name != "help" {
					names = append(names, sc.Name)
				}
			}
			want := strings.Join(names, ", ")
			if c.Args().Present() {
				return usagef("export: unknown subcommand %q (want %s)", c.Args().First(), want)
			}
			return usagef("export: no subcommand given (want %s)", want)
		},
		Subcommands: []*cli.Command{{
			Name:      "live-lookup",
			Usage:     "write Live Caller ID Lookup databases (KeywordDatabase) and PIRProcessDatabase configurations",
			ArgsUsage: "BUILD... (a blocking build, an identification build, or one of each)",
			Description: withExamples(`
Streams each build, in numeric order, into a KeywordDatabase that Apple's
PIRProcessDatabase reads: block.binpb (every number of the blocking build,
value the byte 1) and identity.binpb (every number of the identification
build, value a CallIdentity: its label as the name, --category and
--cache-expiry-minutes, and its icon from --icons). Beside each, a
PIRProcessDatabase configuration whose shard count follows the rows
(docs/LIVE-LOOKUP.md), and live-lookup.json with counts and SHA-256s.
A CallIdentity over 65,535 bytes, two numbers with one national key, or an
icon over 64 KiB refuse the export; nothing is written. An export of 0
numbers, or one holding more than --max-shrink fewer numbers of a kind than
the export it replaces, is refused too (--allow-empty, --max-shrink 100%).

EXAMPLES:
   calldir export live-lookup --out live build ids
   calldir export live-lookup --key-forms e164,national --category business -o live-uk build-uk
   cd live && PIRProcessDatabase block-config.json && PIRProcessDatabase identity-config.json`),
			Flags: append(o.flags("out", "o"),
				&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "no summary", Destination: &quiet},
				&cli.BoolFlag{Name: "allow-empty", Usage: "allow an export of 0 numbers", Destination: &allowEmpty},
				&cli.StringFlag{Name: "max-shrink", Value: defaultMaxShrink, Usage: "refuse an export holding more than `P%` fewer numbers of a kind than the export it replaces (100% allows any)", Destination: &maxShrink}),
			Action: func(c *cli.Context) error {
				if c.Args().Len() == 0 || c.Args().Len() > 2 {
					return usagef("export live-lookup: want one or two BUILD directories (a blocking build, an identification build)")
				}
				x, err := o.job("out", c.Args().Slice())
				if err != nil {
					return err
				}
				shrink, err := parseShrink(maxShrink)
				if err != nil {
					return err
				}
				x.Guard = &compiler.Guard{AllowEmpty: allowEmpty, MaxShrink: shrink}
				x.Role = "out"
				return runExport(c.Context, x, quiet, e)
			},
		}},
	}
}

func runExport(ctx context.Context, x *compiler.LiveLookup, quiet bool, e *env) error {
	start := time.Now()
	m, err := compiler.ExportLiveLookup(ctx, *x)
	if err != nil {
		return liveError(err)
	}
	if !quiet {
		printLiveSummary(e.stderr, x.Out, m, time.Since(start))
	}
	return nil
}

// liveError words the export's refusals for the command line (exit 2).
func liveError(err error) error {
	var big *livelookup.IdentityTooLargeError
	var dup *livelookup.DuplicateKeyError
	var icon *livelookup.IconError
	var cat *livelookup.CategoryError
	switch {
	case errors.As(err, &dup):
		// The flag goes at the end of the first line, before the list of
		// shared keys.
		head, list, _ := strings.Cut(err.Error(), "\n")
		if list != "" {
			list = "\n" + list
		}
		return usagef("%s (--key-forms e164)%s", head, list)
	case errors.As(err, &big), errors.As(err, &icon), errors.As(err, &cat):
		return usageError{err}
	}
	return err
}

// printLiveSummary prints one line per database written.
func printLiveSummary(w io.Writer, out string, m *livelookup.Manifest, took time.Duration) {
	for _, d := range m.Databases {
		var forms []string
		for _, f := range m.KeyForms {
			forms = append(forms, fmt.Sprintf("%s %s", group(d.Keys[f]), f))
		}
		fmt.Fprintf(w, "calldir: %s/%s: %s numbers -> %s rows (%s), %s bytes, %d PIR shard(s) in %s",
			out, d.File, group(d.Numbers), group(d.Rows), strings.Join(forms, ", "), group(d.Bytes), d.Shards, d.Config)
		if d.NoNational > 0 {
			fmt.Fprintf(w, "; %s without a national form", group(d.NoNational))
		}
		if d.Icons > 0 || d.IconsUnused > 0 {
			fmt.Fprintf(w, "; %s icons, %s unused", group(d.Icons), group(d.IconsUnused))
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "calldir: wrote %s (%s)\n", out, took.Round(time.Millisecond))
}

// configLive is the [live_lookup] table of a build configuration: the
// export that compile runs after the build (keys as the flags).
type configLive struct {
	Out                string   `toml:"out"`
	KeyForms           []string `toml:"key_forms"`
	Category           string   `toml:"category"`
	CacheExpiryMinutes *int     `toml:"cache_expiry_minutes"`
	Icons              string   `toml:"icons"`
}

// applyLiveConfig fills the export's options from [live_lookup], leaving
// the flags set on the command line as they are; rel makes a path
// relative to the configuration file, bad words an error with its line.
func applyLiveConfig(c configLive, o *liveOpts, set func(string) bool, rel func(string) string,
	bad func(name, table, format string, a ...any) error) error {
	if c.Out != "" && !set("live-lookup") {
		o.out = rel(c.Out)
	}
	// Options of an export that is not written would be ignored.
	if c.Out == "" && !set("live-lookup") && (c.KeyForms != nil || c.Category != "" || c.CacheExpiryMinutes != nil || c.Icons != "") {
		return bad("live_lookup.out", "live_lookup", "missing: the export's options are set, but not its directory (out = \"DIR\", or --live-lookup DIR)")
	}
	if len(c.KeyForms) > 0 && !set("key-forms") {
		for _, f := range c.KeyForms {
			if _, err := livelookup.ParseForm(f); err != nil {
				return bad("live_lookup.key_forms", "live_lookup", "%v", err)
			}
		}
		o.keyForms = strings.Join(c.KeyForms, ",")
	}
	if c.Category != "" && !set("category") {
		if _, err := livelookup.ParseCategory(c.Category); err != nil {
			return bad("live_lookup.category", "live_lookup", "%v", err)
		}
		o.category = c.Category
	}
	if c.CacheExpiryMinutes != nil && !set("cache-expiry-minutes") {
		if *c.CacheExpiryMinutes < 0 || *c.CacheExpiryMinutes > 1<<32-1 {
			return bad("live_lookup.cache_expiry_minutes", "live_lookup", "%d: want 0 to %d", *c.CacheExpiryMinutes, uint32(1<<32-1))
		}
		o.expiry = *c.CacheExpiryMinutes
	}
	if c.Icons != "" && !set("icons") {
		o.icons = rel(c.Icons)
	}
	return nil
}
