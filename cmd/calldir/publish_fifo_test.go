//go:build unix

package main

import (
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A FIFO where the channel has a file: verify-channel and publish refuse
// it without opening it (an open would block until a writer came).
func TestVerifyChannelFIFO(t *testing.T) {
	s := newChannelSetup(t)
	ch := filepath.Join(s.dir, "ch")
	s.publish(t, ch, 0, s.builds[0])
	s.publish(t, ch, 0, s.builds[1])
	id := buildID(t, s.builds[1])
	shard := readManifest(t, s.builds[1]).Shards[0].File
	for _, tc := range []struct {
		name, rel, want, publishWant string
	}{
		{"channel.json", "channel.json", "not a regular file", "named pipe"},
		{"a manifest", "builds/" + id + "/manifest.json", "not a regular file", "not a regular file"},
		{"a shard", "builds/" + id + "/" + shard, "not-regular", "named pipe"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := filepath.Join(t.TempDir(), "ch")
			copyTree(t, ch, c)
			mkfifo(t, filepath.Join(c, filepath.FromSlash(tc.rel)))
			done := make(chan string, 1)
			go func() {
				code, out, errs := runCLI(t, "", "verify-channel", "--pubkey", s.pub, "--now", verifyNow, c)
				done <- strings.Join([]string{string(rune('0' + code)), out, errs}, "\n")
			}()
			select {
			case got := <-done:
				if !strings.HasPrefix(got, "1\n") || !strings.Contains(got, tc.want) {
					t.Errorf("verify-channel: got %q; want exit 1 and %q", got, tc.want)
				}
			case <-time.After(30 * time.Second):
				t.Fatal("verify-channel blocked on the FIFO")
			}
			go func() {
				code, _, errs := runCLI(t, "", "publish", "--channel", c, "--key", s.priv, "--now", pubNow, s.builds[2])
				done <- strings.Join([]string{string(rune('0' + code)), errs}, "\n")
			}()
			select {
			case got := <-done:
				if !strings.HasPrefix(got, "2\n") || !strings.Contains(got, tc.publishWant) {
					t.Errorf("publish: got %q; want exit 2 and %q", got, tc.publishWant)
				}
			case <-time.After(30 * time.Second):
				t.Fatal("publish blocked on the FIFO")
			}
		})
	}
}

func mkfifo(t *testing.T, path string) {
	t.Helper()
	if err := syscall.Unlink(path); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(path, 0o644); err != nil {
		t.Fatal(err)
	}
}
