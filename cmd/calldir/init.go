package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

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
# identification builds label or label_column. calldir init wrote a
# small example of each (fictional 555-01xx numbers): replace them.
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

// starterFiles are the example inputs of the starter configuration,
// relative to it, so that "calldir init && calldir compile --config
// calldir.toml" succeeds in an empty directory. Their numbers are in
// 555-0100..555-0199, which the North American Numbering Plan keeps for
// fiction.
var starterFiles = []struct{ path, text string }{
	{"lists/spam.txt", `# An example blocklist (calldir init): one number a line, national
# (the region in calldir.toml) or +E.164; '#' starts a comment. These
# numbers are fictional (555-01xx): replace them with your own lists.
+1 212 555 0101
(415) 555-0102
415-555-0103
+1 212 555 0199
# (allow.txt keeps the last one out of the build)
`},
	{"feeds/vendor.csv", `phone,name
+12125550104,example vendor entry (fictional)
+12125550105,example vendor entry (fictional)
`},
	{"allow.txt", `# Numbers never to block, whatever the lists say (emergency
# services, your own support line). A fictional example:
+1 212 555 0199
`},
}

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
			&cli.BoolFlag{Name: "force", Usage: "overwrite an existing FILE (its example lists are written only with a new FILE, and never over a file)", Destination: &force},
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
			examples := starterExamples(path)
			for _, f := range examples {
				p.WriteFile("example", f.path)
			}
			if err := p.Check(); err != nil {
				return err
			}
			// The examples first, the configuration last: a run that
			// fails leaves no configuration naming missing files.
			var wrote []string
			for _, f := range examples {
				if err := os.MkdirAll(filepath.Dir(f.path), 0o755); err != nil {
					return err
				}
				if err := writeNew(f.path, f.text); err != nil {
					return err
				}
				wrote = append(wrote, f.path)
			}
			out, err := createOut(path, !force)
			if err != nil {
				return err
			}
			_, err = io.WriteString(out, starterConfig)
			if err := out.Commit(err); err != nil {
				return err
			}
			if len(wrote) > 0 {
				fmt.Fprintf(e.stderr, "calldir: wrote %s and the example lists %s (fictional numbers); edit them, then: calldir compile --config %s\n", path, strings.Join(wrote, ", "), path)
				return nil
			}
			fmt.Fprintf(e.stderr, "calldir: wrote %s; edit it, then: calldir compile --config %s\n", path, path)
			return nil
		},
	}
}

// starterExamples are the example files to write beside a new
// configuration at path: none when path exists (--force refreshes the
// configuration of lists already there) or is not a place for a regular
// file; and, of the others, only those missing (a lists/*.txt of the
// user's own is not joined by an example, an allow.txt is kept).
func starterExamples(path string) []struct{ path, text string } {
	if _, err := os.Lstat(path); err == nil {
		return nil
	}
	dir := filepath.Dir(path)
	var out []struct{ path, text string }
	for _, f := range starterFiles {
		p := filepath.Join(dir, filepath.FromSlash(f.path))
		if _, err := os.Lstat(p); err == nil {
			continue
		}
		if f.path == "lists/spam.txt" {
			if m, _ := filepath.Glob(filepath.Join(dir, "lists", "*.txt")); len(m) > 0 {
				continue
			}
		}
		out = append(out, struct{ path, text string }{p, f.text})
	}
	return out
}

// writeNew writes text to a new file at path by outfs.File's rules,
// refusing a path that exists.
func writeNew(path, text string) error {
	out, err := createOut(path, true)
	if err != nil {
		return err
	}
	_, err = io.WriteString(out, text)
	return out.Commit(err)
}
