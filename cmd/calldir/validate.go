package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/calldir/calldir/compiler"
	"github.com/calldir/calldir/shard"
	"github.com/calldir/calldir/validate"
	"github.com/urfave/cli/v2"
)

type validateOpts struct {
	frontEnd
	raw    bool
	format string
	base   string
	target string
}

func validateCommand(e *env) *cli.Command {
	var o validateOpts
	return &cli.Command{
		Name:      "validate",
		Usage:     "check a build directory, or raw lists, and report every problem found",
		ArgsUsage: "BUILD_DIR | LIVE_LOOKUP_DIR | DELTA_DIR [--base OLD --target NEW] | --raw FILE...",
		Description: withExamples(`
On a build directory: the manifest's schema and version; every shard's
header, checksum, strict ascending order, range and labels; counts, ranges,
sizes and SHA-256 against the manifest; that shards of a kind do not overlap;
each extension's load against CallKit's 1,999,999 entries per request;
totals; shard paths that leave the directory; files missing from the
directory or from the manifest.

On a Live Caller ID Lookup export (made by export live-lookup or compile
--live-lookup): the manifest; every row of block.binpb and identity.binpb
decoded, its key (+E.164 or national digits) and value (the byte 1, or a
CallIdentity within the limits, with the manifest's category and expiry);
E.164 keys ascending; no key twice; counts per key form, sizes and SHA-256s
against the manifest; the PIRProcessDatabase configurations; stray files.

On a delta directory (made by diff or compile --delta): the delta manifest;
every request file (inside the directory, present, its SHA-256, a valid,
strictly ascending shard, its count); request sizes against the chunk and
CallKit's cap; ops against each extension's mode and kind; stray files. With
--base: the base's build_id, removals that exist in the base and additions
absent from it (a present one is SQLite error 19 on the device). With
--target too: that base + delta is exactly the target build.

With --raw: the compile front end over raw lists and registers of ranges,
without writing anything: the same options as compile (--region, --accept,
--input-format, --column, the register's --range-start, --range-end,
--prefix, --length, --length-column, --where and --encoding, and the same
keys inline, "FILE;format=ranges;prefix=NPA+NXX"), so it finds exactly the
lines and rows compile would reject. Every rejected line is a finding;
--max-rejects (default 0) decides the exit status.

Findings are collected, not a first-error stop. --format github prints one
workflow annotation per finding (::error file=F,line=L::message).

FINDING KINDS:
` + findingKinds() + `
EXAMPLES:
   calldir validate build
   calldir validate --format json build > findings.json
   calldir validate --raw --format github --max-rejects 0 lists/*.txt
   calldir validate --raw --input-format ranges --encoding latin1 --region GP --range-start Tranche_Debut --range-end Tranche_Fin --where 'Territoire="Guadeloupe, St Martin et St Barthélemy"' MAJNUM.csv
   calldir validate --base build-old --target build-new delta-new`),
		Flags: append(o.frontEnd.flags("0", "--raw: fail (exit 1) above `N` rejected lines, or P% of the lines"),
			&cli.BoolFlag{Name: "raw", Usage: "check raw lists instead of a build directory", Destination: &o.raw},
			&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Value: "text", Usage: "output `FORMAT`: text, json or github", Destination: &o.format},
			&cli.StringFlag{Name: "base", Usage: "delta: the build `DIR` it applies to", Destination: &o.base},
			&cli.StringFlag{Name: "target", Usage: "delta: the build `DIR` it must produce (needs --base)", Destination: &o.target},
		),
		Action: func(c *cli.Context) error {
			switch o.format {
			case "text", "json", "github":
			default:
				return usagef("--format %q: want text, json or github", o.format)
			}
			if o.raw {
				opts, threshold, err := o.options(c, c.Args().Slice(), e)
				if err != nil {
					return err
				}
				return runValidateRaw(c.Context, o, opts, threshold, e)
			}
			if c.Args().Len() != 1 {
				return usagef("validate: want one BUILD_DIR or DELTA_DIR (or --raw FILE...)")
			}
			if validate.IsLiveLookup(c.Args().First()) && o.base == "" && o.target == "" {
				return runValidateLive(c.Context, o, c.Args().First(), e)
			}
			if validate.IsDelta(c.Args().First()) {
				return runValidateDelta(c.Context, o, c.Args().First(), e)
			}
			if o.base != "" || o.target != "" {
				return usagef("--base and --target apply to delta directories; %s has no %s", c.Args().First(), shard.DeltaManifestName)
			}
			return runValidateBuild(c.Context, o, c.Args().First(), e)
		},
	}
}

