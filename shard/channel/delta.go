package channel

import (
	"context"

	"github.com/calldir/calldir/compiler"
	"github.com/calldir/calldir/shard"
)

// computeDelta writes the delta from base to target into dir (a scratch
// directory outside the channel) with the compiler's delta writer, the one
// `calldir diff` uses. It is the channel's only call into the diff
// workflow: the one place to adapt when that workflow moves.
func computeDelta(ctx context.Context, dir string, base, target *shard.Build, chunk int, toolVersion string) (*shard.DeltaManifest, error) {
	return compiler.WriteDelta(ctx, dir, base, target, compiler.DeltaOptions{Chunk: chunk, ToolVersion: toolVersion})
}
