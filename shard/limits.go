package shard

// CallKit limits, from docs/CALLKIT.md. Every other package takes
// these constants from here, so a change in iOS means a change in one place.
const (
	// MaxNumber is CXCallDirectoryPhoneNumberMax, INT64_MAX-1 (CALLKIT.md §1.1).
	MaxNumber = int64(1<<63 - 2)

	// MaxEntriesPerRequest is the largest number of entries one load request
	// may add, blocking and identification combined. The daemon fails a batch
	// with error 5 (maximumEntriesExceeded) when entriesAdded+batch >=
	// 2,000,000, so 1,999,999 is the largest load that passes (CALLKIT.md §1.4).
	MaxEntriesPerRequest = 1_999_999

	// DefaultMaxPerShard is the default shard size: half the per-request cap,
	// which leaves room for an identification load in the same extension and
	// keeps one complete load short and light (no time or memory limit is
	// documented; CALLKIT.md §2 has the field reports).
	DefaultMaxPerShard = 1_000_000

	// MaxLabelBytes bounds a label's UTF-8 length: the extension's label
	// buffer refuses a label whose length+1 does not fit in 16 bits, and an
	// empty one, and drops it silently (CALLKIT.md §1.2).
	MaxLabelBytes = 65_534

	// ErrorMaximumEntriesExceeded is CXErrorCodeCallDirectoryManagerError
	// .maximumEntriesExceeded (CALLKIT.md §1.5).
	ErrorMaximumEntriesExceeded = 5
	// ErrorDuplicateEntries is .duplicateEntries: a number equal to the
	// previous one in its sequence, or 0 first (CALLKIT.md §1.3).
	ErrorDuplicateEntries = 4
	// ErrorEntriesOutOfOrder is .entriesOutOfOrder: a number smaller than the
	// previous one in its sequence (CALLKIT.md §1.3).
	ErrorEntriesOutOfOrder = 3
)
