package main

import (
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/calldir/calldir/shard/channel"
)

// word is a word of a message.
var word = regexp.MustCompile(`\w+`)

// hasDoubled reports a word said twice in a row ("signature: signature:").
func hasDoubled(s string) bool {
	ws := word.FindAllString(s, -1)
	for i := 1; i < len(ws); i++ {
		if ws[i] == ws[i-1] && len(ws[i]) > 2 {
			return true
		}
	}
	return false
}

// The channel commands' messages: one line, "calldir: ", no word said
// twice, no Go wrapper (Get "…", mkdir, stat), and what the user needs.
func TestChannelMessages(t *testing.T) {
	s := newChannelSetup(t)
	ch := filepath.Join(s.dir, "ch")
	s.publish(t, ch, 0, s.builds[0])
	mustCLI(t, 0, "keygen", "--out", filepath.Join(s.dir, "k2"))
	file := mustWrite(t, filepath.Join(s.dir, "l1.txt"), "x\n")
	srv := httptest.NewServer(nil)
	dead := srv.URL + "/ch"
	srv.Close()
	for _, tc := range []struct {
		name string
		env  string // CALLDIR_CHANNEL_KEY
		args []string
		want string
	}{
		{"key is a directory", "", []string{"publish", "--channel", ch, "--key", filepath.Join(s.dir, "keys"), s.builds[1]}, "is a directory, not a key file"},
		{"key from the environment", "nosuch.pem", []string{"publish", "--channel", ch, s.builds[1]}, "read key nosuch.pem: no such file or directory (the path is from CALLDIR_CHANNEL_KEY)"},
		{"another scheme", "", []string{"verify-channel", "--pubkey", s.pub, "ftp://x/y"}, "ftp://x/y: scheme ftp: want an http(s) URL"},
		{"no such directory", "", []string{"verify-channel", "--pubkey", s.pub, filepath.Join(s.dir, "nodir")}, "nodir: no such file or directory"},
		{"connection refused", "", []string{"verify-channel", "--pubkey", s.pub, dead}, "fetch " + dead + "/channel.json: connection refused"},
		{"channel inside a build", "", []string{"publish", "--channel", filepath.Join(s.builds[0], "ch"), "--key", s.priv, s.builds[1]}, "--channel " + filepath.Join(s.builds[0], "ch") + " would be made inside the calldir build " + s.builds[0]},
		{"keygen into a file", "", []string{"keygen", "--out", file}, "--out " + file + " is a regular file, not a directory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.env != "" {
				t.Setenv("CALLDIR_CHANNEL_KEY", tc.env)
			} else {
				t.Setenv("CALLDIR_CHANNEL_KEY", "")
			}
			code, _, errs := runCLI(t, "", tc.args...)
			line := strings.TrimSuffix(errs, "\n")
			if code != 2 || strings.Contains(line, "\n") || !strings.HasPrefix(line, "calldir: ") || !strings.Contains(line, tc.want) || hasDoubled(line) ||
				strings.Contains(line, `Get "`) || strings.Contains(line, "mkdir ") || strings.Contains(line, "stat ") {
				t.Errorf("exit %d, stderr %q; want 2 and one line with %q", code, errs, tc.want)
			}
		})
	}
	// The findings of a pointer that does not verify: the kind once.
	_, out, _ := runCLI(t, "", "verify-channel", "--pubkey", filepath.Join(s.dir, "k2", channel.PublicKeyFile), ch)
	if !strings.Contains(out, "signature: no signature verifies") || hasDoubled(out) {
		t.Errorf("another key: %q", out)
	}
	if err := os.WriteFile(filepath.Join(ch, channel.PointerName), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, out, _ = runCLI(t, "", "verify-channel", "--pubkey", s.pub, ch)
	if !strings.Contains(out, "envelope: not a JSON envelope") || hasDoubled(out) {
		t.Errorf("not JSON: %q", out)
	}
}
