package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/calldir/calldir/shard"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"
)

// An export streams: its peak resident memory does not grow with the
// rows. 10M rows under -tags long (the figure in docs/PERFORMANCE.md),
// 100,000 otherwise; the bound is 100 MB either way. Beside it, the naive way
// (every number in memory, the whole KeywordDatabase built as one message
// and marshalled), which must give the same bytes: at 100,000 rows always,
// at 10M only with CALLDIR_EXPORT_NAIVE=1 (it needs 8 GiB of heap and two
// minutes, too much for CI; docs/PERFORMANCE.md has its figures).
func TestExportStreamsInBoundedMemory(t *testing.T) {
	pattern, rows := "+1 212 55#####", 100_000
	if long {
		pattern, rows = "+1 212 #######", 10_000_000
	}
	bin := calldirBinary(t)
	dir := t.TempDir()
	t.Chdir(dir)
	mustCLI(t, 0, "compile", "-q", "--pattern", pattern, "-o", "blk")
	start := time.Now()
	peak, err := childPeakRSS(exec.Command(bin, "export", "live-lookup", "-q", "-o", "live", "blk"))
	if err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	t.Logf("export of %d rows: peak RSS %.1f MiB, %s", rows, float64(peak)/(1<<20), took.Round(time.Millisecond))
	if peak > 100e6 {
		t.Errorf("export of %d rows peaked at %d bytes, over 100 MB", rows, peak)
	}

	if rows > 100_000 && os.Getenv("CALLDIR_EXPORT_NAIVE") == "" {
		t.Logf("naive export of %d rows skipped (CALLDIR_EXPORT_NAIVE=1 runs it)", rows)
		return
	}
	start = time.Now()
	naive := naiveExport(t, "blk")
	t.Logf("naive export of %d rows (build loaded, one message, proto.Marshal): %s", rows, time.Since(start).Round(time.Millisecond))
	if string(naive) != mustRead(t, filepath.Join("live", "block.binpb")) {
		t.Fatal("the naive export differs from the streamed one")
	}
}

// naiveExport is the export as a one-off script writes it: the whole
// build in memory, one KeywordDatabase message with a row per number,
// marshalled at once.
func naiveExport(t *testing.T, dir string) []byte {
	t.Helper()
	b, err := shard.LoadBuild(dir)
	if err != nil {
		t.Fatal(err)
	}
	msgs := liveSchema(t).Messages()
	rowDesc := msgs.ByName("KeywordDatabaseRow")
	db := dynamicpb.NewMessage(msgs.ByName("KeywordDatabase"))
	list := db.Mutable(msgs.ByName("KeywordDatabase").Fields().ByName("rows")).List()
	for ext := 1; ext <= len(b.Exts); ext++ {
		for _, n := range b.Exts[ext].Numbers {
			row := dynamicpb.NewMessage(rowDesc)
			row.Set(rowDesc.Fields().ByName("keyword"), protoreflect.ValueOfBytes([]byte("+"+strconv.FormatInt(n, 10))))
			row.Set(rowDesc.Fields().ByName("value"), protoreflect.ValueOfBytes([]byte{1}))
			list.Append(protoreflect.ValueOfMessage(row))
		}
	}
	out, err := proto.MarshalOptions{Deterministic: true}.Marshal(db)
	if err != nil {
		t.Fatal(err)
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	t.Logf("naive export: %.0f MiB of Go heap in use with the message and its bytes", float64(ms.HeapAlloc)/(1<<20))
	if err := os.WriteFile("naive.binpb", out, 0o644); err != nil {
		t.Fatal(err)
	}
	return out
}
