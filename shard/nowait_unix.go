//go:build unix

package shard

import "syscall"

// NoWait is the open flag that opens a FIFO without waiting for its
// writer (OpenRegular then refuses it); on a regular file it changes
// nothing.
const NoWait = syscall.O_NONBLOCK
