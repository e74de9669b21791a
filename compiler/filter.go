package compiler

import (
	"fmt"
	"strings"
)

// A register's filters (--where) keep the rows whose column holds one of
// the filter's values. Registers hold values with commas in them (ARCEP's
// "Guadeloupe, St Martin et St Barthélemy"), so a filter's values are a
// CSV record: cut at commas, except inside double quotes, where "" is one
// quote. And since a misspelt value drops every row, a register none of
// whose rows passes is refused with what its filter columns did hold
// (FilterValues).

// Filter keeps the rows whose Column holds one of Values (both trimmed,
// compared without regard to case): Status=Allocated.
type Filter struct {
	Column string
	Values []string
}

// ParseFilter reads COLUMN=VALUE[,VALUE…], the values a CSV record:
// Territoire="Guadeloupe, St Martin et St Barthélemy",Martinique. The
// column is the text before the first '=' (or a quoted name). Values are
// trimmed; an empty one is dropped.
func ParseFilter(s string) (Filter, error) {
	bad := func(why string) (Filter, error) {
		return Filter{}, fmt.Errorf("filter %q: %s", s, why)
	}
	col, rest, err := filterColumn(s)
	if err != nil {
		return bad(err.Error())
	}
	if col == "" {
		return bad("want COLUMN=VALUE[,VALUE…]")
	}
	vals, err := csvValues(rest)
	if err != nil {
		return bad(err.Error())
	}
	f := Filter{Column: col}
	for _, v := range vals {
		if v = strings.TrimSpace(v); v != "" {
			f.Values = append(f.Values, v)
		}
	}
	if len(f.Values) == 0 {
		return bad("want COLUMN=VALUE[,VALUE…]")
	}
	return f, nil
}

// filterColumn cuts "COLUMN=rest": the column up to the first '=', or a
// quoted name ("Number=Length"=10).
func filterColumn(s string) (col, rest string, err error) {
	t := strings.TrimSpace(s)
	if strings.HasPrefix(t, `"`) {
		col, after, err := quoted(t)
		if err != nil {
			return "", "", err
		}
		after = strings.TrimSpace(after)
		if !strings.HasPrefix(after, "=") {
			return "", "", fmt.Errorf("want = after the quoted column %q", col)
		}
		return strings.TrimSpace(col), after[1:], nil
	}
	col, rest, ok := strings.Cut(t, "=")
	if !ok {
		return "", "", nil
	}
	return strings.TrimSpace(col), rest, nil
}

// csvValues cuts s as one CSV record: fields at commas; a field that
// starts (after spaces) with '"' runs to its closing quote, "" inside it
// being one quote, and only spaces may follow it. A quote inside an
// unquoted field is kept as it is.
func csvValues(s string) ([]string, error) {
	var out []string
	for {
		t := strings.TrimLeft(s, " \t")
		if !strings.HasPrefix(t, `"`) {
			v, rest, more := strings.Cut(s, ",")
			out = append(out, v)
			if !more {
				return out, nil
			}
			s = rest
			continue
		}
		v, after, err := quoted(t)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
		after = strings.TrimLeft(after, " \t")
		switch {
		case after == "":
			return out, nil
		case after[0] != ',':
			return nil, fmt.Errorf("%q after the quoted value %q: want a comma", after, v)
		}
		s = after[1:]
	}
}

// quoted reads the quoted text at the start of s (s[0] is '"'): its text
// with "" made one quote, and what follows the closing quote.
func quoted(s string) (text, after string, err error) {
	var b strings.Builder
	i := 1
	for {
		j := strings.IndexByte(s[i:], '"')
		if j < 0 {
			return "", "", fmt.Errorf("unterminated quote in %s", s)
		}
		b.WriteString(s[i : i+j])
		i += j + 1
		if i < len(s) && s[i] == '"' {
			b.WriteByte('"')
			i++
			continue
		}
		return b.String(), s[i:], nil
	}
}

// String writes the filter as ParseFilter reads it, quoting what must be.
func (f Filter) String() string {
	var b strings.Builder
	b.WriteString(quoteIf(f.Column, "=\""))
	b.WriteByte('=')
	for i, v := range f.Values {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(quoteIf(v, ",\""))
	}
	return b.String()
}

