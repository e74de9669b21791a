package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"

	"github.com/calldir/calldir/compiler"
	"github.com/calldir/calldir/compiler/fetch"
	"github.com/calldir/calldir/e164"
	"github.com/calldir/calldir/shard"
	"github.com/pelletier/go-toml/v2"
	"github.com/pelletier/go-toml/v2/unstable"
)

// config is the TOML build configuration of compile --config. Keys are the
// long flag names with underscores; command-line flags override them.
type config struct {
	Out         string `toml:"out"`
	Region      string `toml:"region"`
	Accept      string `toml:"accept"`
	Kind        string `toml:"kind"`
	InputFormat string `toml:"input_format"`
	MaxPerShard int    `toml:"max_per_shard"`
	Memory      string `toml:"memory"`
	TempDir     string `toml:"temp_dir"`
	Rejects     string `toml:"rejects"`
	Conflicts   string `toml:"conflicts"`
	MaxRejects  string `toml:"max_rejects"`
	AllowEmpty  bool   `toml:"allow_empty"`
	MaxShrink   string `toml:"max_shrink"`
	Base        string `toml:"base"`
	Delta       string `toml:"delta"`
	Chunk       int    `toml:"chunk"`
	rangeOptions
	Sources    []configSource  `toml:"source"`
	Allow      []configSource  `toml:"allow"`
	Protect    []configSource  `toml:"protect"` // protect lists, given as [[allow]] is (compile_json.go)
	Patterns   []configPattern `toml:"pattern"`
	LiveLookup configLive      `toml:"live_lookup"`
}

// configSource is one [[source]] or [[allow]]: a path or glob, or a url,
// and the options of that input. Its keys but sourceOnlyKeys are also
// those an input takes inline, "PATH;key=value" (parseInputSpec).
type configSource struct {
	Path string `toml:"path"`
	// URL, instead of a path, is a list fetched into the cache
	// (docs/SOURCES.md), pinned by SHA256 when given; an Optional one
	// that cannot be fetched is left out with a warning.
	URL         string `toml:"url"`
	SHA256      string `toml:"sha256"`
	Optional    bool   `toml:"optional"`
	Format      string `toml:"format"`
	Column      string `toml:"column"`
	LabelColumn string `toml:"label_column"`
	Label       string `toml:"label"`
	Region      string `toml:"region"`
	Accept      string `toml:"accept"`
	Kind        string `toml:"kind"`
	// The keys of a register of ranges (format = "ranges") and of the
	// encoding, here or at the top (every source's default): the same
	// struct as the flags' (ranges.go).
	rangeOptions
}

// configPattern is one [[pattern]]: "+33 162 ######" or "A..B".
type configPattern struct {
	Pattern string `toml:"pattern"`
}

// configError names the file, line and key of a configuration problem.
type configError struct {
	file string
	line int
	key  string
	msg  string
}

func (e *configError) Error() string {
	loc := e.file
	if e.line > 0 {
		loc = fmt.Sprintf("%s:%d", e.file, e.line)
	}
	if e.key != "" {
		return fmt.Sprintf("%s: %s: %s", loc, e.key, e.msg)
	}
	return fmt.Sprintf("%s: %s", loc, e.msg)
}

// loadConfig reads and checks a configuration file. Unknown keys and
// wrong types are errors with the file, line and key.
func loadConfig(path string) (*config, []byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, usageError{err}
	}
	var c config
	dec := toml.NewDecoder(bytes.NewReader(b)).DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		var sm *toml.StrictMissingError
		if errors.As(err, &sm) && len(sm.Errors) > 0 {
			d := sm.Errors[0]
			row, _ := d.Position()
			return nil, nil, usageError{&configError{file: path, line: row, key: strings.Join(d.Key(), "."), msg: "unknown key (see calldir init for the known ones)"}}
		}
		var de *toml.DecodeError
		if errors.As(err, &de) {
			row, _ := de.Position()
			key, msg := typeError(de.Key(), de.Error())
			return nil, nil, usageError{&configError{file: path, line: row, key: tableIndex(key, configLines(b), row), msg: msg}}
		}
		return nil, nil, usageError{&configError{file: path, msg: err.Error()}}
	}
	return &c, b, nil
}

