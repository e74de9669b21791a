package main

import (
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"github.com/calldir/calldir/compiler"
	"github.com/urfave/cli/v2"
)

// rangeOptions are the options of a register of number ranges
// (--input-format ranges) and the encoding of an input. One struct serves
// every place that sets them, so that they cannot drift apart: the flags
// of every command that reads inputs (compile and validate --raw, through
// frontEnd.flags), the top-level keys of a configuration (its sources'
// defaults), the keys of a [[source]], and those of an inline
// "PATH;key=value" (parseInputSpec, which reads these tags). A flag is its
// key with dashes: range_start is --range-start.
type rangeOptions struct {
	Encoding     string `toml:"encoding"`
	RangeStart   string `toml:"range_start"`
	RangeEnd     string `toml:"range_end"`
	Prefix       string `toml:"prefix"`
	Length       int    `toml:"length"`
	LengthColumn string `toml:"length_column"`
	// Where is a list of "COLUMN=VALUE[,VALUE…]" (the flags, inline keys,
	// a TOML array of strings), or a TOML table {COLUMN = "VALUE"} or
	// {COLUMN = ["VALUE", …]} whose values are taken whole, commas and
	// all.
	Where any `toml:"where"`
}

// filterList is --where: every use adds one filter. A StringSliceFlag
// would cut "Status=Allocated,Reserved" at its comma.
type filterList []string

func (l *filterList) Set(s string) error { *l = append(*l, s); return nil }
func (l *filterList) String() string     { return strings.Join(*l, " ") }

// flags are the register and encoding flags, into r (--where into where,
// which options copies to r when it is given).
func (r *rangeOptions) flags(where *filterList) []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "range-start", Usage: "ranges: the column of each range's first number (header `NAME` or 1-based index; national, with or without the trunk 0)", Destination: &r.RangeStart},
		&cli.StringFlag{Name: "range-end", Usage: "ranges: the column of each range's last number (header `NAME` or 1-based index)", Destination: &r.RangeEnd},
		&cli.StringFlag{Name: "prefix", Usage: "ranges: the column of each block's prefix, such as \"7000 0\" (`NAME` or index; NPA+NXX joins two columns)", Destination: &r.Prefix},
		&cli.IntFlag{Name: "length", Usage: "ranges: the `DIGITS` of the numbers a prefix covers, as the register writes them; a prefix that long is one number", DefaultText: "from the numbering plan of --region", Destination: &r.Length},
		&cli.StringFlag{Name: "length-column", Usage: "ranges: the column giving each row's length (`NAME` or index; \"10\", \"10 digits\", \"(0)+10\"), for registers that mix lengths; an empty field takes --length", Destination: &r.LengthColumn},
		&cli.GenericFlag{Name: "where", Usage: "ranges: read only the rows where `COLUMN=VALUE[,VALUE]` holds, such as Status=Allocated; quote a value with a comma, CSV-style: 'Territoire=\"Guadeloupe, St Martin\"' (repeatable: every one must hold)", Value: where},
		&cli.StringFlag{Name: "encoding", Usage: "`ENCODING` of the inputs: utf-8 (the default; a register is checked), latin1 or windows-1252", Destination: &r.Encoding},
	}
}

// set reports whether a register's columns or filters are given.
func (r *rangeOptions) set() bool {
	return r.RangeStart != "" || r.RangeEnd != "" || r.Prefix != "" || r.Length != 0 || r.LengthColumn != "" || r.Where != nil
}

// keyError is a bad value of a configuration key (its name in the table).
type keyError struct {
	key string
	err error
}

func (e *keyError) Error() string { return e.key + ": " + e.err.Error() }

// columns reads the encoding, columns and filters as the compiler takes
// them.
func (r rangeOptions) columns() (compiler.Encoding, compiler.RangeColumns, *keyError) {
	rc := compiler.RangeColumns{Start: r.RangeStart, End: r.RangeEnd, Prefix: r.Prefix, Length: r.Length, LengthColumn: r.LengthColumn}
	enc, err := compiler.ParseEncoding(r.Encoding)
	if err != nil {
		return enc, rc, &keyError{"encoding", err}
	}
	if r.Length < 0 || r.Length > 15 {
		return enc, rc, &keyError{"length", fmt.Errorf("%d digits: want 1 to 15", r.Length)}
	}
	if rc.Where, err = whereFilters(r.Where); err != nil {
		return enc, rc, &keyError{"where", err}
	}
	return enc, rc, nil
}

