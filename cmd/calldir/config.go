package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/calldir/calldir/compiler"
	"github.com/calldir/calldir/e164"
	"github.com/pelletier/go-toml/v2"
)

// config is the TOML build configuration of compile --config. Keys are the
// long flag names with underscores; command-line flags override them.
type config struct {
	Out         string          `toml:"out"`
	Region      string          `toml:"region"`
	Accept      string          `toml:"accept"`
	Kind        string          `toml:"kind"`
	InputFormat string          `toml:"input_format"`
	MaxPerShard int             `toml:"max_per_shard"`
	Memory      string          `toml:"memory"`
	TempDir     string          `toml:"temp_dir"`
	Rejects     string          `toml:"rejects"`
	Conflicts   string          `toml:"conflicts"`
	MaxRejects  string          `toml:"max_rejects"`
	AllowEmpty  bool            `toml:"allow_empty"`
	Base        string          `toml:"base"`
	Delta       string          `toml:"delta"`
	Chunk       int             `toml:"chunk"`
	Sources     []configSource  `toml:"source"`
	Allow       []configSource  `toml:"allow"`
	Patterns    []configPattern `toml:"pattern"`
}

// configSource is one [[source]] or [[allow]]: a path or glob and the
// options of that input.
type configSource struct {
	Path        string `toml:"path"`
	Format      string `toml:"format"`
	Column      string `toml:"column"`
	LabelColumn string `toml:"label_column"`
	Label       string `toml:"label"`
	Region      string `toml:"region"`
	Accept      string `toml:"accept"`
	Kind        string `toml:"kind"`
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
			return nil, nil, usageError{&configError{file: path, line: row, key: strings.Join(de.Key(), "."), msg: de.Error()}}
		}
		return nil, nil, usageError{&configError{file: path, msg: err.Error()}}
	}
	return &c, b, nil
}

// keyLine finds the line of the n-th (0-based) occurrence of a table
// array header, or of a key inside it, for messages about values that
// parse but do not make sense.
func keyLine(src []byte, table string, n int, key string) int {
	lines := strings.Split(string(src), "\n")
	seen := -1
	for i, l := range lines {
		t := strings.TrimSpace(l)
		if t == "[["+table+"]]" {
			seen++
			if seen == n && key == "" {
				return i + 1
			}
			continue
		}
		if seen == n && key != "" {
			if strings.HasPrefix(t, "[") {
				break
			}
			if k, _, ok := strings.Cut(t, "="); ok && strings.TrimSpace(k) == key {
				return i + 1
			}
		}
	}
	return 0
}

// applyConfig fills compile options from the configuration, leaving the
// flags set on the command line as they are.
func applyConfig(path string, c *config, src []byte, o *compileOpts, set func(string) bool) error {
	dir := filepath.Dir(path)
	rel := func(p string) string {
		if p == "" || p == "-" || filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(dir, p)
	}
	str := func(flag string, dst *string, v string) {
		if v != "" && !set(flag) {
			*dst = v
		}
	}
	str("out", &o.out, rel(c.Out))
	str("region", &o.region, c.Region)
	str("accept", &o.accept, c.Accept)
	str("kind", &o.kind, c.Kind)
	str("input-format", &o.format, c.InputFormat)
	str("memory", &o.memory, c.Memory)
	str("temp-dir", &o.tempDir, rel(c.TempDir))
	str("rejects", &o.rejects, rel(c.Rejects))
	str("conflicts", &o.conflicts, rel(c.Conflicts))
	str("max-rejects", &o.maxRejects, c.MaxRejects)
	str("base", &o.base, rel(c.Base))
	str("delta", &o.delta, rel(c.Delta))
	if c.MaxPerShard != 0 && !set("max-per-shard") {
		o.maxPerShard = c.MaxPerShard
	}
	if c.Chunk != 0 && !set("chunk") {
		o.chunk = c.Chunk
	}
	if c.AllowEmpty && !set("allow-empty") {
		o.allowEmpty = true
	}
	bad := func(table string, i int, key, format string, a ...any) error {
		return usageError{&configError{file: path, line: keyLine(src, table, i, key), key: fmt.Sprintf("%s[%d].%s", table, i, key), msg: fmt.Sprintf(format, a...)}}
	}
	expand := func(table string, list []configSource) ([]configSource, error) {
		var out []configSource
		for i, s := range list {
			if s.Path == "" {
				return nil, bad(table, i, "path", "missing: every [[%s]] needs a path (a file, a glob, or - for stdin)", table)
			}
			if s.Kind != "" && s.Kind != o.kind {
				return nil, bad(table, i, "kind", "%q, but the build is %q: compile blocking and identification sources into separate builds", s.Kind, o.kind)
			}
			if s.Path == "-" {
				out = append(out, s)
				continue
			}
			matches, err := filepath.Glob(rel(s.Path))
			if err != nil {
				return nil, bad(table, i, "path", "bad glob %q: %v", s.Path, err)
			}
			if len(matches) == 0 {
				return nil, bad(table, i, "path", "%q matches no file (relative to %s)", s.Path, dir)
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
	srcs, err := expand("source", c.Sources)
	if err != nil {
		return err
	}
	allow, err := expand("allow", c.Allow)
	if err != nil {
		return err
	}
	for _, s := range srcs {
		cs, err := o.sourceFrom(s)
		if err != nil {
			return usageError{&configError{file: path, msg: err.Error()}}
		}
		o.extra = append(o.extra, cs)
	}
	for _, s := range allow {
		cs, err := o.sourceFrom(s)
		if err != nil {
			return usageError{&configError{file: path, msg: err.Error()}}
		}
		cs.Label, cs.LabelColumn = "", ""
		o.extraAllow = append(o.extraAllow, cs)
	}
	for i, p := range c.Patterns {
		r, err := compiler.ParsePattern(p.Pattern)
		if err != nil {
			return bad("pattern", i, "pattern", "%v", err)
		}
		r.Source, r.Line = path, int64(keyLine(src, "pattern", i, "pattern"))
		o.ranges = append(o.ranges, r)
	}
	for i, s := range append(append([]configSource(nil), c.Sources...), c.Allow...) {
		table, idx := "source", i
		if i >= len(c.Sources) {
			table, idx = "allow", i-len(c.Sources)
		}
		if s.Region != "" {
			if _, err := e164.New(s.Region, e164.PolicyPossible); err != nil {
				return bad(table, idx, "region", "%v", err)
			}
		}
		if s.Accept != "" {
			if _, err := e164.ParsePolicy(s.Accept); err != nil {
				return bad(table, idx, "accept", "%v", err)
			}
		}
		if s.Format != "" {
			if _, err := compiler.ParseFormat(s.Format); err != nil {
				return bad(table, idx, "format", "%v", err)
			}
		}
	}
	return nil
}
