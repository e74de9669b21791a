package main

import (
	"bytes"
	"errors"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The national key check holds its memory whatever the build's size:
// 20,000,000 numbers under -tags long (200,000 otherwise) of two
// countries whose keys share a class (Dutch "06 2…" and French "06 1…"
// mobiles, ten digits each), so that every key goes through the KeySet,
// the Dutch ones (first in numeric order, past the keys held in memory)
// after a second read of the build, plus one shared key. The export is
// refused naming it, and its peak RSS stays under the 100 MB of the
// streaming export (TestExportStreamsInBoundedMemory).
func TestExportNationalKeysInBoundedMemory(t *testing.T) {
	nl, fr, rows := "+31 6 200#####", "+33 6 10 0# ## ##", 200_000
	if long {
		nl, fr, rows = "+31 6 2#######", "+33 6 1# ## ## ##", 20_000_000
	}
	bin := calldirBinary(t)
	t.Chdir(t.TempDir())
	mustWrite(t, "pair.txt", "+31 6 12345678\n+33 6 12 34 56 78\n")
	mustCLI(t, 0, "compile", "-q", "-o", "blk", "--pattern", nl, "--pattern", fr, "pair.txt")
	start := time.Now()
	peak, code, out, err := childPeakRSSExit(exec.Command(bin, "export", "live-lookup", "--key-forms", "national", "-o", "live", "blk"))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("national check of about %d numbers: peak RSS %.1f MiB, %s", rows, float64(peak)/(1<<20), time.Since(start).Round(time.Millisecond))
	want := `block.binpb: +31612345678 and +33612345678 have the same national form "0612345678"`
	if code != 2 || !strings.Contains(out, want) {
		t.Fatalf("exit %d, want 2 naming %s:\n%s", code, want, out)
	}
	if peak > 100e6 {
		t.Errorf("peak RSS %d bytes, over 100 MB", peak)
	}
}

// childPeakRSSExit runs cmd to its end and returns its peak resident set
// (VmHWM, polled), its exit code and its output.
func childPeakRSSExit(cmd *exec.Cmd) (peak int64, code int, out string, err error) {
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	if err := cmd.Start(); err != nil {
		return 0, 0, "", err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	pid := strconv.Itoa(cmd.Process.Pid)
	for {
		select {
		case err := <-done:
			var exit *exec.ExitError
			if errors.As(err, &exit) {
				return peak, exit.ExitCode(), buf.String(), nil
			}
			return peak, 0, buf.String(), err
		case <-time.After(2 * time.Millisecond):
		}
		peak = max(peak, vmHWM(pid))
	}
}
