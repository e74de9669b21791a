//go:build unix

package outfs

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// checkWant judges the error of one Plan.Check.
type checkWant func(t *testing.T, d string, err error)

func wantOK(t *testing.T, _ string, err error) {
	t.Helper()
	if err != nil {
		t.Errorf("Check: %v, want nil", err)
	}
}

// wantOverlap wants an *OverlapError saying role How otherRole.
func wantOverlap(role, how, otherRole string, bothWrite, replaced bool) checkWant {
	return func(t *testing.T, _ string, err error) {
		t.Helper()
		if err == nil {
			t.Fatalf("Check: nil, want %s %s %s", role, how, otherRole)
		}
		e := wantAs[*OverlapError](t, err)
		got := OverlapError{Role: e.Role, How: e.How, OtherRole: e.OtherRole, BothWrite: e.BothWrite, Replaced: e.Replaced}
		want := OverlapError{Role: role, How: how, OtherRole: otherRole, BothWrite: bothWrite, Replaced: replaced}
		if got != want {
			t.Errorf("Check: %+v, want %+v (%v)", got, want, err)
		}
	}
}

// wantInsideOutput wants an *InsideOutputError naming the output at
// rel under the test directory; is, that the path is that output.
func wantInsideOutput(role, rel, kind string, is bool) checkWant {
	return func(t *testing.T, d string, err error) {
		t.Helper()
		if err == nil {
			t.Fatalf("Check: nil, want %s inside %s", role, rel)
		}
		e := wantAs[*InsideOutputError](t, err)
		out, rerr := ResolvePath(filepath.Join(d, rel))
		must(t, rerr)
		if e.Role != role || e.Output != out || e.Kind != kind || e.Is != is {
			t.Errorf("Check: %+v, want role %s output %s kind %s Is %v", e, role, out, kind, is)
		}
	}
}

func wantForeign(substr string) checkWant {
	return func(t *testing.T, _ string, err error) {
		t.Helper()
		if err == nil {
			t.Fatalf("Check: nil, want a *ForeignError %q", substr)
		}
		e := wantAs[*ForeignError](t, err)
		if !strings.Contains(e.Reason, substr) {
			t.Errorf("Check: %v, want reason containing %q", err, substr)
		}
	}
}

