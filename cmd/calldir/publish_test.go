package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/calldir/calldir/shard/channel"
)

// asCLIEnv makes the test binary run as calldir: the kill test re-executes
// this binary with it, as the verifier's kill faults do with their child.
const asCLIEnv = "CALLDIR_TEST_AS_CLI"

func init() {
	if os.Getenv(asCLIEnv) == "1" {
		os.Exit(run(context.Background(), append([]string{"calldir"}, os.Args[1:]...), os.Stdin, os.Stdout, os.Stderr))
	}
}

const (
	pubNow    = "2026-03-01T12:00:00Z"
	verifyNow = "2026-03-02T12:00:00Z" // a day later: inside the default 7 days
)

// seq returns n numbers from first, step apart.
func seqNums(first int64, n int, step int64) []int64 {
	out := make([]int64, n)
	for i := range out {
		out[i] = first + int64(i)*step
	}
	return out
}

// channelBuilds compiles three small builds that differ a little, as a
// daily blocklist does, and a key pair.
type channelSetup struct {
	dir, priv, pub string
	builds         []string
}

func newChannelSetup(t *testing.T) *channelSetup {
	t.Helper()
	dir := t.TempDir()
	s := &channelSetup{dir: dir}
	base := seqNums(14155550000, 400, 3)
	for i := 0; i < 3; i++ {
		nums := append([]int64(nil), base[i*20:]...)
		nums = append(nums, seqNums(14155560000+int64(i)*1000, 30, 7)...)
		s.builds = append(s.builds, compileBuild(t, dir, "b"+string(rune('0'+i)), 250, nums...))
	}
	mustCLI(t, 0, "keygen", "--out", filepath.Join(dir, "keys"))
	s.priv = filepath.Join(dir, "keys", channel.PrivateKeyFile)
	s.pub = filepath.Join(dir, "keys", channel.PublicKeyFile)
	return s
}

func (s *channelSetup) publish(t *testing.T, ch string, want int, args ...string) string {
	t.Helper()
	_, errs := mustCLI(t, want, append([]string{"publish", "--channel", ch, "--key", s.priv, "--now", pubNow}, args...)...)
	return errs
}

// verifyJSON runs verify-channel --format json and returns the exit code
// and the decoded report.
type verifyOut struct {
	OK     bool            `json:"ok"`
	Report *channel.Report `json:"report"`
}

func (s *channelSetup) verify(t *testing.T, ch string, args ...string) (int, *verifyOut) {
	t.Helper()
	code, out, errs := runCLI(t, "", append([]string{"verify-channel", "--format", "json", "--pubkey", s.pub, "--now", verifyNow}, append(args, ch)...)...)
	var v verifyOut
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("verify-channel %s: exit %d, output not JSON: %v\n%s\nstderr: %s", ch, code, err, out, errs)
	}
	return code, &v
}

func (s *channelSetup) mustVerify(t *testing.T, ch string, args ...string) *channel.Report {
	t.Helper()
	code, v := s.verify(t, ch, args...)
	if code != 0 || !v.OK {
		t.Fatalf("verify-channel %s: exit %d, findings %v", ch, code, v.Report.Findings)
	}
	return v.Report
}

func buildID(t *testing.T, dir string) string {
	t.Helper()
	var m struct {
		BuildID string `json:"build_id"`
	}
	if err := json.Unmarshal([]byte(mustRead(t, filepath.Join(dir, "manifest.json"))), &m); err != nil {
		t.Fatal(err)
	}
	return m.BuildID
}

