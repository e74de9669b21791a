package verifier

// PowerFaults are explore's fault kinds played through the crash VFS:
// power loss, and a real full disk (disk-full-at; explore's disk-full is
// the max_page_count one). explore picks the write point with the case's
// seed (replayPower).
var PowerFaults = []string{"power-loss", "disk-full-at"}

// applyPowerFault adds a power fault of explore kind f to p; false when f
// is not one.
func applyPowerFault(p *Plan, f string) bool {
	switch f {
	case "power-loss":
		p.Power = &PowerFault{Kind: "power-loss", At: -1}
	case "disk-full-at":
		p.Power = &PowerFault{Kind: "disk-full", At: -1}
	default:
		return false
	}
	return true
}
