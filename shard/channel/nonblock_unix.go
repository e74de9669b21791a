//go:build unix

package channel

import "syscall"

// nonBlock opens without waiting for a FIFO's writer (openRegular refuses
// the FIFO on the open file).
const nonBlock = syscall.O_NONBLOCK
