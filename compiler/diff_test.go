package compiler

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/calldir/calldir/shard"
)

// mustBuild writes a blocking build of nums (sorted, distinct) at dir, in
// shards of at most maxPer entries.
func mustBuild(t *testing.T, dir string, nums []int64, maxPer int) {
	t.Helper()
	res := &Result{Kind: shard.KindBlock, Numbers: nums}
	res.Totals.Entries = int64(len(nums))
	m := &shard.Manifest{Format: shard.ManifestFormat, FormatVersion: shard.ManifestVersion}
	if err := WriteBuild(context.Background(), dir, res, m, Layout(len(nums), maxPer)); err != nil {
		t.Fatal(err)
	}
}

func numbersFrom(first int64, n int) []int64 {
	out := make([]int64, n)
	for i := range out {
		out[i] = first + int64(i)
	}
	return out
}

func mustNotExist(t *testing.T, path string) {
	t.Helper()
	if _, err := os.Lstat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s: %v, want it not written", path, err)
	}
}

// TestRunDiffChecksPathsFirst: an output inside a build it reads is
// refused before either build is read (New does not even exist).
func TestRunDiffChecksPathsFirst(t *testing.T) {
	dir := t.TempDir()
	old := filepath.Join(dir, "old")
	mustBuild(t, old, numbersFrom(14155550100, 10), 5)
	out := filepath.Join(old, "delta")
	_, err := RunDiff(context.Background(), DiffJob{Out: out, Old: old, New: filepath.Join(dir, "missing"), DeltaOptions: DeltaOptions{Chunk: DefaultChunk}})
	var ov *OverlapError
	if !errors.As(err, &ov) || ov.OtherRole != "OLD_BUILD" {
		t.Fatalf("RunDiff: %v, want an overlap with OLD_BUILD", err)
	}
	mustNotExist(t, out)
}

// TestRunDiffSymlinkOut: an output given as a symbolic link with a
// trailing slash is refused, not followed; the directory it points to is
// left as it was.
func TestRunDiffSymlinkOut(t *testing.T) {
	dir := t.TempDir()
	old, nw := filepath.Join(dir, "old"), filepath.Join(dir, "new")
	mustBuild(t, old, numbersFrom(14155550100, 10), 5)
	mustBuild(t, nw, numbersFrom(14155550100, 9), 5)
	real, link := filepath.Join(dir, "real"), filepath.Join(dir, "link")
	if err := os.Mkdir(real, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	_, err := RunDiff(context.Background(), DiffJob{Out: link + "/", Old: old, New: nw, DeltaOptions: DeltaOptions{Chunk: DefaultChunk}})
	var fe *ForeignOutputError
	if !errors.As(err, &fe) || fe.Path != link {
		t.Fatalf("RunDiff: %v, want %s refused as a symbolic link", err, link)
	}
	mustNotExist(t, filepath.Join(real, shard.DeltaManifestName))
}

func TestRunDiff(t *testing.T) {
	dir := t.TempDir()
	old, shrunk, emptied := filepath.Join(dir, "old"), filepath.Join(dir, "shrunk"), filepath.Join(dir, "emptied")
	mustBuild(t, old, numbersFrom(14155550100, 10), 5) // extensions 1 and 2, 5 numbers each
	mustBuild(t, shrunk, []int64{14155550100, 14155550101, 14155550105, 14155550106}, 2)
	mustBuild(t, emptied, numbersFrom(14155550100, 5), 5) // extension 2 gone
	for _, tc := range []struct {
		name    string
		new     string
		guard   *Guard
		wantErr any    // a pointer to the error type wanted; nil for a delta
		removed int64  // the delta's removals
		modes   string // the mode of each extension of the delta
	}{
		{"shrink refused", shrunk, &Guard{MaxShrink: 0.5}, new(*ShrinkError), 0, ""},
		{"shrink allowed", shrunk, &Guard{MaxShrink: 0.6}, nil, 6, "1 incremental, 2 incremental"},
		{"no guard", shrunk, nil, nil, 6, "1 incremental, 2 incremental"},
		{"emptied refused", emptied, &Guard{MaxShrink: 1}, new(*EmptiedError), 0, ""},
		{"emptied allowed", emptied, &Guard{MaxShrink: 1, AllowEmpty: true}, nil, 5, "2 clear"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(dir, "delta-"+tc.name)
			dm, err := RunDiff(context.Background(), DiffJob{Out: out, Old: old, New: tc.new,
				DeltaOptions: DeltaOptions{Chunk: 3, ToolVersion: "test", Guard: tc.guard}})
			if tc.wantErr != nil {
				if !errors.As(err, tc.wantErr) {
					t.Fatalf("RunDiff: %v, want %T", err, tc.wantErr)
				}
				mustNotExist(t, out)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if s := dm.Summary; s.Added != 0 || s.Removed != tc.removed {
				t.Errorf("summary %+v, want %d removed", s, tc.removed)
			}
			var modes []string
			for _, x := range dm.Extensions {
				modes = append(modes, fmt.Sprintf("%d %s", x.Extension, x.Mode))
			}
			if got := strings.Join(modes, ", "); got != tc.modes {
				t.Errorf("extensions %q, want %q", got, tc.modes)
			}
			b, err := os.ReadFile(filepath.Join(out, shard.DeltaManifestName))
			if err != nil {
				t.Fatal(err)
			}
			want, err := dm.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != string(want) {
				t.Errorf("%s:\n%s\nwant the manifest RunDiff returned:\n%s", shard.DeltaManifestName, b, want)
			}
		})
	}
}
