package main

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// docs/GUARANTEES.md, for the readers of a build. Each
// test runs the real CLI in a temp dir, asserts the exit code, that stderr
// names the file and the reason, that stdout got nothing it must not have, and
// that every pre-existing file is byte-identical afterwards.

// numbersText is E.164 lines of the numbers.
func numbersText(nums ...int64) string {
	var b strings.Builder
	for _, n := range nums {
		b.WriteString("+" + strconv.FormatInt(n, 10) + "\n")
	}
	return b.String()
}

// compileBuild compiles the numbers into dir/name, from dir/name.txt.
func compileBuild(t *testing.T, dir, name string, maxPerShard int, nums ...int64) string {
	t.Helper()
	in := mustWrite(t, filepath.Join(dir, name+".txt"), numbersText(nums...))
	out := filepath.Join(dir, name)
	mustCLI(t, 0, "compile", "-q", "--max-per-shard", strconv.Itoa(maxPerShard), "--out", out, in)
	return out
}

// inspect --dump (and the summary) verifies a shard in full before
// printing any of it. A flipped byte in a shard's body would otherwise
// print a wrong number first and fail only at the checksum, and a diff of
// two dumps would show the damage as a real change.
func TestGuardInspectVerifiesBeforePrinting(t *testing.T) {
	dir := t.TempDir()
	var nums []int64
	for i := int64(0); i < 6; i++ {
		nums = append(nums, 14155550100+10*i) // gaps of 10: a flipped low bit keeps the order
	}
	build := compileBuild(t, dir, "build", 3, nums...)
	good, _ := mustCLI(t, 0, "inspect", "--dump", build)
	if good != numbersText(nums...) {
		t.Fatalf("dump before the damage: %q", good)
	}
	// Damage the middle record of the second shard (14155550140): its
	// number moves by 2, still between its neighbours, so only the body
	// checksum tells.
	p := filepath.Join(build, "block-0002.shard")
	b := []byte(mustRead(t, p))
	off := 64 + 8*1
	b[off] ^= 0x02
	wrong := "+" + strconv.FormatInt(int64(binary.LittleEndian.Uint64(b[off:])), 10)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	// A build's damage is a finding, as validate reports it (exit 1); a
	// shard named alone is an unreadable input (exit 2).
	for _, tc := range []struct {
		name string
		args []string
		exit int
	}{
		{"dump build", []string{"inspect", "--dump", build}, 1},
		{"dump shard", []string{"inspect", "--dump", p}, 2},
		{"summary", []string{"inspect", build}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := snapshotTree(t, dir)
			code, stdout, stderr := runCLI(t, "", tc.args...)
			if code != tc.exit {
				t.Errorf("exit %d, want %d; stderr: %s", code, tc.exit, stderr)
			}
			if !strings.Contains(stderr, "block-0002.shard") || !strings.Contains(stderr, "checksum") {
				t.Errorf("stderr does not name the shard and the checksum: %q", stderr)
			}
			// Verified before printing: not one line, not even of the good
			// first shard, and never the wrong number.
			if stdout != "" {
				t.Errorf("stdout got %q from a build with a damaged shard", stdout)
			}
			if strings.Contains(stdout, wrong) {
				t.Errorf("stdout has the damaged number %s", wrong)
			}
			assertSameTree(t, dir, before)
		})
	}
}

// readFixture is a temp dir holding a build, a second build with one more
// number, the delta between them, and a "secret": a valid shard (and its
// build) outside all of them, with as many entries as the build's shard,
// which no reader may follow a symlink or a path to; secret2 is the same
// for build2.
type readFixture struct {
	dir, build, build2, delta, secret, secret2 string
}

// secretMark is in the digits of every secret number and of no other.
const secretMark = "1415555019"

func newReadFixture(t *testing.T) readFixture {
	t.Helper()
	dir := t.TempDir()
	f := readFixture{dir: dir}
	f.build = compileBuild(t, dir, "build", 1000, 14155550100, 14155550110, 14155550120)
	f.build2 = compileBuild(t, dir, "build2", 1000, 14155550100, 14155550110, 14155550120, 14155550130)
	f.delta = filepath.Join(dir, "delta")
	mustCLI(t, 0, "diff", "-q", f.build, f.build2, "--out", f.delta)
	secretBuild := compileBuild(t, dir, "secret", 1000, 14155550191, 14155550192, 14155550193)
	f.secret = filepath.Join(secretBuild, "block-0001.shard")
	f.secret2 = filepath.Join(compileBuild(t, dir, "secret2", 1000, 14155550191, 14155550192, 14155550193, 14155550194), "block-0001.shard")
	return f
}

// symlink replaces path by a symlink to target.
func symlink(t *testing.T, target, path string) {
	t.Helper()
	if err := os.Remove(path); err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	if err := os.Symlink(target, path); err != nil {
		t.Fatal(err)
	}
}