// Acceptance: three builds published in a row, the channel verified after
// each; then the current target again only re-signs it.
func TestPublishThreeInARow(t *testing.T) {
	s := newChannelSetup(t)
	ch := filepath.Join(s.dir, "blocklist")
	for i, b := range s.builds {
		s.publish(t, ch, 0, b)
		r := s.mustVerify(t, ch, "--min-sequence", "1", "--name", "blocklist")
		if r.Sequence != uint64(i+1) || r.Target != buildID(t, b) || r.Channel != "blocklist" {
			t.Fatalf("after publish %d: sequence %d target %.12s channel %q", i+1, r.Sequence, r.Target, r.Channel)
		}
		if r.Builds != i+1 || r.Deltas != i {
			t.Errorf("after publish %d: %d builds, %d deltas offered, want %d and %d", i+1, r.Builds, r.Deltas, i+1, i)
		}
		if got := mustRead(t, filepath.Join(ch, "pointers", channel.HistoryName(uint64(i+1)))); got != mustRead(t, filepath.Join(ch, "channel.json")) {
			t.Errorf("pointers/%d is not the pointer published", i+1)
		}
	}
	target := filepath.Join(ch, "builds", buildID(t, s.builds[2]), "manifest.json")
	before := mustRead(t, target)
	fi0, _ := os.Stat(target)
	// The same target again (a rebuild: the same entries, another manifest).
	mustCLI(t, 0, "compile", "-q", "--max-per-shard", "250", "--out", filepath.Join(s.dir, "again"), filepath.Join(s.dir, "b2.txt"))
	errs := s.publish(t, ch, 0, "--expires", "30d", filepath.Join(s.dir, "again"))
	if !strings.Contains(errs, "re-signed") {
		t.Errorf("stderr: %s", errs)
	}
	r := s.mustVerify(t, ch, "--min-sequence", "4")
	if r.Sequence != 4 || !r.Expires.Equal(time.Date(2026, 3, 31, 12, 0, 0, 0, time.UTC)) {
		t.Errorf("re-signed: sequence %d expires %v", r.Sequence, r.Expires)
	}
	fi1, _ := os.Stat(target)
	if mustRead(t, target) != before || !fi1.ModTime().Equal(fi0.ModTime()) {
		t.Error("re-signing rewrote the target build")
	}
	// Retain 1: one delta; builds of neither this pointer nor the last are removed.
	s.publish(t, ch, 0, "--retain", "1", s.builds[0])
	r = s.mustVerify(t, ch)
	if r.Deltas != 1 || r.Builds != 2 {
		t.Errorf("--retain 1: %d builds, %d deltas", r.Builds, r.Deltas)
	}
	s.publish(t, ch, 0, "--retain", "1", s.builds[1])
	ents, _ := os.ReadDir(filepath.Join(ch, "builds"))
	if len(ents) != 3 {
		t.Errorf("builds/ holds %d builds after two --retain 1 publishes, want 3 (this pointer's two and the previous target)", len(ents))
	}
	s.mustVerify(t, ch)
}

// --keep-history removes nothing: every pointer of pointers/ still names
// files that are there (what calldir fleet replays); without it, a build
// no live pointer offers goes.
func TestPublishKeepHistory(t *testing.T) {
	s := newChannelSetup(t)
	for _, keep := range []bool{false, true} {
		ch := filepath.Join(s.dir, fmt.Sprint("ch-", keep))
		for _, b := range s.builds {
			args := []string{"--retain", "0", b}
			if keep {
				args = append([]string{"--keep-history"}, args...)
			}
			s.publish(t, ch, 0, args...)
		}
		ents, _ := os.ReadDir(filepath.Join(ch, "builds"))
		if want := map[bool]int{false: 2, true: 3}[keep]; len(ents) != want {
			t.Errorf("--keep-history=%v: builds/ holds %d builds, want %d", keep, len(ents), want)
		}
		s.mustVerify(t, ch)
	}
}

// Every refusal leaves the channel as it was.
func TestPublishRefuses(t *testing.T) {
	s := newChannelSetup(t)
	ch := filepath.Join(s.dir, "ch")
	s.publish(t, ch, 0, s.builds[0])
	s.publish(t, ch, 0, s.builds[1])
	small := compileBuild(t, s.dir, "small", 250, seqNums(14155550000, 50, 3)...)
	broken := filepath.Join(s.dir, "broken")
	copyTree(t, s.builds[2], broken)
	shardFlip(t, filepath.Join(broken, "block-0001.shard"))
	mustCLI(t, 0, "keygen", "--out", filepath.Join(s.dir, "other"))
	foreign := filepath.Join(s.dir, "mine")
	mustWrite(t, filepath.Join(foreign, "notes.txt"), "mine\n")
	// A number builds[2] blocks and builds[1] does not, protected: a
	// publish of both must refuse before it publishes builds[1].
	numbers := func(dir string) []int64 {
		var out []int64
		for _, sh := range readManifest(t, dir).Shards {
			out = append(out, readShardNumbers(t, filepath.Join(dir, sh.File))...)
		}
		return out
	}
	var first int64
	for _, n := range numbers(s.builds[2]) {
		if !slices.Contains(numbers(s.builds[1]), n) {
			first = n
			break
		}
	}
	if first == 0 {
		t.Fatal("builds[2] adds no number to builds[1]")
	}
	banks := mustWrite(t, filepath.Join(s.dir, "banks.txt"), "+"+strconv.FormatInt(first, 10)+"\n")
	for _, tc := range []struct {
		name string
		ch   string
		args []string
		want string
	}{
		{"lower sequence", ch, []string{"--sequence", "2", s.builds[2]}, "not above 2"},
		{"a build that fails validate", ch, []string{broken}, "fails validate"},
		{"shrink", ch, []string{small}, "fewer than"},
		{"another key", ch, []string{"--key", filepath.Join(s.dir, "other", channel.PrivateKeyFile), s.builds[2]}, "does not verify with this key"},
		{"another name", ch, []string{"--name", "other", s.builds[2]}, "is named"},
		{"a directory calldir did not make", foreign, []string{s.builds[2]}, "notes.txt"},
		{"a channel inside a build", filepath.Join(s.builds[0], "ch"), []string{s.builds[2]}, "build"},
		{"a protected number", ch, []string{"--protect", banks, s.builds[2]}, "+" + strconv.FormatInt(first, 10)},
		{"a protected number in the second build", ch, []string{"--protect", banks, s.builds[1], s.builds[2]}, "banks.txt:1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := snapshotTree(t, s.dir)
			code, _, errs := runCLI(t, "", append([]string{"publish", "--channel", tc.ch, "--key", s.priv, "--now", pubNow}, tc.args...)...)
			if code != 2 || !strings.Contains(errs, tc.want) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", code, errs, tc.want)
			}
			assertSameTree(t, s.dir, before)
		})
	}
	// The controls: the same channel takes the next sequence, and the small
	// build with --max-shrink 100%.
	s.publish(t, ch, 0, "--sequence", "3", s.builds[2])
	s.publish(t, ch, 0, "--max-shrink", "100%", small)
	s.mustVerify(t, ch, "--min-sequence", "4")
}

