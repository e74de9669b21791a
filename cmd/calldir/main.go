// Command calldir compiles raw phone-number lists into sorted, deduplicated
// shards for an iOS Call Directory extension, inspects and validates them.
package main

import (
	"context"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"

	"github.com/calldir/calldir/validate/verifier"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	if verifier.IsChild() { // the verifier's writer, lock holder or second writer
		code := exitCode(verifier.RunChild(ctx, os.Stdin, os.Stdout))
		stop()
		os.Exit(code)
	}
	// CALLDIR_CPUPROFILE=FILE writes a CPU profile of the run (for
	// docs/PERFORMANCE.md work; go tool pprof reads it).
	if path := os.Getenv("CALLDIR_CPUPROFILE"); path != "" {
		if f, err := os.Create(path); err == nil {
			pprof.StartCPUProfile(f)
			defer f.Close()
		}
	}
	code := run(ctx, os.Args, os.Stdin, os.Stdout, os.Stderr)
	pprof.StopCPUProfile()
	stop()
	os.Exit(code)
}
