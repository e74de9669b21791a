package main

import (
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

// TestCompileJSONDocumented holds docs/OPS.md to compile --format json's
// structs: every JSON field of each is named there, and the top-level
// table names only compileSummary's fields.
func TestCompileJSONDocumented(t *testing.T) {
	doc := mustRead(t, filepath.Join(repoRoot(t), "docs", "OPS.md"))
	named := map[string]bool{}
	for _, m := range regexp.MustCompile("`([a-z_0-9]+)`").FindAllStringSubmatch(doc, -1) {
		named[m[1]] = true
	}
	for _, v := range []any{compileSummary{}, summaryInput{}, summaryTotal{}, summaryFetched{}, summaryProtected{}, summaryOutput{}} {
		for _, f := range jsonFields(reflect.TypeOf(v)) {
			if !named[f] {
				t.Errorf("docs/OPS.md does not name %T's field %q", v, f)
			}
		}
	}
	top := map[string]bool{}
	for _, f := range jsonFields(reflect.TypeOf(compileSummary{})) {
		top[f] = true
	}
	for _, cell := range firstCells(doc, "| field | type | meaning |") {
		if name := strings.Trim(cell, "`"); !top[name] {
			t.Errorf("docs/OPS.md's summary table lists %q, which compile --format json does not print", name)
		}
	}
}

// jsonFields are the JSON names of a struct's fields.
func jsonFields(t reflect.Type) []string {
	var out []string
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if name != "" && name != "-" {
			out = append(out, name)
		}
	}
	return out
}
