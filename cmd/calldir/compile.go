package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/calldir/calldir/compiler"
	"github.com/calldir/calldir/e164"
	"github.com/calldir/calldir/shard"
	"github.com/urfave/cli/v2"
)

type compileOpts struct {
	frontEnd
	inputs      []string
	out         string
	maxPerShard int
	rejects     string
	conflicts   string
	quiet       bool
	base        string
	delta       string
	chunk       int
	memory      string
	tempDir     string
	config      string
	maxShrink   string
	live        liveOpts   // --live-lookup: also export the build for Live Caller ID Lookup
	urls        urlSources // the configuration's sources given by url
	ops         opsOpts    // --protect, --format json (compile_json.go)
}

func compileCommand(e *env) *cli.Command {
	var o compileOpts
	return &cli.Command{
		Name:      "compile",
		Usage:     "turn raw number lists into sorted, deduplicated shards with a manifest",
		ArgsUsage: "FILE... (- for stdin)",
		Description: withExamples(`
Reads plain text (one number per line, '#' comments), CSV or TSV (header
detected; --column picks the number column) and gzip (detected by content).
Every number is normalized to E.164 with --region as the default region and
checked with --accept; rejected lines are counted and, with --rejects, listed.
The output directory holds fixed-width shard files and manifest.json, and is
replaced atomically: a failed compile leaves the previous build untouched.
--out is replaced only if calldir made it (its manifest is calldir's and
lists every other entry); an empty build needs --allow-empty, and one that
holds more than --max-shrink fewer entries than the build in --out or
--base is refused. Inputs and reports inside --out are refused.

An input may carry its own options after its path, as in
'uk.tsv.gz;region=GB;column=number' (the keys of a configuration's
[[source]] but path, url, sha256, optional and kind; a list by URL is given
in --config, docs/SOURCES.md). An argument that names an existing file is
that file, ';' and all. A file given twice with the same options (or
under two paths: a symlink, ./) is read once, with a warning.

REJECT REASONS:
` + reasonTable() + `
EXAMPLES:
   calldir compile --out build --allow fixtures/sample/allow.txt fixtures/sample/spam-us.txt fixtures/sample/*.csv
   calldir compile --region GB --accept valid --rejects rejects.csv -o build uk.csv.gz
   calldir compile --kind identify --label-column name -o ids vendor.csv
   zcat feed.gz | calldir compile --max-rejects 1% -o build -
   calldir compile --input-format ranges --encoding latin1 --region FR --range-start Tranche_Debut --range-end Tranche_Fin --where Territoire=Métropole -o build MAJNUM.csv
   calldir compile --input-format ranges --region GB --prefix 'Number Block' --length-column 'Number Length' --where Status=Allocated -o build S8.csv`),
		Flags: append(append(o.frontEnd.flags("", "fail (exit 1, no build) above `N` rejected lines, or P% of the lines"),
			&cli.StringFlag{Name: "out", Aliases: []string{"o"}, Usage: "output build `DIR` (replaced atomically; required here or in --config)", Destination: &o.out},
			&cli.StringSliceFlag{Name: "pattern", Usage: "block a whole range: `PATTERN` such as \"+33 162 ######\" or \"+33162000000..+33162999999\" (repeatable)"},
			&cli.StringFlag{Name: "config", Aliases: []string{"c"}, Usage: "build configuration `FILE` (TOML; see calldir init); flags override it", Destination: &o.config},
			&cli.IntFlag{Name: "max-per-shard", Value: shard.DefaultMaxPerShard, Usage: fmt.Sprintf("`N` entries per shard at most; above %d CallKit fails the load with error %d", shard.MaxEntriesPerRequest, shard.ErrorMaximumEntriesExceeded), Destination: &o.maxPerShard},
			&cli.StringFlag{Name: "rejects", Usage: "write every rejected line to `FILE` as CSV (source,line,reason,raw; a raw line holding a control character is written as a Go string literal, \"+1\\x00…\")", Destination: &o.rejects},
			&cli.StringFlag{Name: "conflicts", Usage: "identify: write label conflicts to `FILE` as CSV", Destination: &o.conflicts},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "no summary, no progress", Destination: &o.quiet},
			&cli.StringFlag{Name: "base", Usage: "keep the shard boundaries of the previous build `DIR`: numbers stay in the extension that holds them", Destination: &o.base},
			&cli.StringFlag{Name: "delta", Usage: "with --base: also write the delta from the base build to `DIR`", Destination: &o.delta},
			&cli.IntFlag{Name: "chunk", Value: compiler.DefaultChunk, Usage: "with --delta: at most `N` entries per incremental request", Destination: &o.chunk},
			&cli.StringFlag{Name: "memory", Value: sizeText(compiler.DefaultMemory), Usage: "bound on numbers held in memory (`SIZE`: 256MB, 1GiB, …); past it they spill to --temp-dir. Peak RSS stays under 1.1 × SIZE + 80 MiB", Destination: &o.memory},
			&cli.StringFlag{Name: "temp-dir", Usage: "`DIR` for spilled runs (default: the system's temporary directory)", Destination: &o.tempDir},
			&cli.StringFlag{Name: "cache", Usage: "keep the lists of url sources (--config) in `DIR` (default: calldir/sources in the user's cache directory)", Destination: &o.urls.cache},
			&cli.BoolFlag{Name: "offline", Usage: "read url sources from --cache only; one not there fails the build (exit 3)", Destination: &o.urls.offline},
			&cli.StringFlag{Name: "max-shrink", Value: defaultMaxShrink, Usage: "refuse a build that holds more than `P%` fewer entries than the build in --out or --base (100% allows any)", Destination: &o.maxShrink},
			&cli.StringSliceFlag{Name: "protect", Usage: protectUsage, Destination: &o.ops.protect},
			&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Value: "text", Usage: formatUsage, Destination: &o.ops.format},
		), o.live.flags("live-lookup")...),
		Action: func(c *cli.Context) error {
			o.inputs = c.Args().Slice()
			if o.config != "" {
				cfg, src, err := loadConfig(o.config)
				if err != nil {
					return err
				}
				if err := applyConfig(o.config, cfg, src, &o, c.IsSet); err != nil {
					return err
				}
			}
			if err := o.live.needOut(c.IsSet); err != nil {
				return err
			}
			for _, p := range c.StringSlice("pattern") {
				r, err := compiler.ParsePattern(p)
				if err != nil {
					return usagef("--pattern: %v", err)
				}
				r.Source = "--pattern"
				o.ranges = append(o.ranges, r)
			}
			if o.out == "" {
				return usagef("compile: --out DIR is required (or out = \"DIR\" in --config)")
			}
			if c.IsSet("cache") && o.urls.cache == "" {
				return usagef("--cache \"\": want a directory (leave the flag out for calldir/sources in the user's cache directory)")
			}
			if c.IsSet("chunk") && o.delta == "" {
				return usagef("--chunk sizes the requests of a delta: it needs --delta DIR (and --base)")
			}
			opts, threshold, err := o.options(c, o.inputs, e)
			if err != nil {
				return err
			}
			return runCompile(c.Context, o, opts, threshold, e)
		},
	}
}

