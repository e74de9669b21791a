package fleet

import (
	"context"
	"crypto/ed25519"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A channel that cannot be simulated is a clear error, never a panic:
// one injected fault per case.
func TestFleetHostileChannel(t *testing.T) {
	ch := mustChannel(t, 4, 100, 20)
	cases := []struct {
		name   string
		damage func(t *testing.T, dir string)
		want   string
	}{
		{"no pointers", func(t *testing.T, dir string) { os.RemoveAll(filepath.Join(dir, "pointers")) }, "pointers"},
		{"truncated pointer", func(t *testing.T, dir string) { truncate(t, filepath.Join(dir, "pointers", "0000000004.json")) }, "0000000004.json"},
		{"shard changed", func(t *testing.T, dir string) {
			m, _ := filepath.Glob(filepath.Join(dir, "builds", "*", "block-0001.shard"))
			data, err := os.ReadFile(m[0])
			if err != nil {
				t.Fatal(err)
			}
			data[len(data)-1] ^= 1
			if err := os.WriteFile(m[0], data, 0o644); err != nil {
				t.Fatal(err)
			}
		}, "SHA-256"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "channel")
			copyChannel(t, ch.dir, dir)
			tc.damage(t, dir)
			o := testOptions(testChannel{dir: dir, pub: ch.pub}, 2, 2, 1)
			_, err := Run(context.Background(), o)
			var he *HistoryError
			if !errors.As(err, &he) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want a history error naming %q", err, tc.want)
			}
		})
	}
	o := testOptions(ch, 2, 9, 1)
	if _, err := Run(context.Background(), o); err == nil || !strings.Contains(err.Error(), "4 pointers") {
		t.Errorf("9 days of a 4-pointer history: %v, want a refusal naming the history's length", err)
	}
}

func truncate(t *testing.T, path string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data[:len(data)/2], 0o644); err != nil {
		t.Fatal(err)
	}
}

// Several builds published in one run share their publish second: the
// history takes them (publish refuses a time going backwards).
func TestFleetHistorySameSecond(t *testing.T) {
	ch := mustChannelEvery(t, 3, 100, 20, 0)
	h, err := ReadHistory(ch.dir, []ed25519.PublicKey{ch.pub})
	if err != nil {
		t.Fatalf("ReadHistory: %v", err)
	}
	if len(h.Pointers) != 3 {
		t.Errorf("%d pointers, want 3", len(h.Pointers))
	}
}
