package compiler

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/calldir/calldir/e164"
	"github.com/calldir/calldir/shard"
)

// protectFiles are a job's inputs, each a name and its text, in order;
// kind is blocking when not set.
type protectFiles struct {
	sources, allow, protect [][2]string
	kind                    shard.Kind
}

func mustNorm(t testing.TB) *e164.Normalizer {
	t.Helper()
	n, err := e164.New("US", e164.PolicyPossible)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// protectJob writes the files into dir and returns the job that compiles
// them into dir/build.
func protectJob(t *testing.T, dir string, f protectFiles) Job {
	t.Helper()
	srcs := func(list [][2]string) []Source {
		var out []Source
		for _, nt := range list {
			out = append(out, Source{Path: writeTestFile(t, dir, nt[0], nt[1])})
		}
		return out
	}
	if f.kind == 0 {
		f.kind = shard.KindBlock
	}
	return Job{Options: Options{Sources: srcs(f.sources), Allow: srcs(f.allow), Kind: f.kind, Normalizer: mustNorm(t),
		MaxPerShard: shard.DefaultMaxPerShard, TempDir: dir},
		Out: filepath.Join(dir, "build"), Protect: srcs(f.protect), Guard: Guard{AllowEmpty: true}}
}

// mustProtected runs the job, wants a *ProtectedError and no build.
func mustProtected(t *testing.T, j Job) *ProtectedError {
	t.Helper()
	_, err := Run(context.Background(), j)
	var pe *ProtectedError
	if !errors.As(err, &pe) {
		t.Fatalf("Run: %v, want a *ProtectedError", err)
	}
	if _, err := os.Lstat(j.Out); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s written (or Lstat: %v) though the build was refused", j.Out, err)
	}
	return pe
}

func TestProtectRefuses(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files protectFiles
		count int64
		want  Protected // the first; Source and ProtectSource are base names
	}{
		{
			name: "listed number",
			files: protectFiles{sources: [][2]string{{"list.txt", "# spam\n+12125550100\n+12125550123\n"}},
				protect: [][2]string{{"banks.txt", "# banks\n+18005550000\n+1 212 555 0123\n"}}},
			count: 1,
			want:  Protected{Number: 12125550123, Source: "list.txt", Line: 3, ProtectSource: "banks.txt", ProtectLine: 3},
		},
		{
			name: "pattern over a protected number",
			files: protectFiles{sources: [][2]string{{"list.txt", "+12125550999\n+1 212 555 01##\n"}},
				protect: [][2]string{{"banks.txt", "+12125550150\n"}}},
			count: 1,
			want:  Protected{Number: 12125550150, Source: "list.txt", Line: 2, Pattern: "+1 212 555 01##", ProtectSource: "banks.txt", ProtectLine: 1},
		},
		{
			name: "range that only overlaps a protected range",
			files: protectFiles{sources: [][2]string{{"list.txt", "+12125550100..+12125550160\n"}},
				protect: [][2]string{{"hospitals.txt", "# the hospital's block\n+1 212 555 016#\n"}}},
			count: 1,
			want: Protected{Number: 12125550160, Source: "list.txt", Line: 1, Pattern: "+12125550100..+12125550160",
				ProtectSource: "hospitals.txt", ProtectLine: 2, ProtectPattern: "+1 212 555 016#"},
		},
		{
			name: "first source that lists it, at its first line",
			files: protectFiles{sources: [][2]string{{"a.txt", "+12125550001\n+12125550123\n+12125550123\n"}, {"b.txt", "+12125550123\n"}},
				protect: [][2]string{{"p1.txt", "+12125550999\n"}, {"p2.txt", "+12125550123\n+1 212 555 01##\n"}}},
			count: 1,
			want:  Protected{Number: 12125550123, Source: "a.txt", Line: 2, ProtectSource: "p2.txt", ProtectLine: 1},
		},
		{
			name: "a listed number inside a blocked pattern is the list's",
			files: protectFiles{sources: [][2]string{{"a.txt", "+1 212 555 01##\n"}, {"b.txt", "\n\n+12125550150\n"}},
				protect: [][2]string{{"p.txt", "+12125550150\n"}}},
			count: 1,
			want:  Protected{Number: 12125550150, Source: "b.txt", Line: 3, ProtectSource: "p.txt", ProtectLine: 1},
		},
		{
			name: "csv source, national protect number",
			files: protectFiles{sources: [][2]string{{"feed.csv", "number,reason\n+12125550123,spam\n"}},
				protect: [][2]string{{"support.txt", "(212) 555-0123\n"}}},
			count: 1,
			want:  Protected{Number: 12125550123, Source: "feed.csv", Line: 2, ProtectSource: "support.txt", ProtectLine: 1},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pe := mustProtected(t, protectJob(t, t.TempDir(), tc.files))
			if pe.Count != tc.count || len(pe.Numbers) == 0 {
				t.Fatalf("count %d, %d shown, want %d: %v", pe.Count, len(pe.Numbers), tc.count, pe)
			}
			got := pe.Numbers[0]
			got.Source, got.ProtectSource = filepath.Base(got.Source), filepath.Base(got.ProtectSource)
			if got != tc.want {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
			if msg := pe.Error(); !strings.Contains(msg, e164.Format(tc.want.Number)) ||
				!strings.Contains(msg, fmt.Sprintf("%s:%d", tc.want.ProtectSource, tc.want.ProtectLine)) {
				t.Errorf("message %q: want the number and the protect line", msg)
			}
		})
	}
}