// quoteIf quotes s, CSV-style, when it holds one of special or starts or
// ends with a space.
func quoteIf(s, special string) string {
	if !strings.ContainsAny(s, special) && strings.TrimSpace(s) == s {
		return s
	}
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

// Bounds of what a source's filter columns are remembered to hold, for
// the message of a register none of whose rows passes: the distinct values
// kept (in the order they first appear), and those the message names.
const (
	maxFilterDistinct = 1000
	shownFilterValues = 8
)

// FilterValues is what one filter of a register saw when none of its rows
// passed the filters: how many rows held one of its values, and the
// distinct values its column held, first seen first.
type FilterValues struct {
	Filter  Filter
	Matched int64    // rows whose column held one of the filter's values
	Values  []string // distinct values of the column (trimmed), at most maxFilterDistinct
	More    bool     // the column held more distinct values than Values
}

// filterSeen collects FilterValues over the rows a source's filters drop.
type filterSeen struct {
	values  []string
	set     map[string]struct{}
	more    bool
	matched int64
}

// add records one value of the filter's column.
func (s *filterSeen) add(v string, matched bool) {
	if matched {
		s.matched++
	}
	if _, ok := s.set[v]; ok {
		return
	}
	if len(s.values) >= maxFilterDistinct {
		s.more = true
		return
	}
	if s.set == nil {
		s.set = map[string]struct{}{}
	}
	s.set[v] = struct{}{}
	s.values = append(s.values, v)
}

// merge adds what a later block saw.
func (s *filterSeen) merge(o *filterSeen) {
	s.matched += o.matched
	s.more = s.more || o.more
	for _, v := range o.values {
		s.add(v, false)
	}
}

// tally records, for a row the filters dropped, what each filter's column
// holds (every filter, not only the first that failed).
func (m *rangeMode) tally(seen *[]filterSeen, fields []string) {
	if len(*seen) == 0 {
		*seen = make([]filterSeen, len(m.where))
	}
	for i, w := range m.where {
		if w.col < len(fields) {
			v := strings.TrimSpace(fields[w.col])
			(*seen)[i].add(v, matchAny(v, w.values))
		}
	}
}

// filterValues is what the filters saw, for EmptyInputError.
func filterValues(filters []Filter, seen []filterSeen) []FilterValues {
	out := make([]FilterValues, len(filters))
	for i, f := range filters {
		out[i].Filter = f
		if i < len(seen) {
			out[i].Matched, out[i].Values, out[i].More = seen[i].matched, seen[i].values, seen[i].more
		}
	}
	return out
}

// filtersText says why no row passed: each filter that matches nothing,
// with the values its column does hold, so that a misspelling shows.
func filtersText(fs []FilterValues) string {
	var parts []string
	none := false
	for _, f := range fs {
		col := quoteIf(f.Filter.Column, "=\"")
		want := quotedList(f.Filter.Values)
		if f.Matched > 0 {
			parts = append(parts, fmt.Sprintf("%s holds %s in %d row(s)", col, want, f.Matched))
			continue
		}
		none = true
		p := fmt.Sprintf("%s never holds %s; %s", col, want, valuesText(f))
		if v := commaValue(f); v != "" {
			p += fmt.Sprintf("; quote a value that holds a comma: %s", Filter{Column: f.Filter.Column, Values: []string{v}})
		}
		parts = append(parts, p)
	}
	s := strings.Join(parts, "; ")
	if !none && len(fs) > 1 {
		s += "; but no row holds them all"
	}
	return s
}

// quotedList is "A", or "A" or "B".
func quotedList(vs []string) string {
	q := make([]string, len(vs))
	for i, v := range vs {
		q[i] = fmt.Sprintf("%q", v)
	}
	return strings.Join(q, " or ")
}

// valuesText names the first values a column holds and counts them all.
func valuesText(f FilterValues) string {
	switch {
	case len(f.Values) == 0:
		return "it holds no value"
	case len(f.Values) == 1 && !f.More:
		return fmt.Sprintf("it holds 1 distinct value: %q", f.Values[0])
	}
	n := fmt.Sprintf("%d distinct values", len(f.Values))
	if f.More {
		n = fmt.Sprintf("more than %d distinct values", len(f.Values))
	}
	shown := f.Values[:min(len(f.Values), shownFilterValues)]
	q := make([]string, len(shown))
	for i, v := range shown {
		q[i] = fmt.Sprintf("%q", v)
	}
	s := "it holds " + n + ": " + strings.Join(q, ", ")
	if len(shown) < len(f.Values) || f.More {
		s += ", …"
	}
	return s
}

// commaValue is a value of the column with a comma in it that the filter's
// values, cut at commas, look like parts of: the filter the user meant.
func commaValue(f FilterValues) string {
	for _, v := range f.Values {
		if !strings.Contains(v, ",") {
			continue
		}
		for _, part := range strings.Split(v, ",") {
			if matchAny(part, f.Filter.Values) {
				return v
			}
		}
	}
	return ""
}