// decodeMismatch is go-toml's wording of a value of the wrong type:
// "toml: cannot decode TOML string into struct field main.config.MaxPerShard
// of type int". Its TOML type and Go field name are read back so that the
// message names the key and the types in the file's terms.
var decodeMismatch = regexp.MustCompile(`^toml: cannot decode TOML (.+) into struct field \S*?\.(\w+) of type (\S+)$`)

// typeError words a decode error of the key at path: "want an integer,
// got a string" for a type mismatch, go-toml's own message without its
// prefix otherwise (a number too large, a bad date).
func typeError(path []string, text string) (key, msg string) {
	key = strings.Join(path, ".")
	m := decodeMismatch.FindStringSubmatch(text)
	if m == nil {
		return key, strings.TrimPrefix(text, "toml: ")
	}
	got, field, goType := m[1], m[2], m[3]
	t, ok := keyType(reflect.TypeOf(config{}), path)
	if !ok {
		return key, strings.TrimPrefix(text, "toml: ")
	}
	// A value inside an inline table (source = [{path = 3}]) is reported
	// at the table's key: name the field too.
	if st := structOf(t); st != nil {
		if name, ft, ok := tomlField(st, field); ok {
			key, t = key+"."+name, ft
		}
	}
	want := typeWords(t)
	gotWords := article(got)
	// An element of an array (key_forms = [1]) is reported with the
	// element's Go type.
	if t.Kind() == reflect.Slice && goType != t.String() && got != "array" {
		gotWords = "an array holding " + gotWords
	}
	return key, fmt.Sprintf("want %s, got %s", want, gotWords)
}

// tableIndex names the table of an array of tables that holds line row,
// as the other messages do: "source.column" on line 9 is
// "source[1].column" when the second [[source]] starts before it.
func tableIndex(key string, lines map[string]int, row int) string {
	table, rest, ok := strings.Cut(key, ".")
	if !ok {
		return key
	}
	at, atLine, shared := -1, 0, false
	for i := 0; ; i++ {
		l, ok := lines[fmt.Sprintf("%s[%d]", table, i)]
		if !ok || l > row {
			break
		}
		at, shared, atLine = i, l == atLine, l
	}
	if at < 0 || shared { // two inline tables on one line: which is unknown
		return key
	}
	return fmt.Sprintf("%s[%d].%s", table, at, rest)
}

// keyType follows a dotted key through the configuration's types by
// their toml tags, into embedded structs and array elements.
func keyType(t reflect.Type, path []string) (reflect.Type, bool) {
	for _, k := range path {
		st := structOf(t)
		if st == nil {
			return nil, false
		}
		ft, ok := tagField(st, k)
		if !ok {
			return nil, false
		}
		t = ft
	}
	return t, true
}

// structOf is t's struct type, through a slice or a pointer; nil when t
// holds no struct.
func structOf(t reflect.Type) reflect.Type {
	for t.Kind() == reflect.Slice || t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return nil
	}
	return t
}

// tagField finds the field of struct t whose toml key is key.
func tagField(t reflect.Type, key string) (reflect.Type, bool) {
	for i := range t.NumField() {
		f := t.Field(i)
		if f.Anonymous && f.Type.Kind() == reflect.Struct {
			if ft, ok := tagField(f.Type, key); ok {
				return ft, true
			}
			continue
		}
		if k, _, _ := strings.Cut(f.Tag.Get("toml"), ","); k == key {
			return f.Type, true
		}
	}
	return nil, false
}

// tomlField finds the Go field name of struct t and returns its toml key.
func tomlField(t reflect.Type, name string) (string, reflect.Type, bool) {
	f, ok := t.FieldByName(name)
	if !ok {
		return "", nil, false
	}
	k, _, _ := strings.Cut(f.Tag.Get("toml"), ",")
	return k, f.Type, k != "" && k != "-"
}

// typeWords names a Go field type as the TOML value it takes.
func typeWords(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Pointer:
		return typeWords(t.Elem())
	case reflect.String:
		return "a string"
	case reflect.Int, reflect.Int64, reflect.Uint32:
		return "an integer"
	case reflect.Bool:
		return "true or false"
	case reflect.Struct:
		return "a table"
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Struct {
			return "an array of tables"
		}
		return "an array of " + strings.TrimPrefix(strings.TrimPrefix(typeWords(t.Elem()), "a "), "an ") + "s"
	}
	return "a value of another type" // where: checked by its own rules
}

