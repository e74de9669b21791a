package shard

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"slices"
	"testing"
)

// fuzzSeeds returns valid shards of both kinds and a few damaged ones.
func fuzzSeeds(tb testing.TB) [][]byte {
	valid := [][]byte{
		mustWrite(tb, KindBlock, nil, nil),
		mustWrite(tb, KindBlock, nil, blockRecs(14155550101)),
		mustWrite(tb, KindBlock, nil, blockRecs(1, 2, 3, MaxNumber)),
		mustWrite(tb, KindBlock, nil, spaced(64, 14155550000, 1000, 0)),
		mustWrite(tb, KindIdentify, nil, nil),
		mustWrite(tb, KindIdentify, []string{"Spam"}, nil),
		mustWrite(tb, KindIdentify, []string{"Spam"}, []Record{{Number: 14155550101}}),
		mustWrite(tb, KindIdentify, []string{"Télémarketing", "詐欺の疑い", "🚫"}, spaced(32, 441632960000, 7, 3)),
	}
	seeds := slices.Clone(valid)
	for _, v := range append(valid[1:4:4], valid[6:]...) {
		seeds = append(seeds,
			v[:len(v)-1],                 // truncated
			append(slices.Clone(v), 0),   // extended
			flip(v, len(v)-3),            // body damaged
			flip(v, 9),                   // header damaged
			fixCRCs(flip(v, len(v)-8)),   // last number changed, checksums fixed
			fixCRCs(flip(v, HeaderSize)), // first number changed, checksums fixed
		)
	}
	// A header that claims the most records and a huge body, with nothing
	// after it.
	h := Header{Kind: KindIdentify, Count: MaxEntriesPerRequest, First: 1, Last: MaxNumber, BodySize: 1 << 40, LabelCount: 1 << 30}
	b, err := h.MarshalBinary()
	if err != nil {
		tb.Fatal(err)
	}
	seeds = append(seeds, b, binary.LittleEndian.AppendUint16(slices.Clone(b), MaxLabelBytes))
	return seeds
}

func flip(b []byte, i int) []byte {
	b = slices.Clone(b)
	b[i] ^= 1
	return b
}

// FuzzReader decodes arbitrary bytes as a shard, as a file of known size
// and as a stream. It checks that the reader never panics, that it returns
// only *FormatError for bad input, that nothing it returns is larger than
// the input (labels, records), that both modes accept the same inputs, and
// that every accepted input is canonical: writing back what was read gives
// the same bytes.
//
// It does not measure allocated bytes with runtime.MemStats: the reader
// always allocates its 256 KiB read buffer, whatever the input, and the
// counter is shared with the fuzzing engine. TestNewReaderFailsFast and
// TestStreamLabelAllocation cover allocation instead.
func FuzzReader(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		sized := decodeBounded(t, data, int64(len(data)))
		stream := decodeBounded(t, data, -1)
		if (sized.err == nil) != (stream.err == nil) {
			t.Fatalf("size %d: %v; stream: %v", len(data), sized.err, stream.err)
		}
		if sized.err != nil {
			return
		}
		if sized.hdr != stream.hdr || !slices.Equal(sized.labels, stream.labels) || !slices.Equal(sized.recs, stream.recs) {
			t.Fatal("sized and stream reads differ")
		}
		if got := mustWrite(t, sized.hdr.Kind, sized.labels, sized.recs); !bytes.Equal(got, data) {
			t.Fatalf("accepted a non-canonical shard:\n read    %x\n rewrite %x", data, got)
		}
	})
}

type decoded struct {
	hdr    Header
	labels []string
	recs   []Record
	err    error // nil when every record was read and verified
}

// decodeBounded reads a whole shard, failing the test as soon as the reader
// returns more than the input holds.
func decodeBounded(t *testing.T, data []byte, size int64) decoded {
	t.Helper()
	var d decoded
	rd, err := NewReader(bytes.NewReader(data), size)
	if err != nil {
		d.err = checkFuzzErr(t, err)
		return d
	}
	d.hdr, d.labels = rd.Header(), rd.Labels()
	n := 0
	for _, l := range d.labels {
		n += LabelLenSize + len(l)
	}
	if n > len(data) {
		t.Fatalf("%d labels of %d bytes from %d bytes of input", len(d.labels), n, len(data))
	}
	for {
		rec, err := rd.Next()
		if err == io.EOF {
			return d
		}
		if err != nil {
			d.err = checkFuzzErr(t, err)
			return d
		}
		d.recs = append(d.recs, rec)
		if len(d.recs) > len(data)/BlockRecordSize {
			t.Fatalf("%d records from %d bytes of input", len(d.recs), len(data))
		}
	}
}

// checkFuzzErr fails the test unless err is a *FormatError: a bytes.Reader
// has no I/O errors, so every error is about the input.
func checkFuzzErr(t *testing.T, err error) error {
	t.Helper()
	var fe *FormatError
	if !errors.As(err, &fe) {
		t.Fatalf("error %v (%T) is not a *FormatError", err, err)
	}
	return err
}
