package main

import (
	"encoding/base64"
	"fmt"

	"github.com/calldir/calldir/shard/channel"
	"github.com/urfave/cli/v2"
)

func keygenCommand(e *env) *cli.Command {
	var out string
	return &cli.Command{
		Name:      "keygen",
		Usage:     "make an Ed25519 key pair for signing a release channel",
		ArgsUsage: " ",
		Description: withExamples(`
Writes DIR/` + channel.PrivateKeyFile + ` (the private key, PKCS#8 PEM, mode 0600) and
DIR/` + channel.PublicKeyFile + ` (the public key, SubjectPublicKeyInfo PEM), the forms
openssl reads. Refuses to replace either file. Prints the key ID (the SHA-256
of the raw public key, the envelope's keyid) and the 32 raw bytes of the
public key in base64: what the app pins (docs/CHANNEL.md).

Keep the private key out of the repository; in CI, store it as a secret file
and pass its path in CALLDIR_CHANNEL_KEY instead of --key.

EXAMPLES:
   calldir keygen --out keys
   openssl pkey -in keys/` + channel.PrivateKeyFile + ` -pubout`),
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "out", Aliases: []string{"o"}, Usage: "`DIR` to write the two key files into (made if missing)", Destination: &out, Required: true},
		},
		Action: func(c *cli.Context) error {
			if c.Args().Len() > 0 {
				return usagef("keygen: takes no arguments (got %q)", c.Args().First())
			}
			pub, priv, err := channel.GenerateKey(nil)
			if err != nil {
				return err
			}
			privPath, pubPath, err := channel.WriteKeyPair(out, pub, priv)
			if err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "private key: %s (keep it secret)\npublic key:  %s\nkey id:      %s\nraw public key (base64, for Curve25519.Signing.PublicKey(rawRepresentation:)): %s\n",
				privPath, pubPath, channel.KeyID(pub), base64.StdEncoding.EncodeToString(pub))
			return nil
		},
	}
}