func runValidateBuild(ctx context.Context, o validateOpts, dir string, e *env) error {
	if fi, err := os.Stat(dir); err != nil {
		return err
	} else if !fi.IsDir() {
		return usagef("validate: %s is not a directory (a build directory, or --raw for lists)", dir)
	}
	r, err := validate.Build(ctx, dir)
	if err != nil {
		return err
	}
	summary := fmt.Sprintf("%s: checked %d shard(s), %s entries, %d extension(s): manifest, headers, checksums, order, ranges, labels, per-request cap, totals, files",
		dir, r.Shards, group(r.Entries), r.Extensions)
	if err := printFindings(e.stdout, "validate", o.format, r, r.Findings, summary, "error"); err != nil {
		return err
	}
	if len(r.Findings) > 0 {
		return findingsError{fmt.Sprintf("%d finding(s)", len(r.Findings))}
	}
	return nil
}

func runValidateDelta(ctx context.Context, o validateOpts, dir string, e *env) error {
	if o.target != "" && o.base == "" {
		return usagef("--target needs --base")
	}
	var base, target *shard.Build
	var err error
	if o.base != "" {
		if base, err = shard.LoadBuild(o.base); err != nil {
			return fmt.Errorf("--base: %w", err)
		}
	}
	if o.target != "" {
		if target, err = shard.LoadBuild(o.target); err != nil {
			return fmt.Errorf("--target: %w", err)
		}
	}
	r, err := validate.Delta(ctx, dir, base, target)
	if err != nil {
		return err
	}
	checked := "manifest, files, checksums, order, chunk sizes, ops"
	if base != nil {
		checked += ", base build_id, removals and additions against the base"
	}
	if target != nil {
		checked += ", base + delta == target"
	}
	summary := fmt.Sprintf("%s: checked %d request(s), %s entries: %s", dir, r.Requests, group(r.Entries), checked)
	if err := printFindings(e.stdout, "validate", o.format, r, r.Findings, summary, "error"); err != nil {
		return err
	}
	if len(r.Findings) > 0 {
		return findingsError{fmt.Sprintf("%d finding(s)", len(r.Findings))}
	}
	return nil
}

func runValidateLive(ctx context.Context, o validateOpts, dir string, e *env) error {
	r, err := validate.LiveLookup(ctx, dir, "")
	if err != nil {
		return err
	}
	summary := fmt.Sprintf("%s: checked %d database(s), %s rows: manifest, every row's key and value, order, duplicate keys, counts per key form, sizes, SHA-256s, PIRProcessDatabase configurations, files",
		dir, r.Databases, group(r.Rows))
	if err := printFindings(e.stdout, "validate", o.format, r, r.Findings, summary, "error"); err != nil {
		return err
	}
	if len(r.Findings) > 0 {
		return findingsError{fmt.Sprintf("%d finding(s)", len(r.Findings))}
	}
	return nil
}

func runValidateRaw(ctx context.Context, o validateOpts, opts compiler.Options, threshold compiler.Threshold, e *env) error {
	r := validate.NewRawReport()
	opts.OnReject = func(rj compiler.Reject) { r.Reject(rj.Source, rj.Line, rj.Reason, rj.Raw) }
	res, err := compiler.Compile(ctx, opts) // writes nothing
	if err != nil {
		return err
	}
	defer res.Close() // its spill files
	r.Finish(res.Inputs, res.Totals.LabelConflicts)
	over := threshold.Exceeded(r.Rejected, r.Lines)
	level := "warning"
	verdict := "within"
	if over {
		level, verdict = "error", "over"
	}
	summary := fmt.Sprintf("checked %d file(s): %s lines, %s accepted, %s rejected (%s --max-rejects %s)",
		r.Files, group(r.Lines), group(r.Accepted), group(r.Rejected), verdict, threshold)
	if err := printFindings(e.stdout, "validate", o.format, r, r.Findings, summary, level); err != nil {
		return err
	}
	if over {
		return findingsError{"rejects over threshold"}
	}
	return nil
}

// printFindings writes the findings and a summary in the chosen format;
// cmd names the command on the summary line.
// level is the GitHub annotation level: error, or warning for findings
// that stay within a threshold.
func printFindings(w io.Writer, cmd, format string, report any, fs []validate.Finding, summary, level string) error {
	switch format {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			OK      bool   `json:"ok"`
			Summary string `json:"summary"`
			Report  any    `json:"report"`
		}{len(fs) == 0 || level == "warning", summary, report})
	case "github":
		for _, f := range fs {
			props := "file=" + ghProp(f.File)
			if f.Line > 0 {
				props += fmt.Sprintf(",line=%d", f.Line)
			}
			props += ",title=" + ghProp("calldir "+string(f.Kind))
			fmt.Fprintf(w, "::%s %s::%s\n", level, props, ghData(f.String()))
		}
		fmt.Fprintf(w, "calldir %s: %s; %d finding(s)\n", cmd, summary, len(fs))
	default:
		for _, f := range fs {
			fmt.Fprintln(w, f.String())
		}
		fmt.Fprintf(w, "calldir %s: %s; %d finding(s)\n", cmd, summary, len(fs))
	}
	return nil
}

// ghData escapes a workflow command's message; ghProp a property value
// (GitHub Actions toolkit rules).
func ghData(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

func ghProp(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(s)
}