// Every reader of a build opens its files through an os.Root of
// the build directory (and a plan's shards through one of the plan's), like
// validate: a shard or manifest symlinked out of the directory, or a plan
// line naming "../x", is refused with exit 2 (inspect, which checks a build
// as validate does: exit 1 and validate's path-escape or manifest finding),
// an error naming the file, and nothing of the outside file on stdout.
func TestGuardReadersStayInsideTheirDirectory(t *testing.T) {
	const planHead = "calldir-plan 1\nextension a com.example.a\nload a complete\n"
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T, f readFixture) []string // damages f, returns the args
		want  []string                                   // in stderr
	}{
		{"inspect", func(t *testing.T, f readFixture) []string {
			symlink(t, f.secret, filepath.Join(f.build, "block-0001.shard"))
			return []string{"inspect", f.build}
		}, []string{"block-0001.shard: path-escape:", "path escapes"}},
		{"inspect --dump", func(t *testing.T, f readFixture) []string {
			symlink(t, f.secret, filepath.Join(f.build, "block-0001.shard"))
			return []string{"inspect", "--dump", f.build}
		}, []string{"block-0001.shard: path-escape:", "path escapes"}},
		{"inspect manifest", func(t *testing.T, f readFixture) []string {
			symlink(t, filepath.Join(filepath.Dir(f.secret), "manifest.json"), filepath.Join(f.build, "manifest.json"))
			return []string{"inspect", f.build}
		}, []string{"manifest.json: manifest:", "path escapes"}},
		{"diff", func(t *testing.T, f readFixture) []string {
			symlink(t, f.secret, filepath.Join(f.build, "block-0001.shard"))
			return []string{"diff", f.build, f.build2, "--out", filepath.Join(f.dir, "delta-new")}
		}, []string{"block-0001.shard", "symlink leading outside"}},
		{"compile --base", func(t *testing.T, f readFixture) []string {
			symlink(t, f.secret, filepath.Join(f.build, "block-0001.shard"))
			return []string{"compile", "-q", "--base", f.build, "--out", filepath.Join(f.dir, "build3"), filepath.Join(f.dir, "build2.txt")}
		}, []string{"--base", "block-0001.shard", "symlink leading outside"}},
		{"validate --base", func(t *testing.T, f readFixture) []string {
			symlink(t, f.secret, filepath.Join(f.build, "block-0001.shard"))
			return []string{"validate", "--base", f.build, f.delta}
		}, []string{"--base", "block-0001.shard", "symlink leading outside"}},
		{"validate --target", func(t *testing.T, f readFixture) []string {
			symlink(t, f.secret2, filepath.Join(f.build2, "block-0001.shard"))
			return []string{"validate", "--base", f.build, "--target", f.build2, f.delta}
		}, []string{"--target", "block-0001.shard", "symlink leading outside"}},
		{"replay plan with ..", func(t *testing.T, f readFixture) []string {
			rel, _ := filepath.Rel(filepath.Join(f.dir, "plans"), f.secret)
			return []string{"replay", mustWrite(t, filepath.Join(f.dir, "plans", "hostile.plan"), planHead+"  block shard "+rel+"\nend\n")}
		}, []string{"hostile.plan:4:", "outside the plan's directory"}},
		{"replay plan with an absolute path", func(t *testing.T, f readFixture) []string {
			return []string{"replay", mustWrite(t, filepath.Join(f.dir, "plans", "hostile.plan"), planHead+"  block shard "+f.secret+"\nend\n")}
		}, []string{"hostile.plan:4:", "outside the plan's directory"}},
		{"replay plan with a symlink", func(t *testing.T, f readFixture) []string {
			plan := mustWrite(t, filepath.Join(f.dir, "plans", "hostile.plan"), planHead+"  block shard s.shard\nend\n")
			symlink(t, f.secret, filepath.Join(f.dir, "plans", "s.shard"))
			return []string{"replay", plan}
		}, []string{filepath.Join("plans", "s.shard"), "symlink leading outside"}},
		{"replay build", func(t *testing.T, f readFixture) []string {
			symlink(t, f.secret, filepath.Join(f.build, "block-0001.shard"))
			return []string{"replay", f.build}
		}, []string{"block-0001.shard", "symlink leading outside"}},
		{"replay delta", func(t *testing.T, f readFixture) []string {
			// A byte-identical copy outside the delta: its SHA-256 matches,
			// only the root tells.
			name := filepath.Join(f.delta, "ext-0001", "0001-add.shard")
			cp := mustWrite(t, filepath.Join(f.dir, "outside", "0001-add.shard"), mustRead(t, name))
			symlink(t, cp, name)
			return []string{"replay", f.build, f.delta}
		}, []string{"0001-add.shard", "symlink leading outside"}},
		{"replay --target", func(t *testing.T, f readFixture) []string {
			symlink(t, f.secret2, filepath.Join(f.build2, "block-0001.shard"))
			return []string{"replay", "--target", f.build2, f.build, f.delta}
		}, []string{"block-0001.shard", "symlink leading outside"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newReadFixture(t)
			args := tc.setup(t, f)
			secret, secret2 := mustRead(t, f.secret), mustRead(t, f.secret2)
			before := snapshotTree(t, f.dir)
			code, stdout, stderr := runCLI(t, "", args...)
			want := 2
			if args[0] == "inspect" {
				want = 1 // a finding, as validate reports it
			}
			if code != want {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", code, want, stdout, stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q: %s", w, stderr)
				}
			}
			if strings.Contains(stdout, secretMark) || strings.Contains(stdout, "secret") {
				t.Errorf("stdout has the outside file's content:\n%s", stdout)
			}
			if stdout != "" {
				t.Errorf("stdout of a refused run: %q", stdout)
			}
			assertSameTree(t, f.dir, before) // no delta, no build, nothing new
			if mustRead(t, f.secret) != secret || mustRead(t, f.secret2) != secret2 {
				t.Error("the outside file changed")
			}
		})
	}
}
