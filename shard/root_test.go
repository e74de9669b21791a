//go:build unix

package shard

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// OpenIn opens shards inside the root, through symlinks that stay inside,
// and refuses every way out with a *PathError naming the directory.
func TestOpenIn(t *testing.T) {
	tmp := t.TempDir()
	dir := filepath.Join(tmp, "build")
	data := mustWrite(t, KindBlock, nil, []Record{{Number: 14155550100}, {Number: 14155550110}})
	for _, p := range []string{filepath.Join(dir, "block-0001.shard"), filepath.Join(tmp, "outside.shard")} {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.Symlink("block-0001.shard", filepath.Join(dir, "inside.shard")))
	must(os.Symlink(filepath.Join(tmp, "outside.shard"), filepath.Join(dir, "out.shard")))
	must(os.Symlink("..", filepath.Join(dir, "up")))
	must(syscall.Mkfifo(filepath.Join(dir, "fifo.shard"), 0o644))
	must(os.Mkdir(filepath.Join(dir, "sub"), 0o755))
	root, err := os.OpenRoot(dir)
	must(err)
	defer root.Close()

	for _, name := range []string{"block-0001.shard", "inside.shard"} {
		f, err := OpenIn(root, name)
		if err != nil {
			t.Errorf("OpenIn(%q): %v", name, err)
			continue
		}
		recs, err := f.Records()
		f.Close()
		if err != nil || len(recs) != 2 {
			t.Errorf("OpenIn(%q): %d records, %v", name, len(recs), err)
		}
	}
	for _, tc := range []struct{ name, want string }{
		{"../outside.shard", "leads outside"},
		{filepath.Join(tmp, "outside.shard"), "leads outside"},
		{"out.shard", "symlink leading outside"},
		{"up/outside.shard", "cannot open inside"},
		{"fifo.shard", "a named pipe (FIFO), not a regular file"},
		{"sub", "a directory, not a regular file"},
		{"missing.shard", "missing"},
	} {
		_, err := OpenIn(root, tc.name)
		var pe *PathError
		if !errors.As(err, &pe) || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), dir) {
			t.Errorf("OpenIn(%q): %v, want a *PathError naming %s: %s", tc.name, err, dir, tc.want)
		}
	}
}

// Records returns nothing of a shard whose body is damaged.
func TestRecordsVerifiesFirst(t *testing.T) {
	data := mustWrite(t, KindBlock, nil, []Record{{Number: 14155550100}, {Number: 14155550110}, {Number: 14155550120}})
	data[HeaderSize+8] ^= 0x02 // the middle number, still in order
	rd, err := NewReader(strings.NewReader(string(data)), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	recs, err := rd.Records()
	var fe *FormatError
	if recs != nil || !errors.As(err, &fe) || fe.Field != "checksum" {
		t.Errorf("Records of a damaged shard: %v, %v; want nil and a checksum error", recs, err)
	}
}
