package validate

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// declaredKinds reads the package's source for every constant of type Kind,
// so that a kind declared in any file without a row in kindTable is found.
func declaredKinds(t *testing.T) []Kind {
	t.Helper()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	var out []Kind
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			g, ok := d.(*ast.GenDecl)
			if !ok || g.Tok != token.CONST {
				continue
			}
			for _, s := range g.Specs {
				vs := s.(*ast.ValueSpec)
				if id, ok := vs.Type.(*ast.Ident); !ok || id.Name != "Kind" {
					continue
				}
				for _, v := range vs.Values {
					lit, ok := v.(*ast.BasicLit)
					if !ok {
						t.Fatalf("%s: a Kind constant that is not a string literal", fset.Position(v.Pos()))
					}
					s, err := strconv.Unquote(lit.Value)
					if err != nil {
						t.Fatal(err)
					}
					out = append(out, Kind(s))
				}
			}
		}
	}
	return out
}

// TestKindsHaveHelp: every declared finding kind is in Kinds() once, with a
// one-line Help, and Kinds() lists nothing else.
func TestKindsHaveHelp(t *testing.T) {
	declared := declaredKinds(t)
	if len(declared) < 20 {
		t.Fatalf("read %d Kind constants from the source; the parse lost some", len(declared))
	}
	listed := Kinds()
	seen := map[Kind]bool{}
	for _, k := range listed {
		if seen[k] {
			t.Errorf("Kinds() lists %s twice", k)
		}
		seen[k] = true
		h := k.Help()
		if h == "" || h == Kind("no-such-kind").Help() || strings.ContainsAny(h, "\n\t") {
			t.Errorf("%s.Help() = %q: want one line", k, h)
		}
	}
	for _, k := range declared {
		if !seen[k] {
			t.Errorf("kind %s is declared but has no row in kindTable (kinds.go)", k)
		}
	}
	for _, k := range listed {
		if !slices.Contains(declared, k) {
			t.Errorf("kindTable lists %s, which no constant declares", k)
		}
	}
}
