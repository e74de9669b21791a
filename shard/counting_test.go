package shard

import (
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

func TestCountingReader(t *testing.T) {
	text := strings.Repeat("+14155550123\n", 1000)
	for _, tc := range []struct {
		name string
		r    io.Reader
		want int64
	}{
		{"whole", strings.NewReader(text), int64(len(text))},
		{"one byte at a time", iotest.OneByteReader(strings.NewReader(text)), int64(len(text))},
		{"data with the error", iotest.DataErrReader(strings.NewReader(text)), int64(len(text))},
		{"empty", strings.NewReader(""), 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &CountingReader{R: tc.r}
			b, err := io.ReadAll(c)
			if err != nil {
				t.Fatal(err)
			}
			if c.N != tc.want || int64(len(b)) != tc.want {
				t.Errorf("N = %d after %d bytes read, want %d", c.N, len(b), tc.want)
			}
		})
	}
	// A read that fails after some bytes counts them and passes the error on.
	boom := errors.New("boom")
	c := &CountingReader{R: io.MultiReader(strings.NewReader("12345"), iotest.ErrReader(boom))}
	if _, err := io.ReadAll(c); !errors.Is(err, boom) || c.N != 5 {
		t.Errorf("N = %d, err %v; want 5 and %v", c.N, err, boom)
	}
}