func TestPlanCheck(t *testing.T) {
	own := func(t *testing.T, dir string) {
		t.Helper()
		mustOutput(t, dir, testMark, map[string]string{"a": "A", "sub/b": "B"}, map[string]int64{"block": 2})
	}
	for _, tc := range []struct {
		name  string
		build func(t *testing.T, d string) *Plan
		want  checkWant
	}{
		{"write is read, by path", func(t *testing.T, d string) *Plan {
			mustWriteFile(t, filepath.Join(d, "c.toml"), "x")
			var p Plan
			p.Read("config", filepath.Join(d, "c.toml"))
			p.WriteFile("rejects", filepath.Join(d, "c.toml"))
			return &p
		}, wantOverlap("rejects", Same, "config", false, false)},
		{"write is read, neither exists", func(t *testing.T, d string) *Plan {
			var p Plan
			p.Read("config", filepath.Join(d, "c.toml"))
			p.WriteFile("rejects", filepath.Join(d, "x", "..", "c.toml"))
			return &p
		}, wantOverlap("rejects", Same, "config", false, false)},
		{"write is read, relative spelling", func(t *testing.T, d string) *Plan {
			mustWriteFile(t, filepath.Join(d, "c.toml"), "x")
			t.Chdir(d)
			var p Plan
			p.Read("config", filepath.Join(d, "c.toml"))
			p.WriteFile("rejects", "./c.toml")
			return &p
		}, wantOverlap("rejects", Same, "config", false, false)},
		{"write is read, via symlink", func(t *testing.T, d string) *Plan {
			mustWriteFile(t, filepath.Join(d, "c.toml"), "x")
			mustSymlink(t, "c.toml", filepath.Join(d, "link"))
			var p Plan
			p.Read("config", filepath.Join(d, "c.toml"))
			p.WriteFile("rejects", filepath.Join(d, "link"))
			return &p
		}, wantOverlap("rejects", Same, "config", false, false)},
		{"write is read, via symlinked directory", func(t *testing.T, d string) *Plan {
			mustWriteFile(t, filepath.Join(d, "real", "c.toml"), "x")
			mustSymlink(t, "real", filepath.Join(d, "alias"))
			var p Plan
			p.Read("config", filepath.Join(d, "real", "c.toml"))
			p.WriteFile("rejects", filepath.Join(d, "alias", "c.toml"))
			return &p
		}, wantOverlap("rejects", Same, "config", false, false)},
		{"write is read, via hard link", func(t *testing.T, d string) *Plan {
			mustWriteFile(t, filepath.Join(d, "c.toml"), "x")
			must(t, os.Link(filepath.Join(d, "c.toml"), filepath.Join(d, "hard.toml")))
			var p Plan
			p.Read("config", filepath.Join(d, "c.toml"))
			p.WriteFile("rejects", filepath.Join(d, "hard.toml"))
			return &p
		}, wantOverlap("rejects", Same, "config", false, false)},
		{"write is read, via dangling symlink", func(t *testing.T, d string) *Plan {
			mustSymlink(t, filepath.Join(d, "new.txt"), filepath.Join(d, "link"))
			var p Plan
			p.Read("list", filepath.Join(d, "new.txt"))
			p.WriteFile("report", filepath.Join(d, "link"))
			return &p
		}, wantOverlap("report", Same, "list", false, false)},
		{"two writes, one via a chain of relative dangling symlinks", func(t *testing.T, d string) *Plan {
			mustMkdir(t, filepath.Join(d, "sub"))
			mustSymlink(t, "sub/l2", filepath.Join(d, "l1"))
			mustSymlink(t, "../new.txt", filepath.Join(d, "sub", "l2"))
			var p Plan
			p.WriteFile("report", filepath.Join(d, "l1"))
			p.WriteFile("plan", filepath.Join(d, "new.txt"))
			return &p
		}, wantOverlap("report", Same, "plan", true, false)},
		{"write different from read", func(t *testing.T, d string) *Plan {
			mustWriteFile(t, filepath.Join(d, "c.toml"), "x")
			var p Plan
			p.Read("config", filepath.Join(d, "c.toml"))
			p.WriteFile("rejects", filepath.Join(d, "c.toml.rejects"))
			return &p
		}, wantOK},
		{"write inside a directory read", func(t *testing.T, d string) *Plan {
			mustMkdir(t, filepath.Join(d, "icons"))
			var p Plan
			p.ReadDir("icons", filepath.Join(d, "icons"))
			p.WriteFile("report", filepath.Join(d, "icons", "r.html"))
			return &p
		}, wantOverlap("report", Inside, "icons", false, false)},
		{"write inside a directory read, via symlinked parent", func(t *testing.T, d string) *Plan {
			mustMkdir(t, filepath.Join(d, "icons"))
			mustSymlink(t, "icons", filepath.Join(d, "alias"))
			var p Plan
			p.ReadDir("icons", filepath.Join(d, "icons"))
			p.WriteFile("report", filepath.Join(d, "alias", "deep", "r.html"))
			return &p
		}, wantOverlap("report", Inside, "icons", false, false)},
		{"write inside a file read", func(t *testing.T, d string) *Plan {
			mustWriteFile(t, filepath.Join(d, "list.txt"), "x")
			var p Plan
			p.Read("list", filepath.Join(d, "list.txt"))
			p.WriteFile("report", filepath.Join(d, "list.txt", "r.html"))
			return &p
		}, wantOK},
		{"output contains an input", func(t *testing.T, d string) *Plan {
			var p Plan
			p.Output("out", filepath.Join(d, "build"), testMark)
			p.Read("list", filepath.Join(d, "build", "list.txt"))
			return &p
		}, wantOverlap("list", Inside, "out", false, true)},
		{"output contains a directory read", func(t *testing.T, d string) *Plan {
			var p Plan
			p.ReadDir("icons", filepath.Join(d, "build", "icons"))
			p.Output("out", filepath.Join(d, "build"), testMark)
			return &p
		}, wantOverlap("icons", Inside, "out", false, true)},
		{"report inside the output", func(t *testing.T, d string) *Plan {
			var p Plan
			p.Output("out", filepath.Join(d, "build"), testMark)
			p.WriteFile("report", filepath.Join(d, "build", "r.html"))
			return &p
		}, wantOverlap("report", Inside, "out", true, true)},
		{"report inside the output, declared first", func(t *testing.T, d string) *Plan {
			var p Plan
			p.WriteFile("report", filepath.Join(d, "build", "r.html"))
			p.Output("out", filepath.Join(d, "build"), testMark)
			return &p
		}, wantOverlap("report", Inside, "out", true, true)},
		{"two writes the same", func(t *testing.T, d string) *Plan {
			var p Plan
			p.WriteFile("report", filepath.Join(d, "r.html"))
			p.WriteFile("plan", filepath.Join(d, "r.html"))
			return &p
		}, wantOverlap("report", Same, "plan", true, false)},
		{"two outputs the same", func(t *testing.T, d string) *Plan {
			var p Plan
			p.Output("out", filepath.Join(d, "build"), testMark)
			p.Output("delta", filepath.Join(d, "build"), otherMark)
			return &p
		}, wantOverlap("out", Same, "delta", true, false)},
		{"/dev/null written twice", func(t *testing.T, d string) *Plan {
			var p Plan
			p.WriteFile("report", "/dev/null")
			p.WriteFile("plan", "/dev/null")
			return &p
		}, wantOK},
		{"one FIFO written twice", func(t *testing.T, d string) *Plan {
			must(t, syscall.Mkfifo(filepath.Join(d, "pipe"), 0o644))
			var p Plan
			p.WriteFile("report", filepath.Join(d, "pipe"))
			p.WriteFile("plan", filepath.Join(d, "pipe"))
			return &p
		}, wantOK},
		{"/dev/null read and written", func(t *testing.T, d string) *Plan {
			var p Plan
			p.Read("list", "/dev/null")
			p.WriteFile("report", "/dev/null")
			return &p
		}, wantOK},
		{"stdin and stdout skipped", func(t *testing.T, d string) *Plan {
			var p Plan
			p.Read("list", "-")
			p.Read("config", "")
			p.WriteFile("report", "-")
			p.WriteFile("plan", "-")
			p.WriteFile("rejects", "")
			p.Output("out", "", testMark)
			return &p
		}, wantOK},
		{"reads may overlap", func(t *testing.T, d string) *Plan {
			mustWriteFile(t, filepath.Join(d, "base", "c.toml"), "x")
			var p Plan
			p.ReadDir("base", filepath.Join(d, "base"))
			p.Read("config", filepath.Join(d, "base", "c.toml"))
			p.Read("config again", filepath.Join(d, "base", "c.toml"))
			return &p
		}, wantOK},
		{"output inside scratch", func(t *testing.T, d string) *Plan {
			var p Plan
			p.Scratch("temp-dir", filepath.Join(d, "tmp"))
			p.Output("out", filepath.Join(d, "tmp", "build"), testMark)
			p.WriteFile("report", filepath.Join(d, "tmp", "r.html"))
			return &p
		}, wantOK},
		{"scratch inside output", func(t *testing.T, d string) *Plan {
			var p Plan
			p.Output("out", filepath.Join(d, "build"), testMark)
			p.Scratch("temp-dir", filepath.Join(d, "build", "tmp"))
			return &p
		}, wantOverlap("temp-dir", Inside, "out", false, true)},
		{"scratch is the output", func(t *testing.T, d string) *Plan {
			var p Plan
			p.Output("out", filepath.Join(d, "build"), testMark)
			p.Scratch("temp-dir", filepath.Join(d, "build"))
			return &p
		}, wantOverlap("out", Same, "temp-dir", false, false)},
		{"base may be the output", func(t *testing.T, d string) *Plan {
			own(t, filepath.Join(d, "build"))
			var p Plan
			o := p.Output("out", filepath.Join(d, "build"), testMark)
			p.ReadDir("base", filepath.Join(d, "build")).MayBe(o)
			return &p
		}, wantOK},
		{"base may be the output, via symlink", func(t *testing.T, d string) *Plan {
			own(t, filepath.Join(d, "build"))
			mustSymlink(t, "build", filepath.Join(d, "alias"))
			var p Plan
			o := p.Output("out", filepath.Join(d, "build"), testMark)
			p.ReadDir("base", filepath.Join(d, "alias")).MayBe(o)
			return &p
		}, wantOK},
		{"base may be the output but is inside it", func(t *testing.T, d string) *Plan {
			own(t, filepath.Join(d, "build"))
			var p Plan
			o := p.Output("out", filepath.Join(d, "build"), testMark)
			p.ReadDir("base", filepath.Join(d, "build", "sub")).MayBe(o)
			return &p
		}, wantOverlap("base", Inside, "out", false, true)},
		{"base may be the output but contains it", func(t *testing.T, d string) *Plan {
			var p Plan
			o := p.Output("out", filepath.Join(d, "base", "build"), testMark)
			p.ReadDir("base", filepath.Join(d, "base")).MayBe(o)
			return &p
		}, wantOverlap("out", Inside, "base", false, false)},
		{"base is the output without MayBe", func(t *testing.T, d string) *Plan {
			own(t, filepath.Join(d, "build"))
			var p Plan
			p.Output("out", filepath.Join(d, "build"), testMark)
			p.ReadDir("base", filepath.Join(d, "build"))
			return &p
		}, wantOverlap("out", Same, "base", false, false)},
		{"base may be another output", func(t *testing.T, d string) *Plan {
			var p Plan
			o := p.Output("out", filepath.Join(d, "build"), testMark)
			p.Output("delta", filepath.Join(d, "delta"), otherMark)
			p.ReadDir("base", filepath.Join(d, "delta")).MayBe(o)
			return &p
		}, wantOverlap("delta", Same, "base", false, false)},
		{"write inside a calldir output", func(t *testing.T, d string) *Plan {
			own(t, filepath.Join(d, "build"))
			var p Plan
			p.WriteFile("report", filepath.Join(d, "build", "r.html"))
			return &p
		}, wantInsideOutput("report", "build", "testout", false)},
		{"write deep inside a calldir output of another kind", func(t *testing.T, d string) *Plan {
			mustOutput(t, filepath.Join(d, "delta"), otherMark, map[string]string{"x/y": "Y"}, nil)
			var p Plan
			p.WriteFile("report", filepath.Join(d, "delta", "x", "new", "r.html"))
			return &p
		}, wantInsideOutput("report", "delta", "testother", false)},
		{"write inside a calldir output, via symlink", func(t *testing.T, d string) *Plan {
			own(t, filepath.Join(d, "build"))
			mustSymlink(t, "build", filepath.Join(d, "alias"))
			var p Plan
			p.WriteFile("report", filepath.Join(d, "alias", "r.html"))
			return &p
		}, wantInsideOutput("report", "build", "testout", false)},
		{"output inside a calldir output", func(t *testing.T, d string) *Plan {
			own(t, filepath.Join(d, "build"))
			var p Plan
			p.Output("out", filepath.Join(d, "build", "nested"), testMark)
			return &p
		}, wantInsideOutput("out", "build", "testout", false)},
		{"write beside a manifest of the name that does not decode", func(t *testing.T, d string) *Plan {
			mustWriteFile(t, filepath.Join(d, "app", "testout.json"), `{"name":"a web app","icons":[]}`)
			var p Plan
			p.WriteFile("report", filepath.Join(d, "app", "r.html"))
			return &p
		}, wantOK},
		{"write beside a manifest of another kind's contents", func(t *testing.T, d string) *Plan {
			mustWriteFile(t, filepath.Join(d, "app", "testout.json"), manifestJSON(t, "testother", nil, nil))
			var p Plan
			p.WriteFile("report", filepath.Join(d, "app", "r.html"))
			return &p
		}, wantOK},
		{"write beside a directory of the manifest's name", func(t *testing.T, d string) *Plan {
			mustMkdir(t, filepath.Join(d, "app", "testout.json"))
			var p Plan
			p.WriteFile("report", filepath.Join(d, "app", "r.html"))
			return &p
		}, wantOK},
		{"write into a calldir output", func(t *testing.T, d string) *Plan {
			own(t, filepath.Join(d, "build"))
			var p Plan
			p.WriteInto("plans", filepath.Join(d, "build"))
			return &p
		}, wantInsideOutput("plans", "build", "testout", true)},
		{"write into a directory inside a calldir output", func(t *testing.T, d string) *Plan {
			own(t, filepath.Join(d, "build"))
			var p Plan
			p.WriteInto("plans", filepath.Join(d, "build", "sub"))
			return &p
		}, wantInsideOutput("plans", "build", "testout", false)},
		{"write into a directory beside a manifest that does not decode", func(t *testing.T, d string) *Plan {
			mustWriteFile(t, filepath.Join(d, "app", "testout.json"), `{"name":"a web app"}`)
			var p Plan
			p.WriteInto("plans", filepath.Join(d, "app"))
			return &p
		}, wantOK},
		{"write into a directory read", func(t *testing.T, d string) *Plan {
			mustMkdir(t, filepath.Join(d, "plans"))
			var p Plan
			p.ReadDir("input", filepath.Join(d, "plans"))
			p.WriteInto("plans", filepath.Join(d, "plans"))
			return &p
		}, wantOverlap("plans", Same, "input", false, false)},
		{"write into a directory holding a read", func(t *testing.T, d string) *Plan {
			var p Plan
			p.WriteInto("plans", filepath.Join(d, "plans"))
			p.Read("list", filepath.Join(d, "plans", "list.txt"))
			return &p
		}, wantOverlap("list", Inside, "plans", false, false)},
		{"write into a directory inside scratch", func(t *testing.T, d string) *Plan {
			var p Plan
			p.Scratch("temp-dir", filepath.Join(d, "tmp"))
			p.WriteInto("plans", filepath.Join(d, "tmp", "plans"))
			return &p
		}, wantOK},
		{"write into a directory holding the output", func(t *testing.T, d string) *Plan {
			var p Plan
			p.WriteInto("plans", d)
			p.Output("out", filepath.Join(d, "build"), testMark)
			return &p
		}, wantOverlap("out", Inside, "plans", true, false)},
		{"output is nothing", func(t *testing.T, d string) *Plan {
			var p Plan
			p.Output("out", filepath.Join(d, "build"), testMark)
			return &p
		}, wantOK},
		{"output is own output", func(t *testing.T, d string) *Plan {
			own(t, filepath.Join(d, "build"))
			var p Plan
			p.Output("out", filepath.Join(d, "build"), testMark)
			return &p
		}, wantOK},
		{"output is someone else's directory", func(t *testing.T, d string) *Plan {
			mustWriteFile(t, filepath.Join(d, "build", "thesis.tex"), "x")
			var p Plan
			p.Output("out", filepath.Join(d, "build"), testMark)
			return &p
		}, wantForeign("not a calldir testout")},
		{"output is another kind's output", func(t *testing.T, d string) *Plan {
			mustOutput(t, filepath.Join(d, "build"), otherMark, nil, nil)
			var p Plan
			p.Output("out", filepath.Join(d, "build"), testMark)
			return &p
		}, wantForeign("it is a calldir testother, not a testout")},
		{"output is a file", func(t *testing.T, d string) *Plan {
			mustWriteFile(t, filepath.Join(d, "build"), "x")
			var p Plan
			p.Output("out", filepath.Join(d, "build"), testMark)
			return &p
		}, wantForeign("not a directory")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := t.TempDir()
			p := tc.build(t, d)
			tc.want(t, d, p.Check())
		})
	}
}

