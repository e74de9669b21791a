package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/calldir/calldir/compiler"
	"github.com/calldir/calldir/e164"
	"github.com/calldir/calldir/shard"
)

// The compiler's input errors say what is wrong without naming a flag; the
// CLI adds the flag that fixes each. Both halves are checked: the domain
// error alone, and the whole line the CLI prints.
func TestInputErrorsWordedByCLI(t *testing.T) {
	dir := t.TempDir()
	mustWrite(t, filepath.Join(dir, "empty.txt"), "")
	mustWrite(t, filepath.Join(dir, "header.csv"), "phone,name\n")
	mustWrite(t, filepath.Join(dir, "list.txt"), "+14155550100\n")
	mustWrite(t, filepath.Join(dir, "nolabel.csv"), "phone,when\n+14155550100,today\n")
	out := filepath.Join(dir, "out")
	for _, tc := range []struct {
		name   string
		args   []string
		kind   shard.Kind
		src    compiler.Source
		domain string // the compiler's error ends with it, without a flag
		cli    string // the line the CLI prints
	}{
		{"empty", []string{"empty.txt"}, shard.KindBlock, compiler.Source{Path: "empty.txt"}, "empty input (0 bytes)",
			"calldir: empty.txt: empty input (0 bytes); pass --allow-empty if an empty list is expected\n"},
		{"header only", []string{"header.csv"}, shard.KindBlock, compiler.Source{Path: "header.csv"}, "a header line and no data lines",
			"calldir: header.csv: a header line and no data lines; pass --allow-empty if that is expected\n"},
		{"text without label", []string{"--kind", "identify", "list.txt"}, shard.KindIdentify, compiler.Source{Path: "list.txt"}, "a text list has no label column",
			"calldir: list.txt: a text list has no label column: give --label, or use a CSV/TSV list with a label column\n"},
		{"no label column", []string{"--kind", "identify", "nolabel.csv"}, shard.KindIdentify, compiler.Source{Path: "nolabel.csv"}, "(named label, name, caller_name, description, category or tag)",
			"calldir: nolabel.csv:1: no label column found (named label, name, caller_name, description, category or tag): give --label-column or --label\n"},
		{"bad fixed label", []string{"--kind", "identify", "--label", "a\xffb", "list.txt"}, shard.KindIdentify, compiler.Source{Path: "list.txt", Label: "a\xffb"}, "the label given for every number: ",
			"calldir: list.txt: --label: label \"a\\xffb\" is not valid UTF-8\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Chdir(dir)
			code, _, stderr := runCLI(t, "", append([]string{"compile", "-q", "-o", out}, tc.args...)...)
			if code != exitUsage || !strings.HasPrefix(stderr, tc.cli) {
				t.Errorf("exit %d, stderr %q; want exit 2 and %q", code, stderr, tc.cli)
			}
			err := compileErr(t, tc.kind, tc.src)
			if msg := err.Error(); !strings.Contains(msg, tc.domain) || strings.Contains(msg, "--") {
				t.Errorf("compiler error %q: want %q and no flag", msg, tc.domain)
			}
		})
	}
}

// compileErr runs the compiler on one source and returns its error.
func compileErr(t *testing.T, kind shard.Kind, src compiler.Source) error {
	t.Helper()
	norm, err := e164.New("US", e164.PolicyPossible)
	if err != nil {
		t.Fatal(err)
	}
	res, err := compiler.Compile(context.Background(), compiler.Options{Sources: []compiler.Source{src}, Kind: kind, Normalizer: norm})
	if err == nil {
		res.Close()
		t.Fatal("no error")
	}
	return err
}