// shardFlip flips one byte in the body of a shard.
func shardFlip(t *testing.T, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)-3] ^= 0x40
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// Acceptance: each kind of tampering is reported with its own finding,
// naming the file, exit 1.
func TestVerifyChannelTampered(t *testing.T) {
	s := newChannelSetup(t)
	ch := filepath.Join(s.dir, "ch")
	for _, b := range s.builds {
		s.publish(t, ch, 0, b)
	}
	s.mustVerify(t, ch, "--min-sequence", "3")
	target := buildID(t, s.builds[2])
	first := filepath.Join("deltas", buildID(t, s.builds[0])+"-"+target)
	editPayload := func(t *testing.T, c string, f func(string) string) {
		var e map[string]any
		json.Unmarshal([]byte(mustRead(t, filepath.Join(c, "channel.json"))), &e)
		p, _ := decodeB64(e["payload"].(string))
		e["payload"] = encodeB64([]byte(f(string(p))))
		b, _ := json.Marshal(e)
		mustWrite(t, filepath.Join(c, "channel.json"), string(b))
	}
	for _, tc := range []struct {
		name   string
		tamper func(t *testing.T, c string)
		args   []string
		kind   string // the finding's kind (validate's, for a shard: any of a|b)
		file   string // the finding's file, relative to the channel
	}{
		{"a shard byte", func(t *testing.T, c string) {
			shardFlip(t, filepath.Join(c, "builds", target, "block-0001.shard"))
		}, nil, "checksum|sha256", filepath.Join("builds", target, "block-0001.shard")},
		{"a delta file", func(t *testing.T, c string) {
			shardFlip(t, filepath.Join(c, first, "ext-0001", "0001-add.shard"))
		}, nil, "header|checksum|sha256", filepath.Join(first, "ext-0001", "0001-add.shard")},
		{"the manifest", func(t *testing.T, c string) {
			p := filepath.Join(c, "builds", target, "manifest.json")
			mustWrite(t, p, strings.Replace(mustRead(t, p), `"tool_version"`, `"tool_version" `, 1))
		}, nil, "manifest-hash", filepath.Join("builds", target, "manifest.json")},
		{"the pointer's payload", func(t *testing.T, c string) {
			editPayload(t, c, func(p string) string { return strings.Replace(p, `"sequence":3`, `"sequence":9`, 1) })
		}, nil, "signature", "channel.json"},
		{"the signature", func(t *testing.T, c string) {
			p := filepath.Join(c, "channel.json")
			var e map[string]any
			json.Unmarshal([]byte(mustRead(t, p)), &e)
			sig := e["signatures"].([]any)[0].(map[string]any)
			b, _ := decodeB64(sig["sig"].(string))
			b[0] ^= 1
			sig["sig"] = encodeB64(b)
			out, _ := json.Marshal(e)
			mustWrite(t, p, string(out))
		}, nil, "signature", "channel.json"},
		{"an old pointer replayed", func(t *testing.T, c string) {
			mustWrite(t, filepath.Join(c, "channel.json"), mustRead(t, filepath.Join(c, "pointers", channel.HistoryName(1))))
		}, []string{"--min-sequence", "3"}, "rollback", "channel.json"},
		{"an expired pointer", func(t *testing.T, c string) {}, []string{"--now", "2026-03-08T12:00:00Z"}, "expired", "channel.json"},
		{"a truncated pointer", func(t *testing.T, c string) {
			p := filepath.Join(c, "channel.json")
			mustWrite(t, p, mustRead(t, p)[:100])
		}, nil, "envelope", "channel.json"},
		{"a missing build", func(t *testing.T, c string) {
			os.RemoveAll(filepath.Join(c, "builds", target))
		}, nil, "missing-file", filepath.Join("builds", target, "manifest.json")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := filepath.Join(t.TempDir(), "ch")
			copyTree(t, ch, c)
			s.mustVerify(t, c, "--min-sequence", "3") // the copy is good
			tc.tamper(t, c)
			code, v := s.verify(t, c, tc.args...)
			if code != 1 || v.OK {
				t.Fatalf("exit %d ok %v, want 1", code, v.OK)
			}
			var kinds []string
			found := false
			for _, f := range v.Report.Findings {
				kinds = append(kinds, string(f.Kind)+" "+f.File)
				if slices.Contains(strings.Split(tc.kind, "|"), string(f.Kind)) && f.File == filepath.Join(c, tc.file) {
					found = true
				}
			}
			if !found {
				t.Errorf("no %s finding on %s; findings:\n%s", tc.kind, tc.file, strings.Join(kinds, "\n"))
			}
		})
	}
	// The other pinned key alone: the signature is refused; both keys: accepted.
	mustCLI(t, 0, "keygen", "--out", filepath.Join(s.dir, "other"))
	other := filepath.Join(s.dir, "other", channel.PublicKeyFile)
	if code, _, _ := runCLI(t, "", "verify-channel", "--pubkey", other, "--now", verifyNow, ch); code != 1 {
		t.Errorf("another key: exit %d, want 1", code)
	}
	mustCLI(t, 0, "verify-channel", "--pubkey", other, "--pubkey", s.pub, "--now", verifyNow, ch)
	out, _ := mustCLI(t, 1, "verify-channel", "--format", "github", "--pubkey", other, "--now", verifyNow, ch)
	if !strings.Contains(out, "::error file=") || !strings.Contains(out, "calldir signature") {
		t.Errorf("github format: %s", out)
	}
}