// Check records what each output held, for the guards.
func TestPlanCheckState(t *testing.T) {
	d := t.TempDir()
	mustOutput(t, filepath.Join(d, "build"), testMark, map[string]string{"a": "A"}, map[string]int64{"block": 7})
	mustMkdir(t, filepath.Join(d, "empty"))
	var p Plan
	build := p.Output("out", filepath.Join(d, "build"), testMark)
	empty := p.Output("empty", filepath.Join(d, "empty"), testMark)
	none := p.Output("none", filepath.Join(d, "none"), testMark)
	must(t, p.Check())
	for _, tc := range []struct {
		o      *Output
		exists bool
		mark   *Mark
		block  int64
	}{
		{build, true, testMark, 7},
		{empty, true, nil, -1},
		{none, false, nil, -1},
	} {
		st := tc.o.State
		if st == nil {
			t.Errorf("%s: no State after Check", tc.o.Path)
			continue
		}
		if st.Exists != tc.exists || st.Mark != tc.mark || st.Count("block") != tc.block {
			t.Errorf("%s: Exists %v Mark %v Count %d, want %v %v %d", tc.o.Path, st.Exists, st.Mark, st.Count("block"), tc.exists, tc.mark, tc.block)
		}
	}
}

func TestOverlapErrorMessage(t *testing.T) {
	for _, tc := range []struct {
		e    OverlapError
		want string
	}{
		{OverlapError{Role: "--rejects", Path: "c.toml", How: Same, OtherRole: "--config", OtherPath: "c.toml"},
			"--rejects c.toml is the --config c.toml: writing it would destroy it"},
		{OverlapError{Role: "--report", Path: "r", How: Same, OtherRole: "--plan", OtherPath: "r", BothWrite: true},
			"--report r is --plan r: one would be lost"},
		{OverlapError{Role: "--report", Path: "b/r", How: Inside, OtherRole: "--out", OtherPath: "b", BothWrite: true, Replaced: true},
			"--report b/r is inside --out b, which is replaced as a whole: it would be deleted"},
		{OverlapError{Role: "--report", Path: "i/r", How: Inside, OtherRole: "--icons", OtherPath: "i"},
			"--report i/r is inside --icons i: refusing to write one inside the other"},
	} {
		if got := tc.e.Error(); got != tc.want {
			t.Errorf("Error() = %q, want %q", got, tc.want)
		}
	}
	for _, tc := range []struct {
		e    InsideOutputError
		want string
	}{
		{InsideOutputError{Role: "--report", Path: "b/r", Output: "/x/b", Kind: "build"},
			"--report b/r is inside the calldir build /x/b: a file written there makes it fail validation"},
		{InsideOutputError{Role: "--plans", Path: "b", Output: "/x/b", Kind: "build", Is: true},
			"--plans b is the calldir build /x/b: a file written there makes it fail validation"},
	} {
		if got := tc.e.Error(); got != tc.want {
			t.Errorf("Error() = %q, want %q", got, tc.want)
		}
	}
}

