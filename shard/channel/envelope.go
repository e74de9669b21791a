package channel

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
)

// Envelope is a DSSE envelope (secure-systems-lab/dsse, protocol v1): the
// payload and its signatures in one JSON document, so that a signature is
// never checked against another version's payload. Unknown fields are
// ignored, as DSSE asks.
type Envelope struct {
	PayloadType string      `json:"payloadType"`
	Payload     string      `json:"payload"` // base64 of the pointer's bytes
	Signatures  []Signature `json:"signatures"`
}

// Signature is one signature of an envelope. KeyID is a hint for humans
// (the hex SHA-256 of the raw public key); it is never used to decide.
type Signature struct {
	KeyID string `json:"keyid,omitempty"`
	Sig   string `json:"sig"` // base64 of the 64-byte Ed25519 signature
}

// maxSignatures bounds the signatures an envelope may carry (a key being
// rotated has two); more is a hostile document.
const maxSignatures = 8

// PAE is DSSE's pre-authentication encoding of a payload, the bytes that
// are signed:
//
//	"DSSEv1" SP LEN(type) SP type SP LEN(body) SP body
//
// LEN is the byte length in ASCII decimal without leading zeros, SP one
// space. Binding the type and both lengths means no other (type, body)
// pair encodes to the same bytes.
func PAE(payloadType string, body []byte) []byte {
	var b bytes.Buffer
	b.WriteString("DSSEv1 ")
	b.WriteString(strconv.Itoa(len(payloadType)))
	b.WriteByte(' ')
	b.WriteString(payloadType)
	b.WriteByte(' ')
	b.WriteString(strconv.Itoa(len(body)))
	b.WriteByte(' ')
	b.Write(body)
	return b.Bytes()
}

// Sign encodes p and returns the envelope file's bytes (indented JSON and a
// final newline) with one Ed25519 signature by key over PAE(PayloadType,
// payload), and the payload.
func Sign(key ed25519.PrivateKey, p *Pointer) (file, payload []byte, err error) {
	payload, err = p.Marshal()
	if err != nil {
		return nil, nil, err
	}
	sig := ed25519.Sign(key, PAE(PayloadType, payload))
	env := Envelope{
		PayloadType: PayloadType,
		Payload:     base64.StdEncoding.EncodeToString(payload),
		Signatures:  []Signature{{KeyID: KeyID(key.Public().(ed25519.PublicKey)), Sig: base64.StdEncoding.EncodeToString(sig)}},
	}
	file, err = json.MarshalIndent(&env, "", "  ")
	if err != nil {
		return nil, nil, err
	}
	return append(file, '\n'), payload, nil
}

// EnvelopeError is a file that is not a DSSE envelope calldir can check:
// not JSON, no payload, base64 that does not decode, too many signatures,
// or (after the signature) a payload type that is not a pointer's.
type EnvelopeError struct{ Reason string }

func (e *EnvelopeError) Error() string { return "envelope: " + e.Reason }

// SignatureError is an envelope no trusted key signed: the payload or the
// signature was changed, or another key signed it.
type SignatureError struct {
	Signatures int // how many the envelope carried
	Keys       int // how many keys were tried
	Reason     string
}

func (e *SignatureError) Error() string {
	return fmt.Sprintf("signature: %s (%d signature(s) checked against %d trusted key(s))", e.Reason, e.Signatures, e.Keys)
}

// Decode parses an envelope without checking anything but its shape.
func Decode(data []byte) (*Envelope, []byte, error) {
	if len(data) > MaxPointerBytes {
		return nil, nil, &EnvelopeError{fmt.Sprintf("larger than %d bytes", MaxPointerBytes)}
	}
	var env Envelope
	if err := json.Unmarshal(data, &env); err != nil {
		return nil, nil, &EnvelopeError{"not a JSON envelope: " + err.Error()}
	}
	if env.Payload == "" {
		return nil, nil, &EnvelopeError{"no payload"}
	}
	payload, err := decodeBase64(env.Payload)
	if err != nil {
		return nil, nil, &EnvelopeError{"payload is not base64"}
	}
	if len(env.Signatures) > maxSignatures {
		return nil, nil, &EnvelopeError{fmt.Sprintf("%d signatures, more than %d", len(env.Signatures), maxSignatures)}
	}
	return &env, payload, nil
}

// Open checks an envelope the way an app does, in this order: its shape;
// that one of its signatures is a valid Ed25519 signature by one of keys
// over PAE(payloadType, payload) (nothing of the payload is read before);
// that the payload type is a pointer's; and the pointer itself. It
// returns the pointer and its payload bytes. Errors are an
// *EnvelopeError, a *SignatureError or a *PointerError.
func Open(data []byte, keys []ed25519.PublicKey) (*Pointer, []byte, error) {
	env, payload, err := Decode(data)
	if err != nil {
		return nil, nil, err
	}
	if err := checkSignatures(env, payload, keys); err != nil {
		return nil, nil, err
	}
	if env.PayloadType != PayloadType {
		return nil, nil, &EnvelopeError{fmt.Sprintf("payloadType %q, want %q", clip(env.PayloadType), PayloadType)}
	}
	p, err := ReadPointer(bytes.NewReader(payload))
	if err != nil {
		var pe *PointerError
		if !errors.As(err, &pe) {
			err = &PointerError{Problems: []string{err.Error()}}
		}
		return nil, nil, err
	}
	return p, payload, nil
}

func checkSignatures(env *Envelope, payload []byte, keys []ed25519.PublicKey) error {
	se := &SignatureError{Signatures: len(env.Signatures), Keys: len(keys)}
	switch {
	case len(keys) == 0:
		se.Reason = "no trusted key given"
		return se
	case len(env.Signatures) == 0:
		se.Reason = "the envelope is not signed"
		return se
	}
	msg := PAE(env.PayloadType, payload)
	malformed := 0
	for _, s := range env.Signatures {
		sig, err := decodeBase64(s.Sig)
		if err != nil || len(sig) != ed25519.SignatureSize {
			malformed++
			continue
		}
		for _, k := range keys {
			if len(k) == ed25519.PublicKeySize && ed25519.Verify(k, msg, sig) {
				return nil
			}
		}
	}
	se.Reason = "no signature verifies: the payload or the signature was changed, or another key signed it"
	if malformed == len(env.Signatures) {
		se.Reason = fmt.Sprintf("no signature is %d bytes of base64", ed25519.SignatureSize)
	}
	return se
}

// decodeBase64 accepts standard and URL-safe base64, padded or not, as a
// DSSE verifier must.
func decodeBase64(s string) ([]byte, error) {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
		if b, err := enc.Strict().DecodeString(s); err == nil {
			return b, nil
		}
	}
	return nil, errors.New("not base64")
}
