package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode"
)

// The README is the front door: short, its two commands first, every link
// live, and its dependency table true. These tests hold it to that.

// readmeMaxLines is the README's length limit (issue 22): past it, the
// content belongs in docs/.
const readmeMaxLines = 150

// readmeCommands are the README's two commands, in order: its first two
// fenced code blocks hold exactly these lines.
var readmeCommands = []string{
	"go run ./cmd/calldir compile --out build --allow fixtures/sample/allow.txt --rejects rejects.csv fixtures/sample/spam-us.txt fixtures/sample/vendor-feed.csv",
	"go test ./...",
}

// repoRoot is the module root, two levels above this package.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	return root
}

func TestReadmeShortWithTwoCommandsFirst(t *testing.T) {
	readme := mustRead(t, filepath.Join(repoRoot(t), "README.md"))
	lines := strings.Split(strings.TrimSuffix(readme, "\n"), "\n")
	if len(lines) > readmeMaxLines {
		t.Errorf("README.md has %d lines, at most %d: move the detail to docs/", len(lines), readmeMaxLines)
	}
	blocks := fencedBlocks(readme)
	if len(blocks) < len(readmeCommands) {
		t.Fatalf("README.md has %d fenced code blocks, want at least %d", len(blocks), len(readmeCommands))
	}
	for i, want := range readmeCommands {
		if got := strings.TrimSpace(blocks[i].text); got != want {
			t.Errorf("README.md's fenced code block %d is\n%s\nwant\n%s", i+1, got, want)
		}
	}
	// "First": on the first screen, before any section but the intro's.
	if blocks[0].line > 25 {
		t.Errorf("README.md's first command is on line %d, want it on the first screen (line 25 at most)", blocks[0].line)
	}
}

// fencedBlock is one ``` block: its text and the line of its opening fence.
type fencedBlock struct {
	text string
	line int
}

// fencedBlocks returns the fenced code blocks of a markdown document.
func fencedBlocks(doc string) []fencedBlock {
	var out []fencedBlock
	var cur *fencedBlock
	for i, l := range strings.Split(doc, "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), "```") {
			if cur == nil {
				cur = &fencedBlock{line: i + 1}
			} else {
				out = append(out, *cur)
				cur = nil
			}
			continue
		}
		if cur != nil {
			cur.text += l + "\n"
		}
	}
	return out
}

// markdownDocs are our markdown files, as slash paths from root: the
// README, CONTRIBUTING.md, CHANGELOG.md and docs/*.md.
func markdownDocs(t *testing.T, root string) []string {
	t.Helper()
	docs := []string{"README.md", "CONTRIBUTING.md", "CHANGELOG.md"}
	more, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range more {
		rel, _ := filepath.Rel(root, m)
		docs = append(docs, filepath.ToSlash(rel))
	}
	return docs
}

// TestDocLinks checks every relative link of the README, CONTRIBUTING.md,
// CHANGELOG.md and docs/*.md: its file exists, and a #anchor into one of
// our markdown files names a heading there, by GitHub's slug rules.
func TestDocLinks(t *testing.T) {
	root := repoRoot(t)
	docs := markdownDocs(t, root)
	anchors := map[string]map[string]bool{} // file (slash path from root) → its anchors
	checked := 0
	for _, doc := range docs {
		for _, l := range docLinks(mustRead(t, filepath.Join(root, filepath.FromSlash(doc)))) {
			if err := checkLink(root, doc, l.target, anchors); err != nil {
				t.Errorf("%s:%d: link %q: %v", doc, l.line, l.target, err)
			}
			checked++
		}
	}
	if checked < 20 {
		t.Errorf("checked %d links in %d files: the link syntax this test reads has changed", checked, len(docs))
	}
}

// checkLink resolves target as written in doc (a slash path from root).
func checkLink(root, doc, target string, anchors map[string]map[string]bool) error {
	path, frag, _ := strings.Cut(target, "#")
	file := doc
	if path != "" {
		file = filepath.ToSlash(filepath.Clean(filepath.Join(filepath.Dir(doc), path)))
		if strings.HasPrefix(file, "../") || file == ".." {
			return fmt.Errorf("leaves the repository")
		}
		if _, err := os.Stat(filepath.Join(root, filepath.FromSlash(file))); err != nil {
			return fmt.Errorf("no such file %s", file)
		}
	}
	if frag == "" || !strings.HasSuffix(file, ".md") {
		return nil
	}
	if anchors[file] == nil {
		b, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(file)))
		if err != nil {
			return err
		}
		anchors[file] = headingAnchors(string(b))
	}
	if !anchors[file][frag] {
		return fmt.Errorf("%s has no heading with the anchor #%s", file, frag)
	}
	return nil
}

// docLink is one link target and the line it is on.
type docLink struct {
	target string
	line   int
}

var (
	inlineLink = regexp.MustCompile(`!?\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)`)
	refLinkDef = regexp.MustCompile(`^\s*\[[^\]]+\]:\s*(\S+)`)
)

// docLinks returns the relative link targets of a markdown document, outside
// code blocks and code spans; web and mail links are left out.
func docLinks(doc string) []docLink {
	var out []docLink
	inFence := false
	for i, l := range strings.Split(doc, "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), "```") {
			inFence = !inFence
			continue
		}
		if inFence {
			continue
		}
		l = codeSpan.ReplaceAllString(l, "")
		var targets []string
		for _, m := range inlineLink.FindAllStringSubmatch(l, -1) {
			targets = append(targets, m[1])
		}
		if m := refLinkDef.FindStringSubmatch(l); m != nil {
			targets = append(targets, m[1])
		}
		for _, t := range targets {
			t = strings.Trim(t, "<>")
			if strings.Contains(t, "://") || strings.HasPrefix(t, "mailto:") {
				continue
			}
			out = append(out, docLink{target: t, line: i + 1})
		}
	}
	return out
}