func TestProtectPasses(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files protectFiles
	}{
		{"allowed and protected", protectFiles{sources: [][2]string{{"list.txt", "+12125550123\n+1 212 555 01##\n+12125550999\n"}},
			allow:   [][2]string{{"allow.txt", "+1 212 555 01##\n"}},
			protect: [][2]string{{"banks.txt", "+12125550123\n+12125550150\n"}}}},
		{"next to a blocked range", protectFiles{sources: [][2]string{{"list.txt", "+1 212 555 01##\n"}},
			protect: [][2]string{{"banks.txt", "+12125550099\n+12125550200\n+1 212 555 02##\n"}}}},
		{"empty protect list of comments", protectFiles{sources: [][2]string{{"list.txt", "+12125550123\n"}},
			protect: [][2]string{{"banks.txt", "# none yet\n"}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			j := protectJob(t, t.TempDir(), tc.files)
			if _, err := Run(context.Background(), j); err != nil {
				t.Fatalf("Run: %v", err)
			}
			if _, err := shard.ReadManifestFile(j.Out); err != nil {
				t.Errorf("no build: %v", err)
			}
		})
	}
}

// TestProtectManyOffenders: the first MaxProtectedShown, ascending, and a
// count of all of them.
func TestProtectManyOffenders(t *testing.T) {
	var list strings.Builder
	for n := int64(12125550199); n >= 12125550100; n-- { // descending: the report sorts
		fmt.Fprintf(&list, "+%d\n", n)
	}
	j := protectJob(t, t.TempDir(), protectFiles{sources: [][2]string{{"list.txt", list.String()}},
		protect: [][2]string{{"banks.txt", "+1 212 555 012#\n+1 212 555 013#\n+1 212 555 014#\n+12125550150\n+12125550151\n"}}})
	pe := mustProtected(t, j)
	if pe.Count != 32 || len(pe.Numbers) != MaxProtectedShown {
		t.Fatalf("count %d, %d shown, want 32 and %d", pe.Count, len(pe.Numbers), MaxProtectedShown)
	}
	for i, p := range pe.Numbers {
		if want := int64(12125550120 + i); p.Number != want || p.Line != 12125550199-want+1 || p.ProtectLine != 1 {
			t.Errorf("shown %d: %+v, want %d at line %d, protected by line 1", i, p, want, 12125550199-want+1)
		}
	}
	if msg := pe.Error(); !strings.HasSuffix(msg, "\n  and 22 more") || strings.Count(msg, "\n  +") != MaxProtectedShown {
		t.Errorf("message:\n%s", msg)
	}
}

