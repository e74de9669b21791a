package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// A fault never hides the plan's own finding, from the CLI: duplicate.plan
// ends with a loaded extension left with zero rows (exit 1), and so does
// every fault added to it, reached or not.
func TestReplayFaultKeepsFinding(t *testing.T) {
	dir := t.TempDir()
	base := mustRead(t, filepath.Join("..", "..", "fixtures", "plans", "duplicate.plan"))
	for _, f := range []string{"power-loss at=0", "power-loss at=17 mode=drop", "power-loss at=40", "power-loss at=100000",
		"kill at=3", "kill at=100000", "disk-full at=5", "disk-full at=100000"} {
		plan := mustWrite(t, filepath.Join(dir, strings.NewReplacer(" ", "-", "=", "").Replace(f)+".plan"), base+"fault "+f+"\n")
		code, out, stderr := runCLI(t, "", "replay", plan)
		if code != 1 || !strings.Contains(out, "outcome: loaded extension left with zero rows") {
			t.Errorf("fault %s: exit %d, want 1 with the zero-rows finding\n%s%s", f, code, out, stderr)
		}
		if strings.Contains(f, "100000") && !strings.Contains(out, "not reached") && !strings.Contains(out, "never reached") {
			t.Errorf("fault %s: the report does not say it was not reached:\n%s", f, out)
		}
	}
}