// headingAnchors returns the anchors GitHub gives a document's headings: the
// heading's text (code spans and link text kept, markup dropped), lower-cased,
// every character but letters, digits, marks, '_', '-' and spaces removed,
// spaces turned into '-'; a repeated anchor gets "-1", "-2", … in order.
func headingAnchors(doc string) map[string]bool {
	out := map[string]bool{}
	seen := map[string]int{}
	inFence := false
	for _, l := range strings.Split(doc, "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), "```") {
			inFence = !inFence
			continue
		}
		if inFence || !strings.HasPrefix(l, "#") {
			continue
		}
		text := strings.TrimLeft(l, "#")
		if text != "" && text[0] != ' ' {
			continue // "#hashtag", not a heading
		}
		slug := headingSlug(text)
		if n := seen[slug]; n > 0 {
			out[fmt.Sprintf("%s-%d", slug, n)] = true
		} else {
			out[slug] = true
		}
		seen[slug]++
	}
	return out
}

var linkMarkup = regexp.MustCompile(`!?\[([^\]]*)\]\([^)]*\)`)

// headingSlug is GitHub's anchor for one heading's text.
func headingSlug(text string) string {
	text = linkMarkup.ReplaceAllString(strings.TrimSpace(text), "$1")
	var b strings.Builder
	for _, r := range strings.ToLower(text) {
		switch {
		case r == ' ':
			b.WriteByte('-')
		case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r):
			b.WriteRune(r)
		}
	}
	return b.String()
}

func TestHeadingSlug(t *testing.T) {
	for _, c := range []struct{ heading, want string }{
		{"3. manifest.json", "3-manifestjson"},
		{"1.1 Purpose", "11-purpose"},
		{"`calldir compile [options] FILE...`", "calldir-compile-options-file"},
		{"Settings", "settings"},
		{"What changed on 2026-12-01", "what-changed-on-2026-12-01"},
		{"A [linked](x.md) heading", "a-linked-heading"},
		{"Déjà vu: à bientôt", "déjà-vu-à-bientôt"},
		{"Sort + dedupe", "sort--dedupe"},
	} {
		if got := headingSlug(c.heading); got != c.want {
			t.Errorf("headingSlug(%q) = %q, want %q", c.heading, got, c.want)
		}
	}
	got := headingAnchors("# A\n## A\n```\n# not a heading\n```\n### A\n#tag\n")
	for _, want := range []string{"a", "a-1", "a-2"} {
		if !got[want] {
			t.Errorf("headingAnchors: no %q in %v", want, got)
		}
	}
	if len(got) != 3 {
		t.Errorf("headingAnchors = %v, want 3 anchors", got)
	}
}

