package main

import (
	"fmt"
	"io"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/calldir/calldir/compiler"
	"github.com/calldir/calldir/e164"
	"github.com/calldir/calldir/shard"
	"github.com/urfave/cli/v2"
)

// frontEnd holds the options that decide how raw lists and registers are
// read and normalized. Every command that reads inputs (compile, validate
// --raw) takes its flags from flags and builds its sources with options,
// and a configuration's keys and an input's inline keys are the same
// fields (configSource, rangeOptions), so a list or register validated in
// CI is read exactly as the build reads it.
type frontEnd struct {
	region      string
	accept      string
	kind        string
	format      string
	column      string
	labelColumn string
	label       string
	maxRejects  string
	allowEmpty  bool
	allow       []string
	rng         rangeOptions // --range-start … --encoding: every input's defaults
	where       filterList   // --where, copied to rng.Where when given
	// From a configuration file: sources with their own options, and
	// patterns.
	extra      []compiler.Source
	extraAllow []compiler.Source
	ranges     []compiler.Range
}

func (f *frontEnd) flags(maxRejectsDefault, maxRejectsUsage string) []cli.Flag {
	return append([]cli.Flag{
		&cli.StringFlag{Name: "region", Value: "US", Usage: "default `REGION` for national numbers (ISO 3166, e.g. US, GB, FR)", Destination: &f.region},
		&cli.StringFlag{Name: "accept", Value: "possible", Usage: "accept `POLICY`: valid, possible or any", Destination: &f.accept},
		&cli.StringFlag{Name: "kind", Value: "block", Usage: "`KIND` of entries: block or identify", Destination: &f.kind},
		&cli.StringFlag{Name: "input-format", Value: "auto", Usage: "input `FORMAT`: auto (by file name), text, csv, tsv, or ranges (a number-range register: see --range-start, --prefix)", Destination: &f.format},
		&cli.StringFlag{Name: "column", Usage: "CSV/TSV number column: header `NAME` or 1-based index (default: detected)", Destination: &f.column},
		&cli.StringFlag{Name: "label-column", Usage: "identify: CSV/TSV label column, header `NAME` or 1-based index", Destination: &f.labelColumn},
		&cli.StringFlag{Name: "label", Usage: "identify: one `LABEL` for every number", Destination: &f.label},
		&cli.StringSliceFlag{Name: "allow", Usage: "allowlist `FILE`: its numbers, and a text list's patterns and ranges (+1 212 555 01##), are removed from the output (repeatable)"},
		&cli.StringFlag{Name: "max-rejects", Value: maxRejectsDefault, Usage: maxRejectsUsage, Destination: &f.maxRejects},
		&cli.BoolFlag{Name: "allow-empty", Usage: "accept empty input files, and a build (or delta) that leaves an extension with no entries", Destination: &f.allowEmpty},
	}, f.rng.flags(&f.where)...)
}

