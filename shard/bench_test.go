package shard

import (
	"bytes"
	"io"
	"testing"
)

// benchNumbers is the size of the benchmark shards: DefaultMaxPerShard.
const benchNumbers = 1_000_000

// benchRecords returns benchNumbers ascending US-like numbers.
func benchRecords() []Record { return spaced(benchNumbers, 12015550000, 13, 0) }

func BenchmarkWriteBlock(b *testing.B) {
	recs := benchRecords()
	m := memFile{b: make([]byte, 0, HeaderSize+benchNumbers*BlockRecordSize)}
	b.SetBytes(HeaderSize + benchNumbers*BlockRecordSize)
	b.ReportAllocs()
	for b.Loop() {
		m.b, m.off = m.b[:0], 0
		w, err := NewWriter(&m, KindBlock, nil)
		if err != nil {
			b.Fatal(err)
		}
		for _, r := range recs {
			if err := w.Add(r.Number); err != nil {
				b.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkReadBlock(b *testing.B) {
	data := mustWrite(b, KindBlock, nil, benchRecords())
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		rd, err := NewReader(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for {
			_, err := rd.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			n++
		}
		if n != benchNumbers {
			b.Fatalf("read %d records, want %d", n, benchNumbers)
		}
	}
}
