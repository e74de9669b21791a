package shard

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

// TestLabelOKSameAsCheckLabel: LabelOK is CheckLabel's verdict.
func TestLabelOKSameAsCheckLabel(t *testing.T) {
	cases := [][]byte{nil, {}, []byte("a"), []byte("Spam"), {0}, []byte("a\x00b"), {0xff}, []byte("é"), []byte("\xe9"),
		bytes.Repeat([]byte("a"), MaxLabelBytes), bytes.Repeat([]byte("a"), MaxLabelBytes+1), append(bytes.Repeat([]byte("a"), MaxLabelBytes-1), 0xc3)}
	r := rand.New(rand.NewPCG(1, 1))
	alphabet := []byte{'a', ' ', 0, 0xc3, 0xa9, 0xff, 0x80}
	for range 100_000 {
		b := make([]byte, r.IntN(6))
		for i := range b {
			b[i] = alphabet[r.IntN(len(alphabet))]
		}
		cases = append(cases, b)
	}
	for _, b := range cases {
		if got, want := LabelOK(b), CheckLabel(string(b)) == nil; got != want {
			t.Fatalf("LabelOK(%q) = %v, CheckLabel says %v", b, got, want)
		}
	}
}