// options checks the flags and builds the compiler options for inputs:
// their sources, each with its own options (inline keys, a [[source]]'s)
// over the command's.
func (f *frontEnd) options(c *cli.Context, inputs []string, e *env) (compiler.Options, compiler.Threshold, error) {
	f.allow = c.StringSlice("allow")
	if c.IsSet("where") {
		f.rng.Where = []string(f.where)
	}
	var opts compiler.Options
	if len(inputs) == 0 && len(f.extra) == 0 && len(f.ranges) == 0 {
		return opts, compiler.Threshold{}, usagef("no input files (give one or more paths, or - for stdin)")
	}
	policy, err := e164.ParsePolicy(f.accept)
	if err != nil {
		return opts, compiler.Threshold{}, usageError{err}
	}
	norm, err := e164.New(f.region, policy)
	if err != nil {
		return opts, compiler.Threshold{}, usageError{err}
	}
	kind, err := shard.ParseKind(f.kind)
	if err != nil {
		return opts, compiler.Threshold{}, usageError{err}
	}
	format, err := compiler.ParseFormat(f.format)
	if err != nil {
		return opts, compiler.Threshold{}, usageError{err}
	}
	threshold, err := compiler.ParseThreshold(f.maxRejects)
	if err != nil {
		return opts, compiler.Threshold{}, usagef("--max-rejects: %v", err)
	}
	if err := checkColumn(f.column); err != nil {
		return opts, compiler.Threshold{}, usagef("--column %v", err)
	}
	if err := checkColumn(f.labelColumn); err != nil {
		return opts, compiler.Threshold{}, usagef("--label-column %v", err)
	}
	if kind == shard.KindBlock && (f.label != "" || f.labelColumn != "") {
		return opts, compiler.Threshold{}, usagef("--label and --label-column need --kind identify")
	}
	opts = compiler.Options{Kind: kind, Normalizer: norm, AllowEmpty: f.allowEmpty, Stdin: e.stdin}
	for _, p := range inputs {
		spec, err := parseInputSpec(p)
		if fileExists(p) { // "a;b=c.txt" that names a file is that file
			spec, err = configSource{Path: p}, nil
		}
		if err != nil {
			return opts, compiler.Threshold{}, usageError{err}
		}
		src, err := f.sourceFrom(spec)
		if err != nil {
			return opts, compiler.Threshold{}, usageError{fmt.Errorf("%s: %w", p, err)}
		}
		opts.Sources = append(opts.Sources, f.withDefaults(src, format))
	}
	for _, p := range f.allow {
		opts.Allow = append(opts.Allow, compiler.Source{Path: p, Format: format, Column: f.column})
	}
	for _, s := range f.extra {
		opts.Sources = append(opts.Sources, f.withDefaults(s, format))
	}
	opts.Allow = append(opts.Allow, f.extraAllow...)
	opts.Sources = readOnce(e.stderr, "input", opts.Sources)
	opts.Allow = readOnce(e.stderr, "allowlist", opts.Allow)
	opts.Ranges = f.ranges
	if err := f.rng.apply(&opts, len(f.allow)); err != nil {
		return opts, compiler.Threshold{}, err
	}
	return opts, threshold, nil
}

// withDefaults fills what a source leaves unset from the command's own
// options.
func (f *frontEnd) withDefaults(s compiler.Source, format compiler.Format) compiler.Source {
	if s.Format == compiler.FormatAuto {
		s.Format = format
	}
	if s.Column == "" {
		s.Column = f.column
	}
	if s.LabelColumn == "" && s.Label == "" {
		s.LabelColumn, s.Label = f.labelColumn, f.label
	}
	return s
}

// manifestOptions records the front-end options in a manifest.
func (f *frontEnd) manifestOptions(opts compiler.Options, maxPerShard int) shard.BuildOptions {
	return shard.BuildOptions{
		Kind: opts.Kind.String(), Region: opts.Normalizer.Region(), Accept: opts.Normalizer.Policy().String(),
		MaxPerShard: maxPerShard, Format: string(f.formatOrAuto()), Column: f.column, LabelColumn: f.labelColumn, Label: f.label,
	}
}

func (f *frontEnd) formatOrAuto() compiler.Format {
	if f.format == "" {
		return compiler.FormatAuto
	}
	return compiler.Format(f.format)
}

// sourceOnlyKeys are the keys of a [[source]] an input argument does not
// take after its path: what it is (path, or url with its pin and
// optional) and its kind.
var sourceOnlyKeys = []string{"path", "url", "sha256", "optional", "kind"}

// inputKeys are the options an input may carry after its path, as in
// "uk.tsv.gz;region=GB;accept=valid" or "reg.csv;prefix=NPA+NXX": the keys
// of a [[source]] (configSource's), but sourceOnlyKeys.
var inputKeys = func() []string {
	var keys []string
	keyFields(reflect.ValueOf(configSource{}), map[string]reflect.Value{}, &keys)
	return slices.DeleteFunc(keys, func(k string) bool { return slices.Contains(sourceOnlyKeys, k) })
}()

// parseInputSpec splits "PATH;key=value;…". A path without ";key=" is
// taken whole. A value may hold ';' inside double quotes
// (where=Territoire="A; B"); where may be given more than once.
func parseInputSpec(s string) (configSource, error) {
	cs := configSource{Path: s}
	parts := splitOutsideQuotes(s, ';')
	if len(parts) == 1 || !strings.Contains(parts[1], "=") {
		return cs, nil
	}
	cs.Path = parts[0]
	fields := map[string]reflect.Value{}
	keyFields(reflect.ValueOf(&cs).Elem(), fields, new([]string))
	for _, kv := range parts[1:] {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return cs, fmt.Errorf("input %q: %q is not key=value", s, kv)
		}
		k = strings.TrimSpace(k)
		if !slices.Contains(inputKeys, k) {
			return cs, fmt.Errorf("input %q: unknown option %q (known: %s)", s, k, strings.Join(inputKeys, ", "))
		}
		if err := setKey(fields[k], v); err != nil {
			return cs, fmt.Errorf("input %q: %s: %v", s, k, err)
		}
	}
	return cs, nil
}

