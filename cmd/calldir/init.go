package main

import (
	"fmt"
	"io"

	"github.com/calldir/calldir/shard/outfs"
	"github.com/urfave/cli/v2"
)

// starterConfig is what calldir init writes: every key, commented.
const starterConfig = `# calldir build configuration (TOML). Use it with:
#   calldir compile --config calldir.toml
# Command-line flags override these keys. Paths are relative to this file.
# One list, two Apple targets: out is the Call Directory build (CallKit
# extensions), [live_lookup] the Live Caller ID Lookup export made from it.

out = "build"              # the build directory (replaced atomically)
region = "US"              # default region for national numbers
accept = "possible"        # valid | possible | any
kind = "block"             # block | identify (one kind per build)
max_per_shard = 1000000    # at most 1,999,999 (CallKit error 5 above)
# memory = "1GiB"          # numbers held in memory before sorted runs spill
# rejects = "rejects.csv"  # every rejected line, with file, line and reason
# max_rejects = "1%"       # fail (exit 1, no build) above this many rejects
# max_shrink = "50%"       # refuse a build this much smaller than the one in out
# base = "../build-previous"   # keep the previous build's shard boundaries
# delta = "../delta"           # with base: also write the delta

# One [[source]] per list (a path or a glob). Each may set its own
# format (auto | text | csv | tsv), column, region, accept, and for
# identification builds label or label_column.
[[source]]
path = "lists/*.txt"

[[source]]
path = "feeds/vendor.csv"
column = "phone"

# [[source]]
# path = "feeds/uk-complaints.tsv.gz"
# region = "GB"
# accept = "valid"

# Numbers never to block (emergency, our own support lines).
[[allow]]
path = "allow.txt"

# Whole ranges: a digit prefix with # or X wildcards, or FIRST..LAST.
# [[pattern]]
# pattern = "+33 162 ######"
# [[pattern]]
# pattern = "+33163000000..+33163999999"

# Live Caller ID Lookup (iOS 18+): the same numbers as KeywordDatabase
# files for Apple's PIRProcessDatabase, written after the build. Then:
#   cd live && PIRProcessDatabase block-config.json
# (and identity-config.json for an identify build). Remove this table to
# write the build only.
[live_lookup]
out = "live"               # block.binpb or identity.binpb, configs, live-lookup.json
key_forms = ["e164"]       # add "national" for networks that present 07700900123
# category = "business"    # identify: person | business
# cache_expiry_minutes = 1440   # identify: how long a phone reuses the answer
# icons = "icons"          # identify: +E164.heic files, at most 64 KiB each
`

func initCommand(e *env) *cli.Command {
	var force bool
	return &cli.Command{
		Name:      "init",
		Usage:     "write a commented starter build configuration",
		ArgsUsage: "[FILE] (default calldir.toml)",
		Description: withExamples(`
EXAMPLES:
   calldir init
   calldir init ops/blocklist.toml && calldir compile --config ops/blocklist.toml`),
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "force", Usage: "overwrite an existing file", Destination: &force},
		},
		Action: func(c *cli.Context) error {
			if c.Args().Len() > 1 {
				return usagef("init takes at most one FILE")
			}
			path := "calldir.toml"
			if c.Args().Len() == 1 {
				path = c.Args().First()
			}
			// Without --force an existing path is refused; with it, the
			// file is written by the report rules (report.go): a regular
			// file replaced atomically, a FIFO or device written through, a
			// symlink followed, a directory refused.
			var p outfs.Plan
			p.WriteFile("FILE", path)
			if err := p.Check(); err != nil {
				return err
			}
			out, err := createOut(path, !force)
			if err != nil {
				return err
			}
			_, err = io.WriteString(out, starterConfig)
			if err := out.Commit(err); err != nil {
				return err
			}
			fmt.Fprintf(e.stderr, "calldir: wrote %s; edit it, then: calldir compile --config %s\n", path, path)
			return nil
		},
	}
}
