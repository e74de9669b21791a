// Command calldir compiles raw phone-number lists into sorted, deduplicated
// shards for an iOS Call Directory extension, inspects and validates them.
package main

import (
	"context"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"

	"github.com/calldir/calldir/shard/outfs"
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
	// Written by shard/outfs's rules for a file, like a report.
	var prof *outfs.File
	if path := os.Getenv("CALLDIR_CPUPROFILE"); path != "" {
		if f, err := outfs.CreateFile(path, false); err == nil {
			prof = f
			pprof.StartCPUProfile(f)
		}
	}
	code := run(ctx, os.Args, os.Stdin, os.Stdout, os.Stderr)
	if prof != nil {
		pprof.StopCPUProfile()
		prof.Commit(nil)
	}
	stop()
	os.Exit(code)
}