// fileExists reports whether path names something on disk: an input
// argument that does is read as a file, whole, even if it holds
// ";key=value".
func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// readOnce drops a source that repeats an earlier one: the same file
// (same device and inode, whatever the path: ./a.txt, a symlink, two
// globs that match it) read with the same options. Reading it twice would
// only count its numbers again, as "in an earlier source"; each dropped
// argument gets a warning on w, so that the summary's file count is
// explained. The same file with other options (another column, region)
// is another source and is kept. Paths that cannot be read are kept, for
// the compiler to report.
func readOnce(w io.Writer, role string, srcs []compiler.Source) []compiler.Source {
	var kept []compiler.Source
	var infos []os.FileInfo
	for _, s := range srcs {
		var fi os.FileInfo
		if s.Path != "-" {
			fi, _ = os.Stat(s.Path)
		}
		dup := -1
		for i, k := range kept {
			if fi != nil && infos[i] != nil && os.SameFile(fi, infos[i]) && sameOptions(s, k) {
				dup = i
				break
			}
		}
		switch {
		case dup >= 0 && s.Path == kept[dup].Path:
			warnGivenTwice(w, role, s.Path)
			continue
		case dup >= 0:
			fmt.Fprintf(w, "calldir: warning: %s %s is the same file as %s: read once\n", role, s.Path, kept[dup].Path)
			continue
		}
		kept, infos = append(kept, s), append(infos, fi)
	}
	return kept
}

// warnGivenTwice says an input (a file, or a URL) given twice is read once.
func warnGivenTwice(w io.Writer, role, name string) {
	fmt.Fprintf(w, "calldir: warning: %s %s given twice: read once\n", role, name)
}

// sameOptions reports whether two sources are read alike: all but their
// paths equal, a normalizer by its region and policy.
func sameOptions(a, b compiler.Source) bool {
	norm := func(n *e164.Normalizer) string {
		if n == nil {
			return ""
		}
		return n.Region() + " " + n.Policy().String()
	}
	if norm(a.Normalizer) != norm(b.Normalizer) {
		return false
	}
	a.Path, b.Path, a.Normalizer, b.Normalizer = "", "", nil, nil
	return reflect.DeepEqual(a, b)
}

// splitOutsideQuotes cuts s at sep, except between double quotes.
func splitOutsideQuotes(s string, sep byte) []string {
	var parts []string
	quoted, from := false, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '"':
			quoted = !quoted
		case sep:
			if !quoted {
				parts = append(parts, s[from:i])
				from = i + 1
			}
		}
	}
	return append(parts, s[from:])
}

// checkColumn refuses a column number below 1: columns are numbered from
// 1, and "0" would otherwise be looked up as a header name (and, for a
// text list, ignored).
func checkColumn(s string) error {
	if n, err := strconv.Atoi(strings.TrimSpace(s)); err == nil && n < 1 {
		return fmt.Errorf("%s: want a header NAME or a column number from 1", s)
	}
	return nil
}

// sourceFrom turns an input's own options into a compiler source; a
// source with its own region or accept policy gets its own normalizer.
func (f *frontEnd) sourceFrom(s configSource) (compiler.Source, error) {
	cs := compiler.Source{Path: s.Path, Format: compiler.FormatAuto, Column: s.Column, LabelColumn: s.LabelColumn, Label: s.Label}
	if err := checkColumn(s.Column); err != nil {
		return cs, fmt.Errorf("column %v", err)
	}
	if err := checkColumn(s.LabelColumn); err != nil {
		return cs, fmt.Errorf("label_column %v", err)
	}
	var kerr *keyError
	if cs.Encoding, cs.Ranges, kerr = s.rangeOptions.columns(); kerr != nil {
		return cs, kerr
	}
	if s.Format != "" {
		ff, err := compiler.ParseFormat(s.Format)
		if err != nil {
			return cs, err
		}
		cs.Format = ff
	}
	if s.Region == "" && s.Accept == "" {
		return cs, nil
	}
	region, accept := s.Region, s.Accept
	if region == "" {
		region = f.region
	}
	if accept == "" {
		accept = f.accept
	}
	policy, err := e164.ParsePolicy(accept)
	if err != nil {
		return cs, err
	}
	cs.Normalizer, err = e164.New(region, policy)
	return cs, err
}
