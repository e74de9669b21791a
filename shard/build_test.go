package shard

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// ReadShardIn (and EachInShard) read a build's shard against its manifest
// entry: the header and every number when the count and SHA-256 match, an
// error naming the file when either does not (a valid shard of another
// build copied over this one's).
func TestReadShardInChecksManifest(t *testing.T) {
	dir := t.TempDir()
	data := mustWrite(t, KindBlock, nil, blockRecs(14155550100, 14155550110, 14155550120))
	if err := os.WriteFile(filepath.Join(dir, "block-0001.shard"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	sum := sha256.Sum256(data)
	good := ShardInfo{File: "block-0001.shard", Kind: "block", Extension: 1, Count: 3, SHA256: hex.EncodeToString(sum[:])}

	var got []int64
	h, err := ReadShardIn(root, good, func(n int64, label string) error { got = append(got, n); return nil })
	if err != nil || h.Count != 3 || h.First != 14155550100 || len(got) != 3 || got[2] != 14155550120 {
		t.Fatalf("good: header %+v, numbers %v, %v", h, got, err)
	}
	if h, err := ReadShardIn(root, good, nil); err != nil || h.Last != 14155550120 {
		t.Fatalf("good, no fn: header %+v, %v", h, err)
	}
	for _, tc := range []struct {
		name string
		edit func(s *ShardInfo)
		want string
	}{
		{"other SHA-256", func(s *ShardInfo) { s.SHA256 = strings.Repeat("0", 64) }, "SHA-256 " + good.SHA256[:12] + "…, the manifest says 000000000000…"},
		{"other count", func(s *ShardInfo) { s.Count = 5 }, "3 entries, the manifest says 5"},
	} {
		s := good
		tc.edit(&s)
		h, err := ReadShardIn(root, s, nil)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "block-0001.shard") {
			t.Errorf("%s: %v, want an error with %q", tc.name, err, tc.want)
		}
		if h != (Header{}) {
			t.Errorf("%s: header %+v returned with the error", tc.name, h)
		}
		if err2 := EachInShard(root, s, func(int64, string) error { return nil }); err2 == nil || err2.Error() != err.Error() {
			t.Errorf("%s: EachInShard: %v, ReadShardIn: %v", tc.name, err2, err)
		}
	}
}
