package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/calldir/calldir/shard/channel"
)

// fixtures/channel holds a small signed channel, made with a test-only key,
// and tampered copies of it with the verdict an app must reach on each:
// the test vectors of the app's own (Swift) tests. This test checks every
// verdict, so that they cannot drift from what calldir does; with -update
// it makes the channel and the cases again (the key is kept).

var channelFixtures = filepath.Join("..", "..", "fixtures", "channel")

// channelCase is a case's case.json.
type channelCase struct {
	About   string   `json:"about"`   // what was done to the channel
	Args    []string `json:"args"`    // verify-channel's flags, besides --pubkey and --format
	Exit    int      `json:"exit"`    // 0 accept, 1 reject
	Verdict string   `json:"verdict"` // what the app concludes
	// Findings are "kind path" (path relative to the case's channel),
	// sorted: what calldir reports.
	Findings []string `json:"findings"`
}

// The cases: how each is made from the good channel, and its verdict.
var channelCases = []struct {
	name, about, verdict string
	args                 []string
	tamper               func(t *testing.T, ch string)
}{
	{"good", "the channel as published: three builds, sequence 3", "accept: load the target, or the delta from the build held", nil, nil},
	{"good-min-sequence", "the same, for an app that saw sequence 3 before", "accept", []string{"--min-sequence", "3"}, nil},
	{"expired", "the same, a week and a day after it was published", "reject: the pointer expired (a frozen channel); keep the build held", []string{"--now", "2026-03-09T12:00:00Z"}, nil},
	{"replayed", "channel.json replaced by pointers/0000000001.json, for an app that saw sequence 3", "reject: rollback; keep the build held",
		[]string{"--min-sequence", "3"}, func(t *testing.T, ch string) {
			mustWrite(t, filepath.Join(ch, "channel.json"), mustRead(t, filepath.Join(ch, "pointers", channel.HistoryName(1))))
		}},
	{"payload", "the pointer's payload edited (sequence 3 -> 9), the signature kept", "reject: bad signature", nil, func(t *testing.T, ch string) {
		editEnvelopeFile(t, ch, func(e map[string]any) {
			p, _ := decodeB64(e["payload"].(string))
			e["payload"] = encodeB64([]byte(strings.Replace(string(p), `"sequence":3`, `"sequence":9`, 1)))
		})
	}},
	{"signature", "one bit of the signature flipped", "reject: bad signature", nil, func(t *testing.T, ch string) {
		editEnvelopeFile(t, ch, func(e map[string]any) {
			s := e["signatures"].([]any)[0].(map[string]any)
			b, _ := decodeB64(s["sig"].(string))
			b[0] ^= 1
			s["sig"] = encodeB64(b)
		})
	}},
	{"truncated", "channel.json cut to its first 100 bytes", "reject: not an envelope", nil, func(t *testing.T, ch string) {
		p := filepath.Join(ch, "channel.json")
		mustWrite(t, p, mustRead(t, p)[:100])
	}},
	{"manifest", "one space added to the target build's manifest.json", "reject: the manifest is not the one signed", nil, func(t *testing.T, ch string) {
		p := filepath.Join(fixtureTarget(t, ch), "manifest.json")
		mustWrite(t, p, strings.Replace(mustRead(t, p), `"tool_version"`, `"tool_version" `, 1))
	}},
	{"shard", "one byte of the target build's shard flipped", "reject: a shard is not the one its signed manifest names", nil, func(t *testing.T, ch string) {
		shardFlip(t, filepath.Join(fixtureTarget(t, ch), "block-0001.shard"))
	}},
	{"delta", "one byte of a delta's request file flipped", "reject: a delta file is not the one its signed manifest names", nil, func(t *testing.T, ch string) {
		m, _ := filepath.Glob(filepath.Join(ch, "deltas", "*", "ext-0001", "0001-add.shard"))
		slices.Sort(m)
		shardFlip(t, m[0])
	}},
}

func fixtureTarget(t *testing.T, ch string) string {
	t.Helper()
	p, err := readPointerUnverified(filepath.Join(ch, "channel.json"))
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(ch, "builds", p.Target)
}

func readPointerUnverified(path string) (*channel.Pointer, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	_, payload, err := channel.Decode(b)
	if err != nil {
		return nil, err
	}
	return channel.ReadPointer(strings.NewReader(string(payload)))
}

