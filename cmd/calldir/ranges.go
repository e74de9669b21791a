package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/calldir/calldir/compiler"
	"github.com/urfave/cli/v2"
)

// rangeFlags are compile's options for registers of number ranges
// (--input-format ranges) and for the encoding of every input.
type rangeFlags struct {
	start, end string
	prefix     string
	length     int
	where      []string // from the configuration, or whereFlag
	whereFlag  filterList
	encoding   string
}

// filterList is --where: every use adds one filter. A StringSliceFlag
// would cut "Status=Allocated,Reserved" at its comma.
type filterList []string

func (l *filterList) Set(s string) error { *l = append(*l, s); return nil }
func (l *filterList) String() string     { return strings.Join(*l, " ") }

func (r *rangeFlags) flags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "range-start", Usage: "ranges: the column of each range's first number (header `NAME` or 1-based index; national, with or without the trunk 0)", Destination: &r.start},
		&cli.StringFlag{Name: "range-end", Usage: "ranges: the column of each range's last number (header `NAME` or 1-based index)", Destination: &r.end},
		&cli.StringFlag{Name: "prefix", Usage: "ranges: the column of each block's prefix, such as \"7000 0\" (`NAME` or index; NPA+NXX joins two columns)", Destination: &r.prefix},
		&cli.IntFlag{Name: "length", Usage: "ranges: the `DIGITS` of the numbers a prefix covers, as the register writes them (default: from the numbering plan of --region)", DefaultText: "the plan's", Destination: &r.length},
		&cli.GenericFlag{Name: "where", Usage: "ranges: read only the rows where `COLUMN=VALUE[,VALUE]` holds, such as Status=Allocated (repeatable: every one must hold)", Value: &r.whereFlag},
		&cli.StringFlag{Name: "encoding", Usage: "`ENCODING` of the inputs: utf-8 (the default; a register is checked), latin1 or windows-1252", Destination: &r.encoding},
	}
}

// set reports whether a register's columns or filters are given.
func (r *rangeFlags) set() bool {
	return r.start != "" || r.end != "" || r.prefix != "" || r.length != 0 || len(r.where) > 0
}

// columns are the flags as the compiler takes them.
func (r *rangeFlags) columns() (compiler.RangeColumns, error) {
	rc := compiler.RangeColumns{Start: r.start, End: r.end, Prefix: r.prefix, Length: r.length}
	for _, w := range r.where {
		f, err := compiler.ParseFilter(w)
		if err != nil {
			return rc, usagef("--where: %v", err)
		}
		rc.Where = append(rc.Where, f)
	}
	return rc, nil
}

// apply gives the sources what they leave unset: the encoding to every
// source and allowlist, the columns and filters to a ranges source that
// has none of its own.
func (r *rangeFlags) apply(c *cli.Context, opts *compiler.Options) error {
	if c.IsSet("where") {
		r.where = r.whereFlag
	}
	enc, err := compiler.ParseEncoding(r.encoding)
	if err != nil {
		return usagef("--encoding: %v", err)
	}
	rc, err := r.columns()
	if err != nil {
		return err
	}
	ranges := false
	for i := range opts.Sources {
		s := &opts.Sources[i]
		if s.Encoding == compiler.EncodingDefault {
			s.Encoding = enc
		}
		if s.Format != compiler.FormatRanges {
			continue
		}
		ranges = true
		if s.Ranges.Start == "" && s.Ranges.End == "" && s.Ranges.Prefix == "" {
			s.Ranges.Start, s.Ranges.End, s.Ranges.Prefix = rc.Start, rc.End, rc.Prefix
		}
		if s.Ranges.Length == 0 {
			s.Ranges.Length = rc.Length
		}
		if len(s.Ranges.Where) == 0 {
			s.Ranges.Where = rc.Where
		}
	}
	for i := range opts.Allow {
		a := &opts.Allow[i]
		if a.Encoding == compiler.EncodingDefault {
			a.Encoding = enc
		}
		// --input-format ranges says how the registers read; an --allow
		// list (the first ones) is numbers, read by its name.
		if i < len(c.StringSlice("allow")) && a.Format == compiler.FormatRanges {
			a.Format = compiler.FormatAuto
		}
	}
	if r.set() && !ranges {
		return usagef("--range-start, --range-end, --prefix, --length and --where read a register of ranges: give --input-format ranges (or format = \"ranges\" in its [[source]])")
	}
	return nil
}

// explainRanges words the compiler's errors about registers and
// encodings with the options that fix them; ok is false for any other.
func explainRanges(err error) (msg string, ok bool) {
	var (
		notUTF8 *compiler.NotUTF8Error
		cols    *compiler.RangeColumnsError
	)
	switch {
	case errors.As(err, &notUTF8):
		return err.Error() + "; if the file is Latin-1 (as ARCEP's registers are) or Windows-1252, pass --encoding latin1 or --encoding windows-1252 (encoding = \"latin1\" in its [[source]])", true
	case errors.As(err, &cols) && cols.Length != 0:
		return fmt.Sprintf("--length %d: want 1 to 15 digits", cols.Length), true
	case errors.As(err, &cols):
		return err.Error() + ": give --range-start and --range-end, or --prefix (range_start and range_end, or prefix, in its [[source]])", true
	}
	return "", false
}
