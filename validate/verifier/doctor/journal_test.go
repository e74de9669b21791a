package doctor

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/calldir/calldir/validate/verifier/doctor/doctortest"
)

// walOf returns a -wal of two committed transactions from a replayed
// database, and what SQLite counts in it.
func walOf(t testing.TB) ([]byte, int64) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "CallDirectory.db")
	doctortest.WAL(t, replayDB(t, testPlan), path, `DELETE FROM PhoneNumberBlockingEntry WHERE id > 500`, `UPDATE Extension SET priority = 7`)
	b, err := os.ReadFile(path + "-wal")
	if err != nil {
		t.Fatal(err)
	}
	return b, doctortest.WALFrames(t, path)
}

// TestReadWAL: doctor's reading of a -wal agrees with SQLite's, and a
// damaged frame ends the valid frames as SQLite's recovery ends them.
func TestReadWAL(t *testing.T) {
	b, frames := walOf(t)
	read := func(b []byte) walSummary {
		s, err := readWAL(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	whole := read(b)
	if whole.frames != frames || whole.commits != 2 || whole.frameBytes != int64(len(b)-walHeaderSize)/frames {
		t.Fatalf("%+v, want %d frames (SQLite's count) in 2 commits", whole, frames)
	}
	flip := func(off int) []byte {
		c := bytes.Clone(b)
		c[off] ^= 1
		return c
	}
	for _, c := range []struct {
		name string
		b    []byte
		want walSummary
	}{
		{"empty", nil, walSummary{}},
		{"header only", b[:walHeaderSize], walSummary{}},
		{"bad magic", flip(3), walSummary{}},
		{"bad header checksum", flip(16), walSummary{}},
		// The last frame is the second transaction's commit frame: without
		// it, only the first transaction counts.
		{"last frame cut short", b[:len(b)-1], walSummary{frames: whole.frames - whole.lastTxFrames(b), commits: 1}},
		{"last frame damaged", flip(len(b) - 1), walSummary{frames: whole.frames - whole.lastTxFrames(b), commits: 1}},
		{"first frame damaged", flip(walHeaderSize + walFrameHeaderSize), walSummary{}},
		{"first frame's salt", flip(walHeaderSize + 8), walSummary{}},
	} {
		got := read(c.b)
		got.frameBytes = 0 // known once the header is valid; checked above
		if got != c.want {
			t.Errorf("%s: %+v, want %+v", c.name, got, c.want)
		}
	}
}

// lastTxFrames counts the frames of the last transaction of the -wal b
// that s summarizes: the frames after the previous commit frame.
func (s walSummary) lastTxFrames(b []byte) int64 {
	n := int64(0)
	for i := s.frames - 2; i >= 0; i-- {
		fh := b[walHeaderSize+i*s.frameBytes:]
		n++
		if binary.BigEndian.Uint32(fh[4:8]) != 0 { // the previous commit frame
			return n
		}
	}
	return s.frames
}

// TestWALUncommittedTail: a copy taken while a transaction spills its
// pages into the -wal holds frames past the last commit: SQLite ignores
// them, and the notice says so.
func TestWALUncommittedTail(t *testing.T) {
	path := filepath.Join(t.TempDir(), "CallDirectory.db")
	doctortest.WAL(t, replayDB(t, testPlan), path, `DELETE FROM PhoneNumberBlockingEntry WHERE id > 500`,
		`PRAGMA cache_size = 2`, `BEGIN`, `DELETE FROM PhoneNumberBlockingEntry`, `DELETE FROM PhoneNumber`)
	rep := examine(t, path)
	if got := rep.Extensions[0].BlockingRows; got != 500 || !rep.Healthy {
		t.Fatalf("blocking rows %d (want the committed 500), findings %+v", got, rep.Findings)
	}
	if len(rep.Notices) != 1 || !strings.Contains(rep.Notices[0].Message, "1 committed transaction(s)") ||
		!strings.Contains(rep.Notices[0].Message, "bytes after its last commit (a transaction that never committed, or older frames already in the database) were ignored") {
		t.Errorf("notices %+v", rep.Notices)
	}
}

// FuzzReadWAL: whatever the bytes, readWAL neither panics nor counts more
// commits than frames.
func FuzzReadWAL(f *testing.F) {
	b, _ := walOf(f)
	f.Add(b)
	f.Add(b[:walHeaderSize+100])
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := readWAL(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		if s.commits > s.frames || s.frames > 0 && walHeaderSize+s.frames*s.frameBytes > int64(len(data)) {
			t.Fatalf("%+v from %d bytes", s, len(data))
		}
	})
}