// article puts "a" or "an" before a TOML type's name.
func article(s string) string {
	if strings.IndexByte("aeiou", s[0]) >= 0 {
		return "an " + s
	}
	return "a " + s
}

// configLines maps every key of a configuration to its line, named as
// in messages: "region", "source[1]" (the table's header), "source[1].region".
// [[table]] headers and arrays of inline tables (source = [{…}, {…}]) are
// numbered alike. The positions come from go-toml's parser, so quoting,
// comments and spacing cannot mislead it; the file has already decoded, so
// the parse succeeds.
func configLines(src []byte) map[string]int {
	lines := map[string]int{}
	var p unstable.Parser
	p.Reset(src)
	line := func(n *unstable.Node) int {
		if n.Raw.Length == 0 {
			return 0
		}
		return p.Shape(n.Raw).Start.Line
	}
	// key joins a dotted key and gives the line of its first part.
	key := func(n *unstable.Node) (string, int) {
		var parts []string
		at := 0
		for it := n.Key(); it.Next(); {
			k := it.Node()
			parts = append(parts, string(k.Data))
			if at == 0 {
				at = line(k)
			}
		}
		return strings.Join(parts, "."), at
	}
	var keyValue func(prefix string, kv *unstable.Node)
	keyValue = func(prefix string, kv *unstable.Node) {
		k, at := key(kv)
		name := prefix + k
		lines[name] = at
		switch v := kv.Value(); v.Kind {
		case unstable.InlineTable:
			for it := v.Children(); it.Next(); {
				keyValue(name+".", it.Node())
			}
		case unstable.Array:
			i := 0
			for it := v.Children(); it.Next(); i++ {
				el := it.Node()
				if el.Kind != unstable.InlineTable {
					continue
				}
				table := fmt.Sprintf("%s[%d]", name, i)
				lines[table] = max(line(el), at)
				for kt := el.Children(); kt.Next(); {
					keyValue(table+".", kt.Node())
				}
			}
		}
	}
	count := map[string]int{}
	table := ""
	for p.NextExpression() {
		e := p.Expression()
		switch e.Kind {
		case unstable.ArrayTable:
			k, at := key(e)
			table = fmt.Sprintf("%s[%d]", k, count[k])
			count[k]++
			lines[table] = at
		case unstable.Table:
			k, at := key(e)
			table = k
			lines[table] = at
		case unstable.KeyValue:
			prefix := ""
			if table != "" {
				prefix = table + "."
			}
			keyValue(prefix, e)
		}
	}
	return lines
}

// configFile is a configuration being applied: its path, directory and
// the line of each key, for messages.
type configFile struct {
	path, dir string
	lines     map[string]int
}

// rel makes a path of the configuration relative to its directory.
func (f *configFile) rel(p string) string {
	if p == "" || p == "-" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(f.dir, p)
}

// badKey reports a key's value with the key's line (or, for a key that is
// missing, its table's).
func (f *configFile) badKey(name, table, format string, a ...any) error {
	line := f.lines[name]
	if line == 0 {
		line = f.lines[table]
	}
	return usageError{&configError{file: f.path, line: line, key: name, msg: fmt.Sprintf(format, a...)}}
}

// bad reports the key of the i-th table of a [[table]] array.
func (f *configFile) bad(table string, i int, key, format string, a ...any) error {
	t := fmt.Sprintf("%s[%d]", table, i)
	return f.badKey(t+"."+key, t, format, a...)
}