// verify-channel on a URL: the same verdicts over HTTP, findings named by
// URL; a server that does not have the channel is a finding, not a hang.
func TestVerifyChannelURL(t *testing.T) {
	s := newChannelSetup(t)
	ch := filepath.Join(s.dir, "ch")
	s.publish(t, ch, 0, s.builds[0])
	s.publish(t, ch, 0, s.builds[1])
	srv := httptest.NewServer(http.FileServer(http.Dir(s.dir)))
	defer srv.Close()
	r := s.mustVerify(t, srv.URL+"/ch", "--min-sequence", "2")
	if r.Deltas != 1 || r.Shards == 0 {
		t.Errorf("over HTTP: %d deltas, %d shards checked", r.Deltas, r.Shards)
	}
	id := buildID(t, s.builds[1])
	shardFlip(t, filepath.Join(ch, "builds", id, "block-0001.shard"))
	code, v := s.verify(t, srv.URL+"/ch")
	if code != 1 || len(v.Report.Findings) == 0 || !strings.HasPrefix(v.Report.Findings[0].File, srv.URL+"/ch/builds/"+id+"/") {
		t.Errorf("tampered over HTTP: exit %d, findings %v", code, v.Report.Findings)
	}
	code, v = s.verify(t, srv.URL+"/nothing")
	if code != 1 || len(v.Report.Findings) != 1 || v.Report.Findings[0].Kind != channel.KindMissing {
		t.Errorf("no channel: exit %d, findings %v", code, v.Report.Findings)
	}
}

