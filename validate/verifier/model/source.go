package model

import (
	"github.com/calldir/calldir/validate/verifier/plan"
)

// entry is one number (and label) the extension adds or removes.
type entry struct {
	num   int64
	label string
}

// entries yields an op's entries in the order the app gives them.
func entries(op plan.Op, fn func(entry) error) error {
	return plan.EachEntry(op, func(n int64, label string) error { return fn(entry{n, label}) })
}
