// Package sortx sorts and deduplicates int64 numbers fast, in memory or
// within a memory budget through sorted runs on disk.
//
// The compiler collects tens to hundreds of millions of CallKit numbers
// (positive, at most 15 decimal digits, so below 10^15 < 2^50) that must
// come out sorted and distinct. A comparison sort spends about 26
// comparisons per number at 50M; a radix sort makes a few linear passes,
// which is what makes SortDedupe several times faster than slices.Sort +
// slices.Compact (see bench_test.go for the figures).
//
//	in memory   []int64 ──▶ SortDedupe (or SortDedupeParallel)
//	            ──▶ MSD partition into cache-sized buckets (≤ 128 Ki numbers)
//	            ──▶ LSD radix sort per bucket, constant digits skipped ──▶ dedupe
//	            ──▶ sorted, distinct prefix of the input
//
//	bounded     Runs.Add ──▶ buffer (budget/16 numbers) ──full──▶ sort ──▶ run file
//	                                                        (delta varints, CRC-32C)
//	            Runs.Iterator ──▶ last run stays in memory ──▶ heap merge ──▶ Merge.Next
//	                              (past 128 runs, the oldest are merged first)
//
// Every function accepts any int64, negative values and the extremes
// included, although CallKit numbers are always positive: the order is the
// numeric order of int64.
package sortx