// keygen writes a private key only its owner reads, and never replaces a
// key; publish takes the key from CALLDIR_CHANNEL_KEY.
func TestKeygen(t *testing.T) {
	dir := t.TempDir()
	out, _ := mustCLI(t, 0, "keygen", "--out", dir)
	fi, err := os.Stat(filepath.Join(dir, channel.PrivateKeyFile))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("private key: %v, mode %v", err, fi.Mode())
	}
	if !strings.Contains(out, "raw public key") {
		t.Errorf("stdout: %s", out)
	}
	before := mustRead(t, filepath.Join(dir, channel.PrivateKeyFile))
	if code, _, errs := runCLI(t, "", "keygen", "--out", dir); code != 2 || !strings.Contains(errs, "exists") {
		t.Errorf("second keygen: exit %d, %s", code, errs)
	}
	if mustRead(t, filepath.Join(dir, channel.PrivateKeyFile)) != before {
		t.Error("keygen replaced a key")
	}
	b := compileBuild(t, dir, "b", 250, seqNums(14155550000, 10, 1)...)
	var o, e strings.Builder
	env := &env{stdin: strings.NewReader(""), stdout: &o, stderr: &e, getenv: func(k string) string {
		if k == keyEnv {
			return filepath.Join(dir, channel.PrivateKeyFile)
		}
		return ""
	}}
	if code := runEnv(context.Background(), []string{"calldir", "publish", "--channel", filepath.Join(dir, "ch"), b}, env); code != 0 {
		t.Fatalf("publish with %s: exit %d: %s", keyEnv, code, e.String())
	}
	if code, _, errs := runCLI(t, "", "publish", "--channel", filepath.Join(dir, "ch2"), b); code != 2 || !strings.Contains(errs, keyEnv) {
		t.Errorf("no key: exit %d, %s", code, errs)
	}
}

// Acceptance: a publish killed with SIGKILL at a random moment always
// leaves a channel verify-channel accepts, at the old or the new target;
// the next publish completes it.
func TestPublishKilled(t *testing.T) {
	s := newChannelSetup(t)
	seed := filepath.Join(s.dir, "seed")
	s.publish(t, seed, 0, s.builds[0])
	s.publish(t, seed, 0, s.builds[1])
	oldID, newID := buildID(t, s.builds[1]), buildID(t, s.builds[2])
	bin, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	child := func(ch string) *exec.Cmd {
		cmd := exec.Command(bin, "publish", "-q", "--channel", ch, "--key", s.priv, "--now", pubNow, s.builds[2])
		cmd.Env = append(os.Environ(), asCLIEnv+"=1", pauseEnv+"=5ms")
		return cmd
	}
	// How long one whole publish takes here: the kills land inside it.
	probe := filepath.Join(s.dir, "probe")
	copyTree(t, seed, probe)
	start := time.Now()
	if out, err := child(probe).CombinedOutput(); err != nil {
		t.Fatalf("publish: %v\n%s", err, out)
	}
	whole := time.Since(start)
	// And how long the process takes to start: a kill before that tests
	// nothing, so the kills land between the two.
	start = time.Now()
	ver := exec.Command(bin, "version")
	ver.Env = append(os.Environ(), asCLIEnv+"=1")
	if out, err := ver.CombinedOutput(); err != nil {
		t.Fatalf("version: %v\n%s", err, out)
	}
	startup := min(time.Since(start), whole/2)
	rng := rand.New(rand.NewPCG(1, 2))
	outcome := map[string]int{}
	const runs = 24
	for i := 0; i < runs; i++ {
		ch := filepath.Join(s.dir, "run", string(rune('a'+i)))
		copyTree(t, seed, ch)
		cmd := child(ch)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(startup + time.Duration(rng.Int64N(int64(whole-startup))))
		cmd.Process.Kill()
		cmd.Wait()
		r := s.mustVerify(t, ch, "--min-sequence", "2")
		switch r.Target {
		case oldID:
			outcome["old"]++
		case newID:
			outcome["new"]++
		default:
			t.Fatalf("run %d: target %.12s…, neither the old nor the new", i, r.Target)
		}
		// The next publish completes what the killed one began.
		s.publish(t, ch, 0, "-q", s.builds[2])
		if r := s.mustVerify(t, ch, "--min-sequence", "3"); r.Target != newID {
			t.Fatalf("run %d: after the next publish, target %.12s…", i, r.Target)
		}
		left, _ := filepath.Glob(filepath.Join(ch, "*", ".*calldir-tmp-*"))
		if len(left) > 0 {
			t.Errorf("run %d: temporaries left after the next publish: %v", i, left)
		}
	}
	t.Logf("publish of %v (%v to start) killed %d times: %d left the old target, %d the new", whole.Round(time.Millisecond), startup.Round(time.Millisecond), runs, outcome["old"], outcome["new"])
	if outcome["old"] == 0 {
		t.Error("no kill landed before the pointer was replaced: the test did not exercise a killed publish")
	}
}

func decodeB64(s string) ([]byte, error) { return base64.StdEncoding.DecodeString(s) }
func encodeB64(b []byte) string          { return base64.StdEncoding.EncodeToString(b) }