func reasonTable() string {
	var b bytes.Buffer
	for _, r := range e164.Reasons() {
		fmt.Fprintf(&b, "   %-21s %s\n", r, r.Help())
	}
	return b.String()
}

func runCompile(ctx context.Context, o compileOpts, opts compiler.Options, threshold compiler.Threshold, e *env) error {
	start := time.Now()
	var me *shard.MaxPerShardError
	if err := shard.CheckMaxPerShard(o.maxPerShard); errors.As(err, &me) {
		return usagef("--max-per-shard %d: %s", me.Max, me.Reason)
	}
	if o.delta != "" {
		if err := checkChunk(o.chunk); err != nil {
			return err
		}
	}
	opts.MaxPerShard = o.maxPerShard
	mem, err := parseSize(o.memory)
	if err != nil || mem < 1<<20 {
		return usagef("--memory %q: want a size of at least 1MB, such as 256MB or 2GiB", o.memory)
	}
	opts.Memory, opts.TempDir = mem, o.tempDir
	if o.delta != "" && o.base == "" {
		return usagef("--delta needs --base (the build the devices have)")
	}
	maxShrink, err := parseShrink(o.maxShrink)
	if err != nil {
		return err
	}
	job := compiler.Job{
		Options: opts, Out: o.out, Base: o.base, Delta: o.delta, Chunk: o.chunk,
		Threshold: threshold,
		Guard:     compiler.Guard{AllowEmpty: o.allowEmpty, MaxShrink: maxShrink},
		Manifest: shard.Manifest{ToolVersion: Version, Created: sourceDateEpoch(e),
			Options: o.manifestOptions(opts, o.maxPerShard)},
		Reports: []compiler.NamedPath{{Role: "rejects", Path: o.rejects}, {Role: "conflicts", Path: o.conflicts}},
		Reads:   []compiler.NamedPath{{Role: "config", Path: o.config}},
	}
	cache, err := o.urls.cacheDir()
	if err != nil {
		return err
	}
	job.Scratch = []compiler.NamedPath{{Role: "cache", Path: cache}}
	job.Fetch = o.urls.fetchFunc(e.stderr, o.quiet, nil)
	if job.LiveLookup, err = o.live.jobIf("live-lookup"); err != nil {
		return err
	}
	var rejects, conflicts *csvReport
	defer func() { rejects.discard(); conflicts.discard() }() // no-ops after commit
	if err := o.ops.prepare(&job, &o); err != nil {
		return err
	}
	// The reports are opened only once every path of the job is known
	// good: a report onto the configuration, an input or inside --out is
	// refused before it is created.
	if _, err := job.Check(); err != nil {
		return err
	}
	if o.rejects != "" {
		if rejects, err = newCSVReport(o.rejects, "source", "line", "reason", "raw"); err != nil {
			return err
		}
		job.OnReject = func(r compiler.Reject) {
			rejects.add(r.Source, strconv.FormatInt(r.Line, 10), r.Reason.String(), rawField(r.Raw))
		}
	}
	if o.conflicts != "" {
		if conflicts, err = newCSVReport(o.conflicts, "number", "source", "line", "label", "kept_source", "kept_line", "kept_label"); err != nil {
			return err
		}
		job.OnConflict = func(c compiler.Conflict) {
			conflicts.add(e164.Format(c.Number), c.Source, strconv.FormatInt(c.Line, 10), c.Label,
				c.KeptSource, strconv.FormatInt(c.KeptLine, 10), c.KeptLabel)
		}
	}
	prog := newProgress(e.stderr, o.quiet)
	job.Progress = prog.update
	// The reports are written even when the build is refused: they say why.
	job.Compiled = func(res *compiler.Result) error {
		prog.done()
		recordRegions(res.Inputs, opts)
		if err := rejects.commit(); err != nil {
			return err
		}
		return conflicts.commit()
	}
	out, err := compiler.Run(ctx, job)
	prog.done()
	if out != nil && !o.quiet {
		printCompileSummary(e.stderr, o, opts, out, time.Since(start))
	}
	if err == nil && !o.quiet {
		printOutputSummaries(e.stderr, o, out, time.Since(start))
	}
	return o.ops.report(e.stdout, &o, &job, out, liveError(err))
}

