package shard

import "fmt"

// Span is a half-open range [Start, End) of indexes into a sorted list.
type Span struct{ Start, End int }

// CheckMaxPerShard refuses a shard size that CallKit would refuse in one
// request.
func CheckMaxPerShard(max int) error {
	if max < 1 {
		return &MaxPerShardError{max, "must be at least 1"}
	}
	if max > MaxEntriesPerRequest {
		return &MaxPerShardError{max, fmt.Sprintf("above CallKit's limit of %d entries per load request (a load of 2,000,000 fails with error %d, maximumEntriesExceeded)", MaxEntriesPerRequest, ErrorMaximumEntriesExceeded)}
	}
	return nil
}

// MaxPerShardError is a shard size CheckMaxPerShard refuses.
type MaxPerShardError struct {
	Max    int
	Reason string
}

func (e *MaxPerShardError) Error() string {
	return fmt.Sprintf("%d entries per shard: %s", e.Max, e.Reason)
}

// Split cuts n sorted entries into the fewest contiguous spans of at most
// max entries, with sizes that differ by at most one, so that every shard is
// a contiguous numeric range and no shard is a tiny remainder.
func Split(n, max int) []Span {
	if n <= 0 {
		return nil
	}
	if max < 1 { // callers check first; never divide by zero
		max = 1
	}
	k := (n + max - 1) / max
	out := make([]Span, 0, k)
	base, extra := n/k, n%k
	start := 0
	for i := 0; i < k; i++ {
		size := base
		if i < extra {
			size++
		}
		out = append(out, Span{start, start + size})
		start += size
	}
	return out
}