// applyConfig fills compile options from the configuration, leaving the
// flags set on the command line as they are.
func applyConfig(path string, c *config, src []byte, o *compileOpts, set func(string) bool) error {
	f := &configFile{path: path, dir: filepath.Dir(path), lines: configLines(src)}
	o.configDefaults(f, c, set)
	if err := f.checkValues(c, set); err != nil {
		return err
	}
	srcs, err := f.expand("source", c.Sources, o.kind)
	if err != nil {
		return err
	}
	allow, err := f.expand("allow", c.Allow, o.kind)
	if err != nil {
		return err
	}
	for _, s := range srcs {
		cs, err := o.sourceFrom(s) // its values checked by checkValues
		if err != nil {
			return usageError{&configError{file: path, msg: err.Error()}}
		}
		o.fetchLater(&cs, s)
		o.extra = append(o.extra, cs)
	}
	for _, s := range allow {
		cs, err := o.sourceFrom(s)
		if err != nil {
			return usageError{&configError{file: path, msg: err.Error()}}
		}
		o.fetchLater(&cs, s)
		cs.Ranges = compiler.RangeColumns{}
		cs.Label, cs.LabelColumn = "", ""
		o.extraAllow = append(o.extraAllow, cs)
	}
	if err := o.ops.fromConfig(f, c.Protect, o); err != nil {
		return err
	}
	if err := applyLiveConfig(c.LiveLookup, &o.live, set, f.rel, f.badKey); err != nil {
		return err
	}
	for i, p := range c.Patterns {
		r, err := compiler.ParsePattern(p.Pattern)
		if err != nil {
			return f.bad("pattern", i, "pattern", "%v", err)
		}
		r.Source, r.Line = path, int64(f.lines[fmt.Sprintf("pattern[%d].pattern", i)])
		o.ranges = append(o.ranges, r)
	}
	return nil
}

// configDefaults takes the top-level keys as the defaults of the flags not
// set on the command line.
func (o *compileOpts) configDefaults(f *configFile, c *config, set func(string) bool) {
	str := func(flag string, dst *string, v string) {
		if v != "" && !set(flag) {
			*dst = v
		}
	}
	str("out", &o.out, f.rel(c.Out))
	str("max-shrink", &o.maxShrink, c.MaxShrink)
	str("region", &o.region, c.Region)
	str("accept", &o.accept, c.Accept)
	str("kind", &o.kind, c.Kind)
	str("input-format", &o.format, c.InputFormat)
	str("memory", &o.memory, c.Memory)
	str("temp-dir", &o.tempDir, f.rel(c.TempDir))
	str("rejects", &o.rejects, f.rel(c.Rejects))
	str("conflicts", &o.conflicts, f.rel(c.Conflicts))
	str("max-rejects", &o.maxRejects, c.MaxRejects)
	str("base", &o.base, f.rel(c.Base))
	str("delta", &o.delta, f.rel(c.Delta))
	if c.MaxPerShard != 0 && !set("max-per-shard") {
		o.maxPerShard = c.MaxPerShard
	}
	if c.Chunk != 0 && !set("chunk") {
		o.chunk = c.Chunk
	}
	if c.AllowEmpty && !set("allow-empty") {
		o.allowEmpty = true
	}
	o.rng.defaultsFrom(c.rangeOptions, set)
}

// checkValues checks the values that parse but name nothing known, here
// where the line is known: later they would fail without it.
func (f *configFile) checkValues(c *config, set func(string) bool) error {
	if c.Region != "" && !set("region") {
		if _, err := e164.New(c.Region, e164.PolicyPossible); err != nil {
			return f.badKey("region", "", "%v", err)
		}
	}
	if c.Accept != "" && !set("accept") {
		if _, err := e164.ParsePolicy(c.Accept); err != nil {
			return f.badKey("accept", "", "%v", err)
		}
	}
	// Numbers are checked when the key is in the file, whatever its
	// value: an absent key and 0 decode alike, and 0 is no shard size.
	if _, ok := f.lines["max_per_shard"]; ok && !set("max-per-shard") {
		var me *shard.MaxPerShardError
		if err := shard.CheckMaxPerShard(c.MaxPerShard); errors.As(err, &me) {
			return f.badKey("max_per_shard", "", "%v", me)
		}
	}
	if _, ok := f.lines["chunk"]; ok && !set("chunk") {
		if c.Chunk < 1 || c.Chunk > shard.MaxEntriesPerRequest {
			return f.badKey("chunk", "", "%d: want 1 to %d entries per request", c.Chunk, shard.MaxEntriesPerRequest)
		}
	}
	if _, ok := f.lines["live_lookup.key_forms"]; ok && len(c.LiveLookup.KeyForms) == 0 && !set("key-forms") {
		return f.badKey("live_lookup.key_forms", "live_lookup", "empty: want one or both of \"e164\", \"national\"")
	}
	if c.InputFormat != "" && !set("input-format") {
		if _, err := compiler.ParseFormat(c.InputFormat); err != nil {
			return f.badKey("input_format", "", "%v", err)
		}
	}
	if _, _, err := c.rangeOptions.columns(); err != nil {
		return f.badKey(err.key, "", "%v", err.err)
	}
	for i, s := range append(append([]configSource(nil), c.Sources...), c.Allow...) {
		table, idx := "source", i
		if i >= len(c.Sources) {
			table, idx = "allow", i-len(c.Sources)
		}
		if err := f.checkSource(s, table, idx); err != nil {
			return err
		}
	}
	return nil
}

