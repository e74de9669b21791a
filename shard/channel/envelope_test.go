package channel

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// testKey is a fixed key: the same seed gives the same signatures.
func testKey(seed byte) ed25519.PrivateKey {
	return ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed}, ed25519.SeedSize))
}

func hexID(c byte) string { return strings.Repeat(string(c), 64) }

func testPointer() *Pointer {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	return &Pointer{
		Format: PointerFormat, FormatVersion: PointerVersion, Channel: "test", Sequence: 3,
		Published: t0, Expires: t0.Add(DefaultExpires), Target: hexID('a'),
		Builds: []BuildOffer{{ID: hexID('a'), ManifestSHA256: hexID('1'), ManifestBytes: 10}, {ID: hexID('b'), ManifestSHA256: hexID('2'), ManifestBytes: 11}},
		Deltas: []DeltaOffer{{Base: hexID('b'), Target: hexID('a'), ManifestSHA256: hexID('3'), ManifestBytes: 12}},
	}
}

// The test vector of DSSE's protocol description.
func TestPAEVector(t *testing.T) {
	got := string(PAE("http://example.com/HelloWorld", []byte("hello world")))
	want := "DSSEv1 29 http://example.com/HelloWorld 11 hello world"
	if got != want {
		t.Errorf("PAE = %q, want %q", got, want)
	}
	if got := string(PAE("", nil)); got != "DSSEv1 0  0 " {
		t.Errorf("PAE of empty = %q", got)
	}
}

func mustSign(t *testing.T, k ed25519.PrivateKey, p *Pointer) []byte {
	t.Helper()
	file, _, err := Sign(k, p)
	if err != nil {
		t.Fatal(err)
	}
	return file
}

// editEnvelope decodes, changes and re-encodes an envelope.
func editEnvelope(t *testing.T, file []byte, f func(e map[string]any)) []byte {
	t.Helper()
	var e map[string]any
	if err := json.Unmarshal(file, &e); err != nil {
		t.Fatal(err)
	}
	f(e)
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestOpen(t *testing.T) {
	k := testKey(1)
	pub := k.Public().(ed25519.PublicKey)
	other := testKey(2).Public().(ed25519.PublicKey)
	good := mustSign(t, k, testPointer())
	payload := func(e map[string]any) []byte {
		b, _ := base64.StdEncoding.DecodeString(e["payload"].(string))
		return b
	}
	sig0 := func(e map[string]any) map[string]any { return e["signatures"].([]any)[0].(map[string]any) }
	resign := func(typ string, body []byte) string {
		return base64.StdEncoding.EncodeToString(ed25519.Sign(k, PAE(typ, body)))
	}
	for _, tc := range []struct {
		name string
		file []byte
		keys []ed25519.PublicKey
		want any // nil, or the error type
	}{
		{"good", good, []ed25519.PublicKey{pub}, nil},
		{"second pinned key", good, []ed25519.PublicKey{other, pub}, nil},
		{"another key", good, []ed25519.PublicKey{other}, &SignatureError{}},
		{"no key", good, nil, &SignatureError{}},
		{"payload changed", editEnvelope(t, good, func(e map[string]any) {
			e["payload"] = base64.StdEncoding.EncodeToString(bytes.Replace(payload(e), []byte(`"sequence":3`), []byte(`"sequence":9`), 1))
		}), []ed25519.PublicKey{pub}, &SignatureError{}},
		{"signature changed", editEnvelope(t, good, func(e map[string]any) {
			s, _ := base64.StdEncoding.DecodeString(sig0(e)["sig"].(string))
			s[10] ^= 1
			sig0(e)["sig"] = base64.StdEncoding.EncodeToString(s)
		}), []ed25519.PublicKey{pub}, &SignatureError{}},
		{"signature truncated", editEnvelope(t, good, func(e map[string]any) { sig0(e)["sig"] = sig0(e)["sig"].(string)[:20] }), []ed25519.PublicKey{pub}, &SignatureError{}},
		{"type changed, signature kept", editEnvelope(t, good, func(e map[string]any) { e["payloadType"] = "application/json" }), []ed25519.PublicKey{pub}, &SignatureError{}},
		{"type changed and signed", editEnvelope(t, good, func(e map[string]any) {
			e["payloadType"] = "application/json"
			sig0(e)["sig"] = resign("application/json", payload(e))
		}), []ed25519.PublicKey{pub}, &EnvelopeError{}},
		{"signed payload not a pointer", editEnvelope(t, good, func(e map[string]any) {
			body := []byte(`{"format":"calldir-channel"}`)
			e["payload"] = base64.StdEncoding.EncodeToString(body)
			sig0(e)["sig"] = resign(PayloadType, body)
		}), []ed25519.PublicKey{pub}, &PointerError{}},
		{"url-safe unpadded base64", editEnvelope(t, good, func(e map[string]any) {
			e["payload"] = base64.RawURLEncoding.EncodeToString(payload(e))
			s, _ := base64.StdEncoding.DecodeString(sig0(e)["sig"].(string))
			sig0(e)["sig"] = base64.RawURLEncoding.EncodeToString(s)
		}), []ed25519.PublicKey{pub}, nil},
		{"unknown fields ignored", editEnvelope(t, good, func(e map[string]any) { e["extra"] = 1; sig0(e)["keyid"] = "whatever" }), []ed25519.PublicKey{pub}, nil},
		{"unsigned", editEnvelope(t, good, func(e map[string]any) { e["signatures"] = []any{} }), []ed25519.PublicKey{pub}, &SignatureError{}},
		{"not JSON", good[:len(good)/2], []ed25519.PublicKey{pub}, &EnvelopeError{}},
		{"payload not base64", editEnvelope(t, good, func(e map[string]any) { e["payload"] = "%%%" }), []ed25519.PublicKey{pub}, &EnvelopeError{}},
		{"huge", append(bytes.Repeat([]byte(" "), MaxPointerBytes), good...), []ed25519.PublicKey{pub}, &EnvelopeError{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, _, err := Open(tc.file, tc.keys)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("Open: %v", err)
				}
				if p.Sequence != 3 || p.Target != hexID('a') {
					t.Errorf("pointer %+v", p)
				}
				return
			}
			var ok bool
			switch tc.want.(type) {
			case *SignatureError:
				var e *SignatureError
				ok = errors.As(err, &e)
			case *EnvelopeError:
				var e *EnvelopeError
				ok = errors.As(err, &e)
			case *PointerError:
				var e *PointerError
				ok = errors.As(err, &e)
			}
			if !ok {
				t.Errorf("Open: %v, want a %T", err, tc.want)
			}
		})
	}
}

func TestPointerValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(p *Pointer)
		want string // in the error; "" for valid
	}{
		{"valid", func(p *Pointer) {}, ""},
		{"format", func(p *Pointer) { p.Format = "x" }, "format"},
		{"version", func(p *Pointer) { p.FormatVersion = 2 }, "format_version"},
		{"sequence 0", func(p *Pointer) { p.Sequence = 0 }, "sequence 0"},
		{"sequence too high", func(p *Pointer) { p.Sequence = MaxSequence + 1 }, "sequence"},
		{"expires before published", func(p *Pointer) { p.Expires = p.Published }, "expires"},
		{"empty name", func(p *Pointer) { p.Channel = "" }, "channel"},
		{"control in name", func(p *Pointer) { p.Channel = "a\nb" }, "control"},
		{"target not hex", func(p *Pointer) { p.Target = "../../etc" }, "target"},
		{"upper-case id", func(p *Pointer) { p.Builds[1].ID = strings.ToUpper(hexID('b')) }, "builds[1].id"},
		{"target not first", func(p *Pointer) { p.Builds[0], p.Builds[1] = p.Builds[1], p.Builds[0] }, "builds[0]"},
		{"build twice", func(p *Pointer) { p.Builds[1] = p.Builds[0] }, "twice"},
		{"delta to another", func(p *Pointer) { p.Deltas[0].Target = hexID('c') }, "not to the target"},
		{"delta base not offered", func(p *Pointer) { p.Builds = p.Builds[:1] }, "not offered"},
		{"bad hash", func(p *Pointer) { p.Deltas[0].ManifestSHA256 = "00" }, "manifest_sha256"},
		{"zero bytes", func(p *Pointer) { p.Builds[0].ManifestBytes = 0 }, "manifest_bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := testPointer()
			tc.edit(p)
			err := p.Validate()
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Validate: %v, want it to mention %q", err, tc.want)
			}
		})
	}
}

