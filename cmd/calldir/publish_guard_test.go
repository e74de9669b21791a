package main

import (
	"crypto/ed25519"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/calldir/calldir/shard/channel"
)

// Refusals that keep a channel publishable and its kind fixed: each
// leaves the channel as it was, with exit 2 and a message naming both
// sides.
func TestPublishGuards(t *testing.T) {
	s := newChannelSetup(t)
	ch := filepath.Join(s.dir, "ch")
	s.publish(t, ch, 0, s.builds[0])
	ids := mustWrite(t, filepath.Join(s.dir, "ids.csv"), "number,label\n+14155550111,Spam\n+14155550112,Scam\n")
	idb := filepath.Join(s.dir, "ids")
	mustCLI(t, 0, "compile", "-q", "--kind", "identify", "-o", idb, ids)
	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"a sequence far ahead", []string{"--sequence", "9999999999", s.builds[1]}, []string{"more than 1000 above 1", "at most 1001"}},
		{"time going backwards", []string{"--now", "2026-02-28T12:00:00Z", s.builds[1]}, []string{"2026-02-28T12:00:00Z is before 2026-03-01T12:00:00Z", "backwards"}},
		{"another kind", []string{"--max-shrink", "100%", idb}, []string{"identify build", "block build"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := snapshotTree(t, s.dir)
			code, _, errs := runCLI(t, "", append([]string{"publish", "--channel", ch, "--key", s.priv, "--now", pubNow}, tc.args...)...)
			if code != 2 || strings.Count(strings.TrimSpace(errs), "\n") > 0 {
				t.Errorf("exit %d, stderr %q; want 2 and one line", code, errs)
			}
			for _, w := range tc.want {
				if !strings.Contains(errs, w) {
					t.Errorf("stderr %q; want %q", errs, w)
				}
			}
			assertSameTree(t, s.dir, before)
		})
	}
	// The controls: 1,000 ahead is taken, and so is the same second again
	// (several builds in one publish).
	s.publish(t, ch, 0, "--sequence", "1001", s.builds[1])
	s.publish(t, ch, 0, s.builds[2], s.builds[0])
	if r := s.mustVerify(t, ch); r.Sequence != 1003 {
		t.Errorf("sequence %d, want 1003", r.Sequence)
	}
}

// A pointer already expired by this machine's clock is published (tests
// and simulations publish as of a past --now) with a warning; one that
// is not warns nothing.
func TestPublishExpiredWarning(t *testing.T) {
	s := newChannelSetup(t)
	ch := filepath.Join(s.dir, "ch")
	errs := s.publish(t, ch, 0, s.builds[0])
	if !strings.Contains(errs, "calldir: warning: sequence 1 expires 2026-03-08T12:00:00Z, not after this machine's clock") || !strings.Contains(errs, "frozen") {
		t.Errorf("a pointer expired at publish: stderr %q, want the warning", errs)
	}
	now := time.Now().UTC().Format(time.RFC3339)
	_, errs = mustCLI(t, 0, "publish", "-q", "--channel", ch, "--key", s.priv, "--now", now, s.builds[1])
	if errs != "" {
		t.Errorf("a live pointer: stderr %q, want nothing", errs)
	}
}

// verify-channel reports a pointer offering builds of two kinds (signed
// here directly: publish refuses to make one).
func TestVerifyChannelMixedKinds(t *testing.T) {
	s := newChannelSetup(t)
	ch := filepath.Join(s.dir, "ch")
	s.publish(t, ch, 0, s.builds[0])
	ids := mustWrite(t, filepath.Join(s.dir, "ids.csv"), "number,label\n+14155550111,Spam\n")
	idb := filepath.Join(s.dir, "ids")
	mustCLI(t, 0, "compile", "-q", "--kind", "identify", "-o", idb, ids)
	// A second channel holding the identify build gives its offer, which
	// is copied with the build into the first channel's pointer.
	other := filepath.Join(s.dir, "other")
	s.publish(t, other, 0, "--name", "ch", idb)
	key, err := channel.ReadPrivateKey(s.priv)
	if err != nil {
		t.Fatal(err)
	}
	p := readPointer(t, ch, s.pub)
	q := readPointer(t, other, s.pub)
	copyTree(t, filepath.Join(other, "builds", q.Target), filepath.Join(ch, "builds", q.Target))
	p.Builds = append(p.Builds, q.Builds[0])
	p.Sequence++
	file, _, err := channel.Sign(key, p)
	if err != nil {
		t.Fatal(err)
	}
	mustWrite(t, filepath.Join(ch, channel.PointerName), string(file))
	code, v := s.verify(t, ch)
	if code != 1 || len(v.Report.Findings) != 1 || v.Report.Findings[0].Kind != channel.KindBuildKind {
		t.Errorf("exit %d, findings %v; want 1 and one %s", code, v.Report.Findings, channel.KindBuildKind)
	}
}

func readPointer(t *testing.T, ch, pub string) *channel.Pointer {
	t.Helper()
	k, err := channel.ReadPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	p, _, err := channel.Open([]byte(mustRead(t, filepath.Join(ch, channel.PointerName))), []ed25519.PublicKey{k})
	if err != nil {
		t.Fatal(err)
	}
	return p
}
