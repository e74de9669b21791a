package sortx

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/calldir/calldir/shard/outfs"
)

// TestSpillNames: every spill file (buckets, runs, packed entries) is named
// calldir-spill-<owner>-<what>-<random> with this process's owner token.
func TestSpillNames(t *testing.T) {
	dir := t.TempDir()
	b := NewBuckets(dir, 1<<20)
	r := NewRuns(dir, 1<<10)
	p := NewPacked(dir, 0)
	for i := range int64(200_000) {
		if err := b.Add(i*7919 + 1); err != nil {
			t.Fatal(err)
		}
		if err := r.Add(i*7919 + 1); err != nil {
			t.Fatal(err)
		}
		if err := p.Append(i*7919 + 1); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Finish(); err != nil {
		t.Fatal(err)
	}
	ents, _ := os.ReadDir(dir)
	seen := map[string]bool{}
	for _, e := range ents {
		for what := range spillKinds {
			if strings.HasPrefix(e.Name(), SpillName(os.Getpid(), what, "")) {
				seen[what] = true
			}
		}
		if tok, ok := staleOwner(e.Name()); !ok || tok != outfs.Self() {
			t.Errorf("%s: not named as this process's spill file", e.Name())
		}
	}
	if len(seen) != 3 {
		t.Errorf("spill kinds seen: %v, want bucket, run and packed", seen)
	}
	b.Close()
	r.Close()
	p.Close()
}

// TestRemoveStale removes the spill files of a dead process only.
func TestRemoveStale(t *testing.T) {
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Skip(err)
	}
	live := exec.Command("sleep", "60")
	if err := live.Start(); err != nil {
		t.Skip(err)
	}
	defer func() { live.Process.Kill(); live.Wait() }()
	dir := t.TempDir()
	stale := SpillName(dead.Process.Pid, "run", "123")
	keep := []string{
		SpillName(os.Getpid(), "packed", "1"),
		SpillName(live.Process.Pid, "bucket", "2"),
		SpillName(dead.Process.Pid, "other", "3"), // not a spill kind
		SpillName(dead.Process.Pid, "run", ""),    // no random part
		"calldir-spill-x-run-4",
		"calldir-spill-" + strings.Repeat("9", 30) + "-run-5",
		"calldir-run-6", // older calldir: no PID to judge by
		"notes.txt",
	}
	if strings.Contains(outfs.Self(), ".") {
		keep = append(keep, "calldir-spill-"+strings.Split(strings.TrimPrefix(stale, spillPrefix), ".")[0]+".1-run-7") // another namespace
	}
	for _, n := range append(keep, stale) {
		if err := os.WriteFile(filepath.Join(dir, n), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, SpillName(dead.Process.Pid, "run", "dir")), 0o755); err != nil {
		t.Fatal(err)
	}
	n, err := RemoveStale(dir)
	if n != 1 || err != nil {
		t.Fatalf("RemoveStale: %d, %v; want 1 removed", n, err)
	}
	if _, err := os.Stat(filepath.Join(dir, stale)); !os.IsNotExist(err) {
		t.Errorf("%s: still there", stale)
	}
	for _, k := range keep {
		if _, err := os.Stat(filepath.Join(dir, k)); err != nil {
			t.Errorf("%s: %v", k, err)
		}
	}
}
