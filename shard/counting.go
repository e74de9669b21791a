package shard

import "io"

// CountingReader reads through R and counts the bytes read: the size a
// manifest records of a file hashed as it streams (a source's bytes, a
// Live Caller ID database's). It lives here because the compiler and the
// validator both need it and import shard, never each other.
type CountingReader struct {
	R io.Reader
	N int64 // bytes read so far
}

func (c *CountingReader) Read(p []byte) (int, error) {
	n, err := c.R.Read(p)
	c.N += int64(n)
	return n, err
}
