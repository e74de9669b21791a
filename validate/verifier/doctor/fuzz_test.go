package doctor

import (
	"context"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// examineBytes writes b as a database file and examines it. Whatever b is,
// Examine must not panic, and a failure must be an UnreadableError whose
// message names the file.
func examineBytes(t *testing.T, dir string, b []byte) (*Report, error) {
	t.Helper()
	path := filepath.Join(dir, "garbage.db")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	rep, err := Examine(context.Background(), path)
	if err != nil {
		var ue *UnreadableError
		if !errors.As(err, &ue) || !strings.HasPrefix(err.Error(), "doctor "+path+": ") || ue.Reason == "" {
			t.Fatalf("%d bytes: %v (%T), want an UnreadableError naming the file", len(b), err, err)
		}
	}
	return rep, err
}

// TestGarbage: random bytes, bare or behind a valid SQLite header, are
// unreadable with a clear message, never a panic or a report.
func TestGarbage(t *testing.T) {
	r := rand.New(rand.NewPCG(14, 7))
	dir := t.TempDir()
	head := []byte("SQLite format 3\x00\x10\x00\x01\x01\x00\x40\x20\x20")
	n := 200
	if long {
		n = 5000
	}
	for i := range n {
		b := make([]byte, r.IntN(3*4096))
		for j := range b {
			b[j] = byte(r.Uint32())
		}
		if i%2 == 1 && len(b) >= len(head) {
			copy(b, head)
		}
		if _, err := examineBytes(t, dir, b); err == nil {
			t.Fatalf("case %d (%d bytes): garbage examined as a database", i, len(b))
		}
	}
}

// FuzzExamine mutates a real CallDirectory.db. Examine may find anything,
// but must not panic or fail with an error that is not an UnreadableError.
func FuzzExamine(f *testing.F) {
	b, err := os.ReadFile(replayDB(f, testPlan))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add(b[:len(b)/2])
	f.Add([]byte("SQLite format 3\x00"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		rep, err := examineBytes(t, t.TempDir(), data)
		if err == nil && rep.Healthy != (len(rep.Findings) == 0 && rep.OmittedFindings == 0) {
			t.Fatalf("healthy %v with %d findings", rep.Healthy, len(rep.Findings))
		}
	})
}
