//go:build unix

package validate

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/calldir/calldir/shard"
)

// A FIFO where a shard, a manifest or a delta file belongs is reported as
// a finding without being opened: opening it would block for good.
func TestFIFOInBuildDoesNotBlock(t *testing.T) {
	for _, name := range []string{"block-0001.shard", "manifest.json"} {
		dir := mustBuild(t, shard.KindBlock, 10, 10)
		p := filepath.Join(dir, name)
		if err := os.Remove(p); err != nil {
			t.Fatal(err)
		}
		if err := syscall.Mkfifo(p, 0o644); err != nil {
			t.Skip("no mkfifo:", err)
		}
		done := make(chan *BuildReport, 1)
		go func() { r, _ := Build(context.Background(), dir); done <- r }()
		select {
		case r := <-done:
			if r == nil || len(r.Findings) == 0 || !strings.Contains(r.Findings[0].Message, "named pipe") {
				t.Errorf("%s as a FIFO: %+v", name, r)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%s as a FIFO: validate blocked", name)
		}
	}
}