// checkSource checks the values of one [[source]] or [[allow]].
func (f *configFile) checkSource(s configSource, table string, idx int) error {
	if s.Region != "" {
		if _, err := e164.New(s.Region, e164.PolicyPossible); err != nil {
			return f.bad(table, idx, "region", "%v", err)
		}
	}
	if s.Accept != "" {
		if _, err := e164.ParsePolicy(s.Accept); err != nil {
			return f.bad(table, idx, "accept", "%v", err)
		}
	}
	if s.Format != "" {
		if _, err := compiler.ParseFormat(s.Format); err != nil {
			return f.bad(table, idx, "format", "%v", err)
		}
	}
	if err := checkColumn(s.Column); err != nil {
		return f.bad(table, idx, "column", "%v", err)
	}
	if err := checkColumn(s.LabelColumn); err != nil {
		return f.bad(table, idx, "label_column", "%v", err)
	}
	if _, _, err := s.rangeOptions.columns(); err != nil {
		return f.bad(table, idx, err.key, "%v", err.err)
	}
	return nil
}

// checkURL checks a [[source]] or [[allow]] given by url: a url and no
// path, sha256 and optional only beside a url, the url and pin well formed.
func (f *configFile) checkURL(s configSource, table string, i int) error {
	switch {
	case s.URL == "" && s.SHA256 != "":
		return f.bad(table, i, "sha256", "pins a url: give url = \"https://…\" (a path is read as it is)")
	case s.URL == "":
		return f.bad(table, i, "optional", "applies to a url: a file that cannot be read always fails the build")
	case s.Path != "":
		return f.bad(table, i, "url", "given with a path: a source is one or the other")
	}
	src := fetch.Source{URL: s.URL, SHA256: s.SHA256, Optional: s.Optional}
	if err := src.Validate(); err != nil {
		key := "url"
		if s.SHA256 != "" && strings.Contains(err.Error(), "sha256") {
			key = "sha256"
		}
		return f.bad(table, i, key, "%v", err)
	}
	return nil
}

// expand turns the [[table]] entries into one source per file: a path is
// a file, a glob (relative to the configuration) or "-".
func (f *configFile) expand(table string, list []configSource, kind string) ([]configSource, error) {
	var out []configSource
	for i, s := range list {
		if s.Kind != "" && s.Kind != kind {
			return nil, f.bad(table, i, "kind", "%q, but the build is %q: compile blocking and identification sources into separate builds", s.Kind, kind)
		}
		if s.URL != "" || s.SHA256 != "" || s.Optional {
			if err := f.checkURL(s, table, i); err != nil {
				return nil, err
			}
			out = append(out, s)
			continue
		}
		if s.Path == "" {
			return nil, f.bad(table, i, "path", "missing: every [[%s]] needs a path (a file, a glob, or - for stdin) or a url", table)
		}
		if s.Path == "-" {
			out = append(out, s)
			continue
		}
		matches, err := filepath.Glob(f.rel(s.Path))
		if err != nil {
			return nil, f.bad(table, i, "path", "bad glob %q: %v", s.Path, err)
		}
		if len(matches) == 0 {
			return nil, f.bad(table, i, "path", "%q matches no file (relative to %s)", s.Path, f.dir)
		}
		sort.Strings(matches)
		for _, m := range matches {
			t := s
			t.Path = m
			out = append(out, t)
		}
	}
	return out, nil
}