func TestResolvePath(t *testing.T) {
	d := t.TempDir()
	mustMkdir(t, filepath.Join(d, "real"))
	mustSymlink(t, "real", filepath.Join(d, "alias"))
	mustSymlink(t, "real/new", filepath.Join(d, "dangling"))
	mustSymlink(t, "loop", filepath.Join(d, "loop"))
	for _, tc := range []struct{ in, want string }{
		{filepath.Join(d, "real"), filepath.Join(d, "real")},
		{filepath.Join(d, "alias", "x", "y"), filepath.Join(d, "real", "x", "y")},
		{filepath.Join(d, "dangling"), filepath.Join(d, "real", "new")},
		{filepath.Join(d, "alias", "..", "real"), filepath.Join(d, "real")},
		{filepath.Join(d, "loop", "x"), filepath.Join(d, "loop", "x")}, // as written
	} {
		got, err := ResolvePath(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ResolvePath(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

// Check's errors are typed, so that the command can decide its exit code
// with errors.As.
func TestPlanCheckErrorsAreTyped(t *testing.T) {
	var p Plan
	d := t.TempDir()
	p.WriteFile("a", filepath.Join(d, "x"))
	p.WriteFile("b", filepath.Join(d, "x"))
	var oe *OverlapError
	if err := p.Check(); !errors.As(err, &oe) {
		t.Fatalf("Check: %v, want *OverlapError", err)
	}
}
