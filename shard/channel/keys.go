package channel

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/calldir/calldir/shard"
	"github.com/calldir/calldir/shard/outfs"
)

// Key files are PEM, as openssl writes them: the private key as PKCS#8
// ("PRIVATE KEY"), the public key as SubjectPublicKeyInfo ("PUBLIC KEY").
// An app pins the 32 raw bytes of the public key (PublicKeyRaw).
const (
	PrivateKeyFile = "channel-key.pem"     // keygen's private key, mode 0600
	PublicKeyFile  = "channel-key.pub.pem" // keygen's public key
	maxKeyFile     = 64 << 10              // a PEM key is a few hundred bytes
)

// KeyID is the hex SHA-256 of a public key's 32 raw bytes: the envelope's
// keyid hint and what keygen prints.
func KeyID(pub ed25519.PublicKey) string {
	s := sha256.Sum256(pub)
	return hex.EncodeToString(s[:])
}

// GenerateKey makes a key pair from rand (crypto/rand when nil).
func GenerateKey(r io.Reader) (ed25519.PublicKey, ed25519.PrivateKey, error) {
	if r == nil {
		r = rand.Reader
	}
	return ed25519.GenerateKey(r)
}

// MarshalPrivateKey encodes a private key as PKCS#8 PEM.
func MarshalPrivateKey(k ed25519.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// MarshalPublicKey encodes a public key as SPKI PEM.
func MarshalPublicKey(k ed25519.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(k)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), nil
}

// ParsePrivateKey decodes a PKCS#8 PEM Ed25519 private key.
func ParsePrivateKey(data []byte) (ed25519.PrivateKey, error) {
	der, err := pemBlock(data, "PRIVATE KEY")
	if err != nil {
		return nil, err
	}
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("not a PKCS#8 private key: %w", err)
	}
	ek, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("a %T, not an Ed25519 key", k)
	}
	return ek, nil
}

// ParsePublicKey decodes an SPKI PEM Ed25519 public key.
func ParsePublicKey(data []byte) (ed25519.PublicKey, error) {
	der, err := pemBlock(data, "PUBLIC KEY")
	if err != nil {
		return nil, err
	}
	k, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, fmt.Errorf("not a SubjectPublicKeyInfo public key: %w", err)
	}
	ek, ok := k.(ed25519.PublicKey)
	if !ok {
		return nil, fmt.Errorf("a %T, not an Ed25519 key", k)
	}
	return ek, nil
}

func pemBlock(data []byte, want string) ([]byte, error) {
	b, _ := pem.Decode(data)
	switch {
	case b == nil:
		return nil, errors.New("no PEM block")
	case b.Type != want:
		return nil, fmt.Errorf("PEM block %q, want %q", clip(b.Type), want)
	}
	return b.Bytes, nil
}

// ReadPrivateKey reads and decodes a private key file; errors name it.
func ReadPrivateKey(path string) (ed25519.PrivateKey, error) {
	data, err := readKeyFile(path)
	if err != nil {
		return nil, err
	}
	k, err := ParsePrivateKey(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return k, nil
}

// ReadPublicKey reads and decodes a public key file; errors name it.
func ReadPublicKey(path string) (ed25519.PublicKey, error) {
	data, err := readKeyFile(path)
	if err != nil {
		return nil, err
	}
	k, err := ParsePublicKey(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return k, nil
}

func readKeyFile(path string) ([]byte, error) {
	// Stat before open: a FIFO would block the open.
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("read key %s: %w", path, pathCause(err))
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("read key %s: it is %s, not a key file", path, outfs.FileType(fi.Mode()))
	}
	f, err := os.OpenFile(path, os.O_RDONLY|shard.NoWait, 0)
	if err != nil {
		return nil, fmt.Errorf("read key %s: %w", path, pathCause(err))
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxKeyFile+1))
	if err != nil {
		return nil, fmt.Errorf("read key %s: %w", path, pathCause(err))
	}
	if len(data) > maxKeyFile {
		return nil, fmt.Errorf("%s: larger than %d bytes: not a key file", path, maxKeyFile)
	}
	return data, nil
}

// WriteKeyPair writes a new key pair into dir (made if missing) as
// PrivateKeyFile (0600) and PublicKeyFile (0644), through outfs; it
// refuses to replace either file (a *outfs.TargetError with Exists).
func WriteKeyPair(dir string, pub ed25519.PublicKey, priv ed25519.PrivateKey) (privPath, pubPath string, err error) {
	privPEM, err := MarshalPrivateKey(priv)
	if err != nil {
		return "", "", err
	}
	pubPEM, err := MarshalPublicKey(pub)
	if err != nil {
		return "", "", err
	}
	privPath, pubPath = dir+string(os.PathSeparator)+PrivateKeyFile, dir+string(os.PathSeparator)+PublicKeyFile
	if fi, err := os.Stat(dir); err == nil && !fi.IsDir() {
		return "", "", fmt.Errorf("keygen: --out %s is %s, not a directory: it names the directory the two key files go into", dir, outfs.FileType(fi.Mode()))
	}
	// Both are checked before either is written: a pair is never half new.
	for _, p := range []string{privPath, pubPath} {
		if _, err := os.Lstat(p); err == nil {
			return "", "", &outfs.TargetError{Path: p, Reason: "exists; a key is never overwritten", Exists: true}
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", "", fmt.Errorf("create %s: %w", dir, err)
	}
	if err := writeNewFile(privPath, privPEM, 0o600); err != nil {
		return "", "", err
	}
	if err := writeNewFile(pubPath, pubPEM, 0o644); err != nil {
		return "", "", err
	}
	return privPath, pubPath, nil
}

func writeNewFile(path string, data []byte, perm os.FileMode) error {
	f, err := outfs.CreateFile(path, true)
	if err != nil {
		return err
	}
	f.SetPerm(perm)
	_, err = f.Write(data)
	return f.Commit(err)
}

// pathCause is the cause of an *fs.PathError without its operation and
// path, which the caller's message already gives.
func pathCause(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