func editEnvelopeFile(t *testing.T, ch string, f func(e map[string]any)) {
	t.Helper()
	p := filepath.Join(ch, "channel.json")
	var e map[string]any
	if err := json.Unmarshal([]byte(mustRead(t, p)), &e); err != nil {
		t.Fatal(err)
	}
	f(e)
	b, err := json.MarshalIndent(e, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	mustWrite(t, p, string(b)+"\n")
}

func TestChannelFixtures(t *testing.T) {
	root, err := filepath.Abs(channelFixtures)
	if err != nil {
		t.Fatal(err)
	}
	pub := filepath.Join(root, "test-key.pub.pem")
	if *update {
		makeChannelFixtures(t, root)
	}
	for _, c := range channelCases {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join(root, "cases", c.name)
			var want channelCase
			if err := json.Unmarshal([]byte(mustRead(t, filepath.Join(dir, "case.json"))), &want); err != nil {
				t.Fatal(err)
			}
			ch := filepath.Join(dir, "channel")
			args := append([]string{"verify-channel", "--format", "json", "--pubkey", pub, "--now", "2026-03-02T12:00:00Z"}, want.Args...)
			code, out, errs := runCLI(t, "", append(args, ch)...)
			var v verifyOut
			if err := json.Unmarshal([]byte(out), &v); err != nil {
				t.Fatalf("exit %d: %v\n%s%s", code, err, out, errs)
			}
			var got []string
			for _, f := range v.Report.Findings {
				rel, _ := filepath.Rel(ch, f.File)
				got = append(got, string(f.Kind)+" "+filepath.ToSlash(rel))
			}
			slices.Sort(got)
			if code != want.Exit || !slices.Equal(got, want.Findings) {
				t.Errorf("%s: exit %d, findings\n  %s\nwant exit %d, findings\n  %s", c.name, code, strings.Join(got, "\n  "), want.Exit, strings.Join(want.Findings, "\n  "))
			}
		})
	}
}

// makeChannelFixtures publishes three builds of fixtures/channel/lists with
// the test key at fixed times, and makes each case from a copy.
func makeChannelFixtures(t *testing.T, root string) {
	priv := filepath.Join(root, "test-key.pem")
	if _, err := os.Stat(priv); err != nil {
		k := t.TempDir()
		mustCLI(t, 0, "keygen", "--out", k)
		for from, to := range map[string]string{channel.PrivateKeyFile: "test-key.pem", channel.PublicKeyFile: "test-key.pub.pem"} {
			mustWrite(t, filepath.Join(root, to), mustRead(t, filepath.Join(k, from)))
		}
	}
	work := t.TempDir()
	t.Chdir(work)
	good := filepath.Join(work, "channel")
	for i, day := range []string{"day1", "day2", "day3"} {
		mustWrite(t, filepath.Join("lists", day+".txt"), mustRead(t, filepath.Join(root, "lists", day+".txt")))
		mustCLI(t, 0, "compile", "-q", "--max-per-shard", "1000", "-o", day, filepath.Join("lists", day+".txt"))
		mustCLI(t, 0, "publish", "-q", "--channel", good, "--name", "fixture", "--key", priv, "--now", "2026-03-01T0"+string(rune('0'+i))+":00:00Z", day)
	}
	os.RemoveAll(filepath.Join(root, "cases"))
	for _, c := range channelCases {
		dir := filepath.Join(root, "cases", c.name)
		ch := filepath.Join(dir, "channel")
		copyTree(t, good, ch)
		if c.tamper != nil {
			c.tamper(t, ch)
		}
		args := append([]string{"verify-channel", "--format", "json", "--pubkey", filepath.Join(root, "test-key.pub.pem"), "--now", "2026-03-02T12:00:00Z"}, c.args...)
		code, out, _ := runCLI(t, "", append(args, ch)...)
		var v verifyOut
		if err := json.Unmarshal([]byte(out), &v); err != nil {
			t.Fatal(err)
		}
		cc := channelCase{About: c.about, Args: c.args, Exit: code, Verdict: c.verdict, Findings: []string{}}
		if cc.Args == nil {
			cc.Args = []string{}
		}
		for _, f := range v.Report.Findings {
			rel, _ := filepath.Rel(ch, f.File)
			cc.Findings = append(cc.Findings, string(f.Kind)+" "+filepath.ToSlash(rel))
		}
		slices.Sort(cc.Findings)
		if (code == 0) != strings.HasPrefix(c.verdict, "accept") {
			t.Errorf("%s: exit %d does not match the verdict %q", c.name, code, c.verdict)
		}
		b, _ := json.MarshalIndent(cc, "", "  ")
		mustWrite(t, filepath.Join(dir, "case.json"), string(b)+"\n")
	}
}