// rawField is a rejected line's text as the rejects CSV holds it: as it
// was, unless it holds a control character (a NUL, an escape sequence, a
// lone CR: bytes a terminal or spreadsheet would act on), when it is
// written as a Go string literal, "+1415\x00555" (strconv.Quote). To stay
// reversible, a text that already reads as such a literal is quoted too
// (isEscaped); rejected lines without control characters, quoted
// numbers such as "+14155550101" among them, stay byte for byte. A
// reader gets the line back by unquoting, once, a field for which
// isEscaped holds (and taking any other field as it is).
func rawField(raw string) string {
	if hasControl(raw) || isEscaped(raw) {
		return strconv.Quote(raw)
	}
	return raw
}

// isEscaped reports whether a rejects CSV raw field was written by
// rawField's quoting: a Go string literal whose value holds a control
// character, or is again such a field.
func isEscaped(field string) bool {
	for {
		if len(field) < 2 || field[0] != '"' {
			return false
		}
		v, err := strconv.Unquote(field)
		if err != nil {
			return false
		}
		if hasControl(v) {
			return true
		}
		field = v
	}
}

// hasControl reports a control character other than tab (Unicode Cc:
// U+0000–U+001F, U+007F–U+009F).
func hasControl(s string) bool {
	return strings.ContainsFunc(s, func(r rune) bool { return r != '\t' && unicode.IsControl(r) })
}

// recordRegions records in each input's stats the default region it was
// read with, when a source or allowlist had its own ([[source]] region,
// "PATH;region=XX"): the manifest's options.region is only the default,
// and inspect shows what each input used. inputs are the sources, then
// the allowlists, in the order of opts (compiler.Result.Inputs).
func recordRegions(inputs []shard.InputStats, opts compiler.Options) {
	srcs := append(append([]compiler.Source(nil), opts.Sources...), opts.Allow...)
	for i := range min(len(inputs), len(srcs)) {
		if n := srcs[i].Normalizer; n != nil && n.Region() != opts.Normalizer.Region() {
			inputs[i].Region = n.Region()
		}
	}
}

// printOutputSummaries prints what a compile wrote besides the build: the
// delta, the Live Caller ID Lookup export.
func printOutputSummaries(w io.Writer, o compileOpts, out *compiler.Outcome, took time.Duration) {
	if out.Delta != nil {
		printDeltaSummary(w, o.delta, out.Delta)
	}
	if out.Live != nil {
		printLiveSummary(w, o.live.out, out.Live, took)
	}
}

