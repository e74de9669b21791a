package compiler

import (
	"fmt"
	"strconv"
	"strings"
)

// Threshold is a --max-rejects value: an absolute count ("100") or a share
// of the candidate lines ("0.5%"). The zero value allows any number.
type Threshold struct {
	set     bool
	isPct   bool
	count   int64
	percent float64
}

// ParseThreshold parses "N" or "P%"; the empty string means no limit.
func ParseThreshold(s string) (Threshold, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return Threshold{}, nil
	}
	if p, ok := strings.CutSuffix(s, "%"); ok {
		v, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil || v < 0 || v > 100 {
			return Threshold{}, fmt.Errorf("threshold %q: want a count such as 10 or a percentage such as 0.5%%", s)
		}
		return Threshold{set: true, isPct: true, percent: v}, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return Threshold{}, fmt.Errorf("threshold %q: want a count such as 10 or a percentage such as 0.5%%", s)
	}
	return Threshold{set: true, count: n}, nil
}

// Exceeded reports whether rejected lines out of lines break the threshold.
func (t Threshold) Exceeded(rejected, lines int64) bool {
	if !t.set {
		return false
	}
	if t.isPct {
		return float64(rejected)*100 > t.percent*float64(lines)
	}
	return rejected > t.count
}

func (t Threshold) String() string {
	switch {
	case !t.set:
		return "unlimited"
	case t.isPct:
		return strconv.FormatFloat(t.percent, 'f', -1, 64) + "%"
	}
	return strconv.FormatInt(t.count, 10)
}