// The pointer's payload round-trips, and unknown fields in it are refused
// (an envelope's are ignored; the payload is calldir's own format).
func TestReadPointer(t *testing.T) {
	p := testPointer()
	b, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	q, err := ReadPointer(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	b2, _ := q.Marshal()
	if !bytes.Equal(b, b2) {
		t.Errorf("round trip:\n%s\n%s", b, b2)
	}
	if _, err := ReadPointer(bytes.NewReader(bytes.Replace(b, []byte(`{"format"`), []byte(`{"x":1,"format"`), 1))); err == nil {
		t.Error("unknown field accepted")
	}
	if _, err := ReadPointer(bytes.NewReader(append(b, []byte(" {}")...))); err == nil {
		t.Error("trailing data accepted")
	}
}

// An independent Ed25519 implementation (OpenSSL 3) accepts the signature
// over the PAE bytes with the public key keygen writes, and refuses it over
// changed bytes.
func TestSignatureVerifiesWithOpenSSL(t *testing.T) {
	bin, err := exec.LookPath("openssl")
	if err != nil {
		t.Skip("openssl not installed (apt-get install -y openssl): the independent check is skipped")
	}
	k := testKey(7)
	file := mustSign(t, k, testPointer())
	env, payload, err := Decode(file)
	if err != nil {
		t.Fatal(err)
	}
	sig, _ := base64.StdEncoding.DecodeString(env.Signatures[0].Sig)
	dir := t.TempDir()
	pubPEM, err := MarshalPublicKey(k.Public().(ed25519.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	pub := write("pub.pem", pubPEM)
	sigf := write("sig.bin", sig)
	verify := func(signed []byte) (string, error) {
		in := write("signed.bin", signed)
		out, err := exec.Command(bin, "pkeyutl", "-verify", "-pubin", "-inkey", pub, "-rawin", "-in", in, "-sigfile", sigf).CombinedOutput()
		return string(out), err
	}
	if out, err := verify(PAE(env.PayloadType, payload)); err != nil || !strings.Contains(out, "Signature Verified Successfully") {
		t.Fatalf("openssl refused calldir's signature: %v\n%s", err, out)
	}
	changed := bytes.Replace(payload, []byte(`"sequence":3`), []byte(`"sequence":4`), 1)
	if out, err := verify(PAE(env.PayloadType, changed)); err == nil {
		t.Fatalf("openssl accepted the signature over a changed payload:\n%s", out)
	}
	// And the private key keygen writes is one openssl reads.
	privPEM, err := MarshalPrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	priv := write("key.pem", privPEM)
	out, err := exec.Command(bin, "pkey", "-in", priv, "-pubout").CombinedOutput()
	if err != nil || string(out) != string(pubPEM) {
		t.Errorf("openssl pkey -pubout: %v\n%s\nwant\n%s", err, out, pubPEM)
	}
}

func TestKeysRoundTrip(t *testing.T) {
	k := testKey(3)
	b, err := MarshalPrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	k2, err := ParsePrivateKey(b)
	if err != nil || !k2.Equal(k) {
		t.Fatalf("private key round trip: %v", err)
	}
	pb, _ := MarshalPublicKey(k.Public().(ed25519.PublicKey))
	if _, err := ParsePrivateKey(pb); err == nil {
		t.Error("a public key accepted as a private one")
	}
	if _, err := ParsePublicKey(b); err == nil {
		t.Error("a private key accepted as a public one")
	}
	if _, err := ParsePublicKey([]byte("garbage")); err == nil {
		t.Error("garbage accepted")
	}
}

func FuzzOpen(f *testing.F) {
	k := testKey(1)
	file, _, _ := Sign(k, testPointer())
	f.Add(file)
	f.Add([]byte(`{"payload":"e30=","payloadType":"x","signatures":[{"sig":"AA=="}]}`))
	pub := k.Public().(ed25519.PublicKey)
	f.Fuzz(func(t *testing.T, b []byte) {
		p, _, err := Open(b, []ed25519.PublicKey{pub})
		if err == nil && p.Validate() != nil {
			t.Fatal("Open accepted an invalid pointer")
		}
		readMark(bytes.NewReader(b))
	})
}