// printCompileSummary prints the summary line of a compile, with several
// blocking sources a line for each, and a line for each allowlist (its
// rejected lines count in the totals and against --max-rejects like a
// source's, so the summary says whose they are).
func printCompileSummary(w io.Writer, o compileOpts, opts compiler.Options, out *compiler.Outcome, took time.Duration) {
	t := out.Totals
	// The inputs read, from the outcome: a source given by URL that was
	// left out (optional) is not one of them.
	sources, allowlists := 0, 0
	for _, in := range out.Inputs {
		switch in.Role {
		case "source":
			sources++
		case "allow":
			allowlists++
		}
	}
	fmt.Fprintf(w, "calldir: %s lines from %s: %s accepted, %s rejected, %s duplicates, %s allowlisted",
		group(t.Lines), inputsText(sources, allowlists), group(t.Accepted), group(t.Rejected), group(t.Duplicates), group(t.Allowlisted))
	if t.LabelConflicts > 0 {
		fmt.Fprintf(w, ", %s label conflicts", group(t.LabelConflicts))
	}
	if len(out.Patterns) > 0 {
		var n int64
		for _, p := range out.Patterns {
			n += p.Entries
		}
		fmt.Fprintf(w, ", %d pattern(s) of %s numbers", len(out.Patterns), group(n))
	}
	fmt.Fprintf(w, " -> %s entries in %d shard(s) in %s (%s)\n",
		group(t.Entries), len(out.Manifest.Shards), o.out, took.Round(time.Millisecond))
	for _, in := range out.Inputs {
		switch {
		case in.Role == "source" && sources > 1 && opts.Kind == shard.KindBlock:
			fmt.Fprintf(w, "  %s: %s lines, %s accepted, %s rejected, %s repeats, %s in an earlier source, %s allowlisted -> %s entries\n",
				in.Path, group(in.Lines), group(in.Accepted), group(in.Rejected), group(in.Duplicates), group(in.Across), group(in.Allowlisted), group(in.Entries))
		case in.Role == "allow":
			printAllowSummary(w, in)
		}
	}
}

// inputsText is "2 file(s)", or with allowlists "2 file(s) and 1 allowlist(s)".
func inputsText(sources, allowlists int) string {
	s := fmt.Sprintf("%d file(s)", sources)
	if allowlists > 0 {
		s += fmt.Sprintf(" and %d allowlist(s)", allowlists)
	}
	return s
}

// printAllowSummary prints an allowlist's line: what it read, how many of
// its lines were patterns (each allows a whole range), and its rejected
// lines by reason (they are in --rejects, under its path).
func printAllowSummary(w io.Writer, in shard.InputStats) {
	fmt.Fprintf(w, "  allowlist %s: %s lines, %s accepted", in.Path, group(in.Lines), group(in.Accepted))
	if in.Patterns > 0 {
		fmt.Fprintf(w, " (%s pattern(s))", group(in.Patterns))
	}
	fmt.Fprintf(w, ", %s rejected", group(in.Rejected))
	if in.Rejected > 0 {
		fmt.Fprintf(w, " (%s)", reasonsText(in.Reasons))
	}
	fmt.Fprintln(w)
}

// sourceDateEpoch returns SOURCE_DATE_EPOCH as RFC 3339, or "" so that
// builds carry no timestamp by default (reproducible-builds.org).
func sourceDateEpoch(e *env) string {
	s := e.getenv("SOURCE_DATE_EPOCH")
	if s == "" {
		return ""
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return ""
	}
	return time.Unix(n, 0).UTC().Format(time.RFC3339)
}

// parseSize reads a byte size: a number with an optional K, M, G or T
// suffix, optionally followed by "B" or "iB"; all binary (1MB = 1MiB).
func parseSize(s string) (int64, error) {
	t := strings.ToUpper(strings.TrimSpace(s))
	t = strings.TrimSuffix(strings.TrimSuffix(t, "B"), "I")
	mult := int64(1)
	if n := len(t); n > 0 {
		switch t[n-1] {
		case 'K':
			mult, t = 1<<10, t[:n-1]
		case 'M':
			mult, t = 1<<20, t[:n-1]
		case 'G':
			mult, t = 1<<30, t[:n-1]
		case 'T':
			mult, t = 1<<40, t[:n-1]
		}
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(t), 64)
	if err != nil || v < 0 || v*float64(mult) > 1<<50 {
		return 0, fmt.Errorf("size %q", s)
	}
	return int64(v * float64(mult)), nil
}

// sizeText writes a byte size as parseSize reads it: 512<<20 -> "512MiB".
func sizeText(n int64) string {
	for _, u := range []struct {
		shift uint
		name  string
	}{{40, "TiB"}, {30, "GiB"}, {20, "MiB"}, {10, "KiB"}} {
		if n >= 1<<u.shift && n%(1<<u.shift) == 0 {
			return strconv.FormatInt(n>>u.shift, 10) + u.name
		}
	}
	return strconv.FormatInt(n, 10) + "B"
}

// group formats n with thousands separators: 1234567 -> "1,234,567".
func group(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := n < 0
	if neg {
		s = s[1:]
	}
	var b []byte
	for i := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b = append(b, ',')
		}
		b = append(b, s[i])
	}
	if neg {
		return "-" + string(b)
	}
	return string(b)
}