// TestReadmeDependencyTable holds the README's `| module | only imported by |`
// table to the code: no package outside a module's named homes imports it
// (test files aside: differential tests may compare with a dependency), and
// every module go.mod requires directly has a row.
func TestReadmeDependencyTable(t *testing.T) {
	root := repoRoot(t)
	homes, err := dependencyTable(mustRead(t, filepath.Join(root, "README.md")))
	if err != nil {
		t.Fatal(err)
	}
	direct := directRequires(t, filepath.Join(root, "go.mod"))
	for _, m := range direct {
		if homes[m] == nil {
			t.Errorf("go.mod requires %s, which README.md's dependency table does not list", m)
		}
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to list the packages with")
	}
	cmd := exec.Command(goBin, "list", "-f", "{{.ImportPath}} {{join .Imports \" \"}}", "./...")
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	const module = "github.com/calldir/calldir"
	users := map[string][]string{} // module → packages that import it
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		pkg := strings.TrimPrefix(strings.TrimPrefix(f[0], module), "/")
		for mod, allowed := range homes {
			if !importsModule(f[1:], mod) {
				continue
			}
			users[mod] = append(users[mod], pkg)
			if !underAny(pkg, allowed) {
				t.Errorf("%s imports %s, which README.md's dependency table allows only in %s", pkg, mod, strings.Join(allowed, ", "))
			}
		}
	}
	for mod := range homes {
		if len(users[mod]) == 0 {
			t.Errorf("README.md's dependency table lists %s, which no package imports", mod)
		}
	}
}

// dependencyTable reads the README's `| module | only imported by |` table:
// module path → the package paths (from the module root) allowed to import
// it, each one covering the packages below it.
func dependencyTable(readme string) (map[string][]string, error) {
	out := map[string][]string{}
	in := false
	for _, l := range strings.Split(readme, "\n") {
		if strings.HasPrefix(l, "| module | only imported by |") {
			in = true
			continue
		}
		if !in {
			continue
		}
		if !strings.HasPrefix(l, "|") {
			break
		}
		if strings.HasPrefix(l, "|---") {
			continue
		}
		cells := strings.Split(strings.Trim(l, "| "), " | ")
		if len(cells) != 2 {
			return nil, fmt.Errorf("README.md dependency row %q: want two cells", l)
		}
		mods := codeSpan.FindAllString(cells[0], -1)
		pkgs := codeSpan.FindAllString(cells[1], -1)
		if len(mods) != 1 || len(pkgs) == 0 {
			return nil, fmt.Errorf("README.md dependency row %q: want one `module` and one or more `package/` paths", l)
		}
		mod := strings.Trim(mods[0], "`")
		for _, p := range pkgs {
			out[mod] = append(out[mod], strings.TrimSuffix(strings.Trim(p, "`"), "/"))
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("README.md has no `| module | only imported by |` table")
	}
	return out, nil
}

// directRequires lists the modules go.mod requires without "// indirect".
func directRequires(t *testing.T, gomod string) []string {
	t.Helper()
	var out []string
	block := false
	for _, l := range strings.Split(mustRead(t, gomod), "\n") {
		l = strings.TrimSpace(l)
		switch {
		case l == "require (":
			block = true
			continue
		case block && l == ")":
			block = false
			continue
		case strings.HasPrefix(l, "require "):
			l = strings.TrimPrefix(l, "require ")
		case !block:
			continue
		}
		if f := strings.Fields(l); len(f) >= 2 && !strings.Contains(l, "// indirect") {
			out = append(out, f[0])
		}
	}
	if len(out) == 0 {
		t.Fatal("go.mod: no direct requirement found")
	}
	return out
}

// importsModule says whether any of imports is mod or a package inside it.
func importsModule(imports []string, mod string) bool {
	for _, imp := range imports {
		if imp == mod || strings.HasPrefix(imp, mod+"/") {
			return true
		}
	}
	return false
}

// underAny says whether pkg is one of dirs or inside one.
func underAny(pkg string, dirs []string) bool {
	for _, d := range dirs {
		if pkg == d || strings.HasPrefix(pkg, d+"/") {
			return true
		}
	}
	return false
}

// TestReadmeExitTable holds the README's exit-status table to the codes
// exitCode can return (exitMeanings).
func TestReadmeExitTable(t *testing.T) {
	readme := mustRead(t, filepath.Join(repoRoot(t), "README.md"))
	got := firstCells(readme, "| Code | Meaning |")
	var want []string
	for _, e := range exitMeanings {
		want = append(want, strconv.Itoa(e.code))
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("README's exit-status table lists codes %v; the CLI has %v", got, want)
	}
}

// firstCells are the first cells, trimmed, of the rows of the markdown
// table whose header line starts with header (its |---| line skipped).
func firstCells(doc, header string) []string {
	var cells []string
	in := false
	for _, l := range strings.Split(doc, "\n") {
		switch {
		case strings.HasPrefix(l, header):
			in = true
		case in && strings.HasPrefix(l, "|---"):
		case in && strings.HasPrefix(l, "|"):
			cells = append(cells, strings.TrimSpace(strings.Split(l, "|")[1]))
		case in:
			in = false
		}
	}
	return cells
}
