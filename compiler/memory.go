package compiler

import "github.com/calldir/calldir/compiler/sortx"

// HeapLimit is the Go memory limit of a compile with a memory budget of
// mem bytes (DefaultMemory when 0 or less): the budget, a tenth more for
// the garbage of buckets already sorted, and 64 MiB of headroom for the
// blocks in flight. Holding the heap near the budget matters: the numbers
// are most of it, and without a limit the collector lets garbage grow with
// the heap; a tighter limit makes it run back to back.
func HeapLimit(mem int64) int64 {
	mem = int64(sortx.Budget(mem).OrDefault())
	return mem + mem/10 + 64<<20
}

// MemoryFloor is what a compile's peak resident memory may exceed
// 1.1 × its budget by: HeapLimit's 64 MiB of headroom, and the runtime,
// code and number tables (about 15 MiB). Measured on 60M lines: a budget
// of 16 MiB peaks at 85 MiB, 64 MiB at 143 MiB, 512 MiB at 635 MiB.
const MemoryFloor = 80 << 20