// TestProtectLineUnreadable: a protect list's line that cannot be read
// fails the run with its file and line, before anything is compiled.
func TestProtectLineUnreadable(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		line       int64
		more       bool
	}{
		{"too short", "+12125550123\n+1 212 555 01\n", 2, false},
		{"bad pattern", "# header\n\n+999 ####\n", 3, false},
		{"several", "hello\n+12125550123\n12..5\n", 1, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			j := protectJob(t, dir, protectFiles{sources: [][2]string{{"list.txt", "+18005550000\n"}},
				protect: [][2]string{{"banks.txt", tc.text}}})
			_, err := Run(context.Background(), j)
			var ie *InputError
			if !errors.As(err, &ie) || filepath.Base(ie.Path) != "banks.txt" || ie.Line != tc.line {
				t.Fatalf("Run: %v, want an *InputError at banks.txt:%d", err, tc.line)
			}
			if got := strings.Contains(err.Error(), "more unreadable"); got != tc.more {
				t.Errorf("%q: mentions more lines %v, want %v", err, got, tc.more)
			}
			if _, err := os.Lstat(j.Out); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("build written")
			}
		})
	}
}

func TestProtectUsage(t *testing.T) {
	dir := t.TempDir()
	j := protectJob(t, dir, protectFiles{kind: shard.KindIdentify, sources: [][2]string{{"ids.csv", "number,label\n+12125550123,Bank\n"}},
		protect: [][2]string{{"banks.txt", "+12125550123\n"}}})
	var ue *UsageError
	if _, err := Run(context.Background(), j); !errors.As(err, &ue) {
		t.Errorf("identify with protect lists: %v, want a *UsageError", err)
	}
	j = protectJob(t, dir, protectFiles{sources: [][2]string{{"list.txt", "+12125550123\n"}}})
	j.Protect = []Source{{Path: "-"}}
	j.Sources = append(j.Sources, Source{Path: "-"})
	if _, err := Run(context.Background(), j); !errors.As(err, &ue) {
		t.Errorf("stdin twice: %v, want a *UsageError", err)
	}
	// A write onto a protect list is refused as one onto an input is.
	j = protectJob(t, dir, protectFiles{sources: [][2]string{{"list.txt", "+12125550123\n"}}, protect: [][2]string{{"p.txt", "+18005550000\n"}}})
	j.Reports = []NamedPath{{Role: "rejects", Path: j.Protect[0].Path}}
	if _, err := Run(context.Background(), j); err == nil || !strings.Contains(err.Error(), "protect") {
		t.Errorf("report onto the protect list: %v", err)
	}
}

// TestProtectStdin: a number from standard input, which cannot be read
// again, is put down to "-".
func TestProtectStdin(t *testing.T) {
	j := protectJob(t, t.TempDir(), protectFiles{protect: [][2]string{{"p.txt", "+12125550123\n"}}})
	j.Sources = []Source{{Path: "-"}}
	j.Stdin = strings.NewReader("+12125550123\n")
	pe := mustProtected(t, j)
	if p := pe.Numbers[0]; p.Source != "-" || p.Line != 0 {
		t.Errorf("%+v, want source - line 0", p)
	}
}

