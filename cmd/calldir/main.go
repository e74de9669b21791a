// Command calldir compiles raw phone-number lists into sorted, deduplicated
// shards for an iOS Call Directory extension, inspects and validates them.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/calldir/calldir/validate/verifier"
)

func main() {
	verifier.RunChildIfAsked() // the verifier's writer, lock holder or second writer
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args, os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
