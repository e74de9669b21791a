package sortx

// Budget is the memory bound of a blocking compile, in bytes, and the one
// place that says how it is shared:
//
//	5/8   Buckets: the numbers as they arrive (spilled past it)
//	3/16  the sort at the end: a scratch and a buffer per sorter, while the
//	      memory of the buckets already read is given back (bigBucket)
//	1/8   the sorted, packed entries (the compile's; spilled past it)
//	1/16  slack: blocks in flight, tables
//
// compiler.HeapLimit adds the Go heap's headroom on top.
type Budget int64

// DefaultBudget is the budget of a compile that names none (--memory's
// default).
const DefaultBudget Budget = 512 << 20

// OrDefault is b, or DefaultBudget when b is 0 or less.
func (b Budget) OrDefault() Budget {
	if b <= 0 {
		return DefaultBudget
	}
	return b
}

// Buckets is the share of the numbers as they arrive, in bytes.
func (b Budget) Buckets() int64 { return int64(b.OrDefault()) * 5 / 8 }

// Sort is the most the sort at the end adds, in bytes.
func (b Budget) Sort() int64 { return int64(b.OrDefault()) * 3 / 16 }

// Packed is the share of the sorted, packed entries, in bytes.
func (b Budget) Packed() int64 { return int64(b.OrDefault()) / 8 }

// parallelSort reports whether the sort at the end may run a sorter per
// core: from the default budget up. Below it one sorter keeps the sort
// within its 3/16 (each sorter adds a scratch and a buffer of up to
// bigBucket numbers: 1/8 more).
func parallelSort(bucketBytes int64) bool { return bucketBytes >= DefaultBudget.Buckets() }