// TestProtectFindSpans: the walk over packed entries, cut into spans
// walked at once, finds every protected entry whatever span it falls in,
// stops past the last and passes blocks over.
func TestProtectFindSpans(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	dir := t.TempDir()
	// 1,000,000 entries from one pattern, packed (a stream).
	src := writeTestFile(t, dir, "list.txt", "+1 212 5## ####\n")
	res, err := Compile(context.Background(), Options{Sources: []Source{{Path: src}}, Kind: shard.KindBlock, Normalizer: mustNorm(t), TempDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer res.Close()
	if res.Stream == nil || res.Len() != 1_000_000 {
		t.Fatalf("%d entries, stream %v", res.Len(), res.Stream != nil)
	}
	for _, tc := range []struct {
		name  string
		union intervals
		first []int64
		count int64
	}{
		{"none", intervals{{1, 12124999999}, {12126000000, 12126000000}}, nil, 0},
		{"first and last entries", intervals{{12125000000, 12125000000}, {12125999999, 12125999999}}, []int64{12125000000, 12125999999}, 2},
		{"in every span, and across", intervals{{12125000001, 12125000001}, {12125249999, 12125250001}, {12125500000, 12125500000}, {12125750000, 12125750000}, {12125999998, 12126999998}},
			[]int64{12125000001, 12125249999, 12125250000, 12125250001, 12125500000, 12125750000, 12125999998, 12125999999}, 8},
		{"many", intervals{{12125400000, 12125409999}}, []int64{12125400000, 12125400001, 12125400002, 12125400003, 12125400004, 12125400005, 12125400006, 12125400007, 12125400008, 12125400009}, 10000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := &protectSet{union: tc.union}
			first, count, err := p.find(context.Background(), res.Entries())
			if err != nil {
				t.Fatal(err)
			}
			if count != tc.count || fmt.Sprint(first) != fmt.Sprint(tc.first) {
				t.Errorf("find = %v, %d; want %v, %d", first, count, tc.first, tc.count)
			}
		})
	}
}

// TestCheckProtected: an existing build checked against protect lists,
// as publish does: a number put down to the pattern that holds it, else
// to its shard; a clean build passes.
func TestCheckProtected(t *testing.T) {
	dir := t.TempDir()
	j := protectJob(t, dir, protectFiles{sources: [][2]string{{"list.txt", "+12125550123\n+1 800 555 0###\n"}}})
	j.MaxPerShard = 500
	j.Manifest.Options = shard.BuildOptions{Kind: "block", Region: "US", Accept: "possible"} // as calldir compile records them
	if _, err := Run(context.Background(), j); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	clean := []Source{{Path: writeTestFile(t, dir, "clean.txt", "+12125550124\n+1 800 555 1###\n")}}
	if err := CheckProtected(ctx, j.Out, clean, nil); err != nil {
		t.Errorf("clean: %v", err)
	}
	// national numbers read with the build's region (US), from its manifest
	hits := []Source{{Path: writeTestFile(t, dir, "hits.txt", "# support\n(212) 555-0123\n+1 800 555 09##\n")}}
	err := CheckProtected(ctx, j.Out, hits, nil)
	var pe *ProtectedError
	if !errors.As(err, &pe) || pe.Count != 101 || pe.Build != j.Out || len(pe.Numbers) != MaxProtectedShown {
		t.Fatalf("CheckProtected: %v", err)
	}
	if p := pe.Numbers[0]; p.Number != 12125550123 || !strings.HasSuffix(p.Source, ShardName(shard.KindBlock, 1)) || p.ProtectLine != 2 {
		t.Errorf("listed: %+v", p)
	}
	if p := pe.Numbers[1]; p.Number != 18005550900 || filepath.Base(p.Source) != "list.txt" || p.Line != 2 || p.Pattern != "+1 800 555 0###" ||
		p.ProtectLine != 3 || p.ProtectPattern != "+1 800 555 09##" {
		t.Errorf("in a pattern: %+v", p)
	}
	// A replaced shard is an error, not a pass.
	mustFlip(t, filepath.Join(j.Out, ShardName(shard.KindBlock, 1)))
	if err := CheckProtected(ctx, j.Out, clean, nil); err == nil || errors.As(err, &pe) {
		t.Errorf("damaged shard: %v", err)
	}
	// An unreadable protect line fails the check too.
	bad := []Source{{Path: writeTestFile(t, dir, "bad.txt", "+1 212 555\n")}}
	var ie *InputError
	if err := CheckProtected(ctx, j.Out, bad, nil); !errors.As(err, &ie) || ie.Line != 1 {
		t.Errorf("bad protect line: %v", err)
	}
}

func mustFlip(t *testing.T, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)-1] ^= 0xff
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}
