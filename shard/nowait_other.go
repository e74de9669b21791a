//go:build !unix

package shard

// NoWait: no O_NONBLOCK here; OpenRegular's stat before the open refuses a
// FIFO.
const NoWait = 0
