package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestGuaranteesTable keeps docs/GUARANTEES.md honest: every test its
// table names exists in the file it names, and every row names one.
func TestGuaranteesTable(t *testing.T) {
	root := filepath.Join("..", "..")
	doc := mustRead(t, filepath.Join(root, "docs", "GUARANTEES.md"))
	testName := regexp.MustCompile("`(Test[A-Za-z0-9_]+)`")
	rows := 0
	for _, line := range strings.Split(doc, "\n") {
		if !strings.HasPrefix(line, "| ") || strings.HasPrefix(line, "| calldir never") {
			continue
		}
		cells := strings.Split(strings.Trim(line, "| "), " | ")
		if len(cells) != 3 {
			t.Errorf("row with %d cells: %s", len(cells), line)
			continue
		}
		rows++
		named := 0
		for _, part := range strings.Split(cells[2], "; ") {
			file, tests, ok := strings.Cut(part, ": ")
			if !ok {
				t.Errorf("test cell %q: want FILE: `TestX`, …", part)
				continue
			}
			src, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(file)))
			if err != nil {
				t.Errorf("%s: %v", file, err)
				continue
			}
			for _, m := range testName.FindAllStringSubmatch(tests, -1) {
				named++
				if !strings.Contains(string(src), "func "+m[1]+"(t *testing.T)") {
					t.Errorf("docs/GUARANTEES.md names %s in %s, which has no such test", m[1], file)
				}
			}
		}
		if named == 0 {
			t.Errorf("row names no test: %s", line)
		}
	}
	if rows < 20 {
		t.Errorf("read %d rows from docs/GUARANTEES.md; the table lost rows or its format changed", rows)
	}
	if readme := mustRead(t, filepath.Join(root, "README.md")); !strings.Contains(readme, "docs/GUARANTEES.md") {
		t.Error("README.md does not link docs/GUARANTEES.md")
	}
}