// whereFilters reads the filters in any form rangeOptions.Where takes.
func whereFilters(v any) ([]compiler.Filter, error) {
	var texts []string
	switch w := v.(type) {
	case nil:
		return nil, nil
	case []string:
		texts = w
	case []any:
		for _, x := range w {
			s, ok := x.(string)
			if !ok {
				return nil, fmt.Errorf("%v: want strings such as \"Status=Allocated\"", x)
			}
			texts = append(texts, s)
		}
	case map[string]any:
		return whereTable(w)
	default:
		return nil, fmt.Errorf("want an array of \"COLUMN=VALUE,…\" strings or a table {COLUMN = [\"VALUE\", …]}")
	}
	var out []compiler.Filter
	for _, s := range texts {
		f, err := compiler.ParseFilter(s)
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, nil
}

// whereTable reads where = {Territoire = ["Guadeloupe, St Martin et St
// Barthélemy"], Statut = "Attribuée"}: a value is taken whole. The
// filters come in the order of their columns' names.
func whereTable(t map[string]any) ([]compiler.Filter, error) {
	cols := make([]string, 0, len(t))
	for c := range t {
		cols = append(cols, c)
	}
	sort.Strings(cols)
	var out []compiler.Filter
	for _, c := range cols {
		f := compiler.Filter{Column: strings.TrimSpace(c)}
		var vals []any
		switch v := t[c].(type) {
		case string:
			vals = []any{v}
		case []any:
			vals = v
		default:
			return nil, fmt.Errorf("%s: want a string or an array of strings", c)
		}
		for _, x := range vals {
			s, ok := x.(string)
			if !ok {
				return nil, fmt.Errorf("%s: %v: want strings", c, x)
			}
			if s = strings.TrimSpace(s); s != "" {
				f.Values = append(f.Values, s)
			}
		}
		if f.Column == "" || len(f.Values) == 0 {
			return nil, fmt.Errorf("%s: want a column name and at least one value", c)
		}
		out = append(out, f)
	}
	return out, nil
}

// keyFields lists the fields of a struct value (its embedded structs'
// too) by their TOML key.
func keyFields(v reflect.Value, out map[string]reflect.Value, order *[]string) {
	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		if f.Anonymous && f.Type.Kind() == reflect.Struct {
			keyFields(v.Field(i), out, order)
			continue
		}
		key, _, _ := strings.Cut(f.Tag.Get("toml"), ",")
		if key == "" || key == "-" {
			continue
		}
		out[key] = v.Field(i)
		*order = append(*order, key)
	}
}

// setKey sets a key of an input's options from its text: a string, a
// number, or (where) one more filter.
func setKey(field reflect.Value, value string) error {
	switch field.Kind() {
	case reflect.String:
		field.SetString(value)
	case reflect.Int:
		n, err := strconv.Atoi(strings.TrimSpace(value))
		if err != nil {
			return fmt.Errorf("%q: want a number", value)
		}
		field.SetInt(int64(n))
	case reflect.Interface: // where: one filter a key
		list, _ := field.Interface().([]string)
		field.Set(reflect.ValueOf(append(list, value)))
	default:
		return fmt.Errorf("cannot be given inline")
	}
	return nil
}

// defaultsFrom takes top's keys (a configuration's top level) as the
// defaults of the flags not set on the command line.
func (r *rangeOptions) defaultsFrom(top rangeOptions, set func(string) bool) {
	dst, src := map[string]reflect.Value{}, map[string]reflect.Value{}
	var keys []string
	keyFields(reflect.ValueOf(r).Elem(), dst, &keys)
	keyFields(reflect.ValueOf(top), src, new([]string))
	for _, k := range keys {
		if v := src[k]; !v.IsZero() && !set(strings.ReplaceAll(k, "_", "-")) {
			dst[k].Set(v)
		}
	}
}

// apply gives the sources what they leave unset: the encoding to every
// source and allowlist, the columns, length and filters to a ranges source
// that has none of its own. nAllow is the number of --allow lists, the
// first of opts.Allow.
func (r *rangeOptions) apply(opts *compiler.Options, nAllow int) error {
	enc, rc, kerr := r.columns()
	if kerr != nil && kerr.key == "length" {
		return usagef("--length %d: want 1 to 15 digits", r.Length)
	}
	if kerr != nil {
		return usagef("--%s: %v", strings.ReplaceAll(kerr.key, "_", "-"), kerr.err)
	}
	if (rc.Start != "" || rc.End != "") && rc.Prefix == "" && (rc.Length != 0 || rc.LengthColumn != "") {
		return usagef("--length and --length-column give the length of a prefix's numbers (--prefix): --range-start and --range-end give their numbers whole")
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
		if s.Ranges.Prefix != "" && s.Ranges.Length == 0 {
			s.Ranges.Length = rc.Length
		}
		if s.Ranges.Prefix != "" && s.Ranges.LengthColumn == "" {
			s.Ranges.LengthColumn = rc.LengthColumn
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
		// list is numbers, read by its name.
		if i < nAllow && a.Format == compiler.FormatRanges {
			a.Format = compiler.FormatAuto
		}
	}
	if r.set() && !ranges {
		return usagef("--range-start, --range-end, --prefix, --length, --length-column and --where read a register of ranges: give --input-format ranges (or format = \"ranges\" in its [[source]])")
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
	case errors.As(err, &cols) && cols.LengthWithEnds:
		return err.Error() + ": drop --length and --length-column (length, length_column), or read the register by --prefix", true
	case errors.As(err, &cols):
		return err.Error() + ": give --range-start and --range-end, or --prefix (range_start and range_end, or prefix, in its [[source]])", true
	}
	return "", false
}
