// Package sortx sorts and deduplicates int64 numbers fast, in memory or
// within a memory budget through sorted runs on disk.
//
// The compiler collects tens to hundreds of millions of CallKit numbers
// (positive, at most 15 decimal digits, so below 10^15 < 2^50) that must
// come out sorted and distinct. A comparison sort spends ~26 compares per
// element at 50M; a radix sort does five linear passes, which is what makes
// this package several times faster than slices.Sort + slices.Compact.
//
//	in memory:  []int64 ──▶ SortDedupe / SortDedupeParallel ──▶ sorted, distinct prefix
//
//	bounded:    Add ──▶ buffer (budget/16 numbers) ──full──▶ sort + dedupe ──▶ run file
//	                                                  (delta varints, CRC-32C)
//	            Iterator ──▶ last run stays in memory ──▶ k-way heap merge ──▶ Next
//	                         (> fan-in runs: merged into bigger runs first)
//
// Every function accepts any int64, negative values and the extremes
// included, although CallKit numbers are always positive: the order is the
// numeric order of int64.
package sortx
