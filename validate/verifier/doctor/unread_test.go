package doctor

import (
	"slices"
	"testing"

	"github.com/calldir/calldir/validate/verifier/doctor/doctortest"
)

// TestExtensionUnreadable: with the Extension table's root page damaged,
// reading it fails; that is one corrupt finding naming the table, the
// table is listed as unread, and no finding rests on it: in particular no
// entry row is said to belong to a missing extension.
func TestExtensionUnreadable(t *testing.T) {
	path := replayDB(t, testPlan)
	doctortest.FlipRoot(t, path, "Extension")
	rep := examine(t, path)
	if got := kinds(rep); !slices.Equal(got, []Kind{Corrupt}) {
		t.Fatalf("kinds %v, want only corrupt: %+v", got, rep.Findings)
	}
	var onExtension []Finding
	for _, f := range rep.Findings {
		if f.Table == "Extension" {
			onExtension = append(onExtension, f)
		}
	}
	if len(onExtension) != 1 || onExtension[0].Message != "reading Extension failed: SQLite 11 (database disk image is malformed)" {
		t.Errorf("want one corrupt finding on Extension: %+v", onExtension)
	}
	if !slices.Equal(rep.UnreadTables, []string{"Extension"}) || len(rep.Extensions) != 0 {
		t.Errorf("unread %v, extensions %+v", rep.UnreadTables, rep.Extensions)
	}
}
