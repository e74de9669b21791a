package main

import (
	"bytes"
	"context"
	"fmt"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

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

REJECT REASONS:
` + reasonTable() + `
EXAMPLES:
   calldir compile --out build fixtures/sample/*.txt fixtures/sample/*.csv
   calldir compile --region GB --accept valid --rejects rejects.csv -o build uk.csv.gz
   calldir compile --kind identify --label-column name -o ids vendor.csv
   zcat feed.gz | calldir compile --max-rejects 1% -o build -`),
		Flags: append(o.frontEnd.flags("", "fail (exit 1, no build) above `N` rejected lines, or P% of the lines"),
			&cli.StringFlag{Name: "out", Aliases: []string{"o"}, Usage: "output build `DIR` (replaced atomically; required here or in --config)", Destination: &o.out},
			&cli.StringSliceFlag{Name: "pattern", Usage: "block a whole range: `PATTERN` such as \"+33 162 ######\" or \"+33162000000..+33162999999\" (repeatable)"},
			&cli.StringFlag{Name: "config", Aliases: []string{"c"}, Usage: "build configuration `FILE` (TOML; see calldir init); flags override it", Destination: &o.config},
			&cli.IntFlag{Name: "max-per-shard", Value: shard.DefaultMaxPerShard, Usage: fmt.Sprintf("`N` entries per shard at most; above %d CallKit fails the load with error %d", shard.MaxEntriesPerRequest, shard.ErrorMaximumEntriesExceeded), Destination: &o.maxPerShard},
			&cli.StringFlag{Name: "rejects", Usage: "write every rejected line to `FILE` as CSV (source,line,reason,raw)", Destination: &o.rejects},
			&cli.StringFlag{Name: "conflicts", Usage: "identify: write label conflicts to `FILE` as CSV", Destination: &o.conflicts},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "no summary, no progress", Destination: &o.quiet},
			&cli.StringFlag{Name: "base", Usage: "keep the shard boundaries of the previous build `DIR`: numbers stay in the extension that holds them", Destination: &o.base},
			&cli.StringFlag{Name: "delta", Usage: "with --base: also write the delta from the base build to `DIR`", Destination: &o.delta},
			&cli.IntFlag{Name: "chunk", Value: compiler.DefaultChunk, Usage: "with --delta: at most `N` entries per incremental request", Destination: &o.chunk},
			&cli.StringFlag{Name: "memory", Value: "512MiB", Usage: "bound on numbers held in memory (`SIZE`: 256MB, 1GiB, …); past it they spill to --temp-dir. Peak RSS stays under 1.1 × SIZE + 80 MiB", Destination: &o.memory},
			&cli.StringFlag{Name: "temp-dir", Usage: "`DIR` for spilled runs (default: the system's temporary directory)", Destination: &o.tempDir},
			&cli.StringFlag{Name: "max-shrink", Value: defaultMaxShrink, Usage: "refuse a build that holds more than `P%` fewer entries than the build in --out or --base (100% allows any)", Destination: &o.maxShrink},
		),
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

// heapLimit is the Go memory limit of a compile with a --memory of mem:
// the budget, a tenth more for the garbage of buckets already sorted, and
// 64 MiB of headroom for the blocks in flight.
func heapLimit(mem int64) int64 { return mem + mem/10 + 64<<20 }

// memoryFloor is what a compile's peak resident memory may exceed
// 1.1 × --memory by: heapLimit's 64 MiB of headroom, and the runtime, code
// and number tables (about 15 MiB). Measured: --memory 16MB peaks at
// 85 MiB, 64MB at 143 MiB, 512MiB at 635 MiB (60M lines).
const memoryFloor = 80 << 20

func runCompile(ctx context.Context, o compileOpts, opts compiler.Options, threshold compiler.Threshold, e *env) error {
	start := time.Now()
	if err := shard.CheckMaxPerShard(o.maxPerShard); err != nil {
		return usageError{err}
	}
	opts.MaxPerShard = o.maxPerShard
	mem, err := parseSize(o.memory)
	if err != nil || mem < 1<<20 {
		return usagef("--memory %q: want a size of at least 1MB, such as 256MB or 2GiB", o.memory)
	}
	opts.Memory, opts.TempDir = mem, o.tempDir
	// Hold the Go heap near the bound too: the numbers are most of it, and
	// without a limit the collector lets garbage (batches, strings) grow
	// with the heap. The headroom is the blocks in flight and the garbage
	// of buckets already sorted; a tighter limit makes the collector run
	// back to back.
	debug.SetMemoryLimit(heapLimit(mem))
	if o.delta != "" && o.base == "" {
		return usagef("--delta needs --base (the build the devices have)")
	}
	guard, err := newShrinkGuard(o.allowEmpty, o.maxShrink)
	if err != nil {
		return err
	}
	// Refuse before any work: an --out that calldir did not make, and
	// inputs or reports inside --out (the swap would delete them).
	outState, err := compiler.InspectOutput(o.out, shard.ManifestName)
	if err != nil {
		return err
	}
	if o.delta != "" {
		if _, err := compiler.InspectOutput(o.delta, shard.DeltaManifestName); err != nil {
			return fmt.Errorf("--delta: %w", err)
		}
	}
	if err := checkOutside("--out", o.out, o.pathsNear(opts)); err != nil {
		return err
	}
	if err := checkNotInput(o.pathsNear(opts), "--rejects", "--conflicts"); err != nil {
		return err
	}
	var base *shard.Build
	if o.base != "" {
		if base, err = shard.LoadBuild(o.base); err != nil {
			return fmt.Errorf("--base: %w", err)
		}
	}
	var rejects, conflicts *csvReport
	defer func() { rejects.discard(); conflicts.discard() }() // no-ops after commit
	if o.rejects != "" {
		if rejects, err = newCSVReport(o.rejects, "source", "line", "reason", "raw"); err != nil {
			return err
		}
		opts.OnReject = func(r compiler.Reject) {
			rejects.add(r.Source, strconv.FormatInt(r.Line, 10), r.Reason.String(), r.Raw)
		}
	}
	if o.conflicts != "" {
		if conflicts, err = newCSVReport(o.conflicts, "number", "source", "line", "label", "kept_source", "kept_line", "kept_label"); err != nil {
			return err
		}
		opts.OnConflict = func(c compiler.Conflict) {
			conflicts.add(e164.Format(c.Number), c.Source, strconv.FormatInt(c.Line, 10), c.Label,
				c.KeptSource, strconv.FormatInt(c.KeptLine, 10), c.KeptLabel)
		}
	}
	prog := newProgress(e.stderr, o.quiet)
	opts.Progress = prog.update
	res, err := compiler.Compile(ctx, opts)
	prog.done()
	if err != nil {
		return err
	}
	// The reports are written even when the build is refused: they say why.
	if rejects != nil {
		if err := rejects.commit(); err != nil {
			return err
		}
	}
	if conflicts != nil {
		if err := conflicts.commit(); err != nil {
			return err
		}
	}
	t := res.Totals
	if threshold.Exceeded(t.Rejected, t.Lines) {
		fmt.Fprintf(e.stderr, "calldir: %d of %d lines rejected, over --max-rejects %s; build not written\n", t.Rejected, t.Lines, threshold)
		return findingsError{"too many rejects"}
	}
	if err := guard.checkEmpty(t.Entries, opts.Kind, res.Inputs, len(res.Patterns)); err != nil {
		return err
	}
	if err := guard.checkShrink("the build in --out "+o.out, outState.Entries(), t.Entries); err != nil {
		return err
	}
	if base != nil {
		if err := guard.checkShrink("--base "+o.base, base.Manifest.Totals.Entries, t.Entries); err != nil {
			return err
		}
	}
	m := &shard.Manifest{
		Format: shard.ManifestFormat, FormatVersion: shard.ManifestVersion, ToolVersion: Version,
		Created:  sourceDateEpoch(e),
		Options:  o.manifestOptions(opts, o.maxPerShard),
		Inputs:   res.Inputs,
		Patterns: res.Patterns,
	}
	defer res.Close()
	layout := compiler.Layout(res.Len(), o.maxPerShard)
	if base != nil {
		if layout, err = compiler.StableLayout(res.Entries(), base.Manifest, opts.Kind, o.maxPerShard); err != nil {
			return err
		}
		m.Base = base.Manifest.BuildID
		if o.delta != "" { // refuse the delta before the build is written
			counts := map[int]int64{}
			for _, pl := range layout {
				counts[pl.Extension] += int64(pl.Span.End - pl.Span.Start)
			}
			if err := guard.checkEmptied(base, counts); err != nil {
				return err
			}
		}
	}
	if err := compiler.WriteBuild(ctx, o.out, res, m, layout); err != nil {
		return err
	}
	if !o.quiet {
		fmt.Fprintf(e.stderr, "calldir: %s lines from %d file(s): %s accepted, %s rejected, %s duplicates, %s allowlisted",
			group(t.Lines), len(opts.Sources), group(t.Accepted), group(t.Rejected), group(t.Duplicates), group(t.Allowlisted))
		if t.LabelConflicts > 0 {
			fmt.Fprintf(e.stderr, ", %s label conflicts", group(t.LabelConflicts))
		}
		if len(res.Patterns) > 0 {
			var n int64
			for _, p := range res.Patterns {
				n += p.Entries
			}
			fmt.Fprintf(e.stderr, ", %d pattern(s) of %s numbers", len(res.Patterns), group(n))
		}
		fmt.Fprintf(e.stderr, " -> %s entries in %d shard(s) in %s (%s)\n",
			group(t.Entries), len(m.Shards), o.out, time.Since(start).Round(time.Millisecond))
		if len(opts.Sources) > 1 && opts.Kind == shard.KindBlock {
			for _, in := range res.Inputs {
				if in.Role == "source" {
					fmt.Fprintf(e.stderr, "  %s: %s lines, %s accepted, %s rejected, %s repeats, %s in an earlier source, %s allowlisted -> %s entries\n",
						in.Path, group(in.Lines), group(in.Accepted), group(in.Rejected), group(in.Duplicates), group(in.Across), group(in.Allowlisted), group(in.Entries))
				}
			}
		}
	}
	if o.delta == "" {
		return nil
	}
	return writeDelta(ctx, base, o.out, o.delta, o.chunk, o.quiet, guard, e)
}

// pathsNear lists every path a compile reads or writes besides --out, for
// checkOutside.
func (o *compileOpts) pathsNear(opts compiler.Options) [][2]string {
	paths := [][2]string{{"--rejects", o.rejects}, {"--conflicts", o.conflicts}, {"--delta", o.delta}, {"--temp-dir", o.tempDir}}
	for _, s := range opts.Sources {
		paths = append(paths, [2]string{"input", s.Path})
	}
	for _, s := range opts.Allow {
		paths = append(paths, [2]string{"--allow", s.Path})
	}
	return paths
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
