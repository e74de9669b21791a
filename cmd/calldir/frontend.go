package main

import (
	"github.com/calldir/calldir/compiler"
	"github.com/calldir/calldir/e164"
	"github.com/calldir/calldir/shard"
	"github.com/urfave/cli/v2"
)

// frontEnd holds the options that decide how raw lists are read and
// normalized. compile and validate --raw share them, so a list validated in
// CI compiles the same way in the build.
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
}

func (f *frontEnd) flags(maxRejectsDefault, maxRejectsUsage string) []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "region", Value: "US", Usage: "default `REGION` for national numbers (ISO 3166, e.g. US, GB, FR)", Destination: &f.region},
		&cli.StringFlag{Name: "accept", Value: "possible", Usage: "accept `POLICY`: valid, possible or any", Destination: &f.accept},
		&cli.StringFlag{Name: "kind", Value: "block", Usage: "`KIND` of entries: block or identify", Destination: &f.kind},
		&cli.StringFlag{Name: "input-format", Value: "auto", Usage: "input `FORMAT`: auto (by file name), text, csv or tsv", Destination: &f.format},
		&cli.StringFlag{Name: "column", Usage: "CSV/TSV number column: header `NAME` or 1-based index (default: detected)", Destination: &f.column},
		&cli.StringFlag{Name: "label-column", Usage: "identify: CSV/TSV label column, header `NAME` or 1-based index", Destination: &f.labelColumn},
		&cli.StringFlag{Name: "label", Usage: "identify: one `LABEL` for every number", Destination: &f.label},
		&cli.StringSliceFlag{Name: "allow", Usage: "allowlist `FILE`: its numbers are removed from the output (repeatable)"},
		&cli.StringFlag{Name: "max-rejects", Value: maxRejectsDefault, Usage: maxRejectsUsage, Destination: &f.maxRejects},
		&cli.BoolFlag{Name: "allow-empty", Usage: "accept empty input files", Destination: &f.allowEmpty},
	}
}

// options checks the flags and builds the compiler options for inputs.
func (f *frontEnd) options(c *cli.Context, inputs []string, e *env) (compiler.Options, compiler.Threshold, error) {
	f.allow = c.StringSlice("allow")
	var opts compiler.Options
	if len(inputs) == 0 {
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
		return opts, compiler.Threshold{}, usageError{err}
	}
	if kind == shard.KindBlock && (f.label != "" || f.labelColumn != "") {
		return opts, compiler.Threshold{}, usagef("--label and --label-column need --kind identify")
	}
	opts = compiler.Options{Kind: kind, Normalizer: norm, AllowEmpty: f.allowEmpty, Stdin: e.stdin}
	for _, p := range inputs {
		opts.Sources = append(opts.Sources, compiler.Source{Path: p, Format: format, Column: f.column, LabelColumn: f.labelColumn, Label: f.label})
	}
	for _, p := range f.allow {
		opts.Allow = append(opts.Allow, compiler.Source{Path: p, Format: format, Column: f.column})
	}
	return opts, threshold, nil
}

// manifestOptions records the front-end options in a manifest.
func (f *frontEnd) manifestOptions(opts compiler.Options, maxPerShard int) shard.BuildOptions {
	return shard.BuildOptions{
		Kind: opts.Kind.String(), Region: opts.Normalizer.Region(), Accept: opts.Normalizer.Policy().String(),
		MaxPerShard: maxPerShard, Format: string(opts.Sources[0].Format), Column: f.column, LabelColumn: f.labelColumn, Label: f.label,
	}
}
