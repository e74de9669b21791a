package shard

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// memFile is an in-memory io.WriteSeeker, a stand-in for the *os.File that
// the compiler gives NewWriter.
type memFile struct {
	b   []byte
	off int
}

func (m *memFile) Write(p []byte) (int, error) {
	if end := m.off + len(p); end > len(m.b) {
		m.b = append(m.b, make([]byte, end-len(m.b))...)
	}
	n := copy(m.b[m.off:], p)
	m.off += n
	return n, nil
}

func (m *memFile) Seek(off int64, whence int) (int64, error) {
	switch whence {
	case io.SeekCurrent:
		off += int64(m.off)
	case io.SeekEnd:
		off += int64(len(m.b))
	}
	if off < 0 {
		return 0, errors.New("memFile: negative offset")
	}
	m.off = int(off)
	return off, nil
}

// mustWrite writes a shard of kind k and returns its bytes. Record labels
// are ignored for block shards.
func mustWrite(t testing.TB, k Kind, labels []string, recs []Record) []byte {
	t.Helper()
	var m memFile
	w, err := NewWriter(&m, k, labels)
	if err != nil {
		t.Fatalf("NewWriter: %v", err)
	}
	for i, r := range recs {
		if k == KindBlock {
			err = w.Add(r.Number)
		} else {
			err = w.AddLabeled(r.Number, r.Label)
		}
		if err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	return m.b
}

// mustReadAll reads and verifies a whole shard; size is the size given to
// NewReader (-1 for a stream).
func mustReadAll(t testing.TB, data []byte, size int64) (Header, []string, []Record) {
	t.Helper()
	h, labels, recs, err := ReadAll(bytes.NewReader(data), size)
	if err != nil {
		t.Fatalf("ReadAll(size %d): %v", size, err)
	}
	return h, labels, recs
}

// mustFormatError returns err as a *FormatError or fails the test.
func mustFormatError(t testing.TB, err error) *FormatError {
	t.Helper()
	var fe *FormatError
	if !errors.As(err, &fe) {
		t.Fatalf("got error %v (%T), want a *FormatError", err, err)
	}
	return fe
}

// fixCRCs recomputes the body and header checksums of a shard that a test
// has changed, so that the reader reports the injected fault and not a
// checksum mismatch.
func fixCRCs(b []byte) []byte {
	binary.LittleEndian.PutUint32(b[44:48], crc32.Checksum(b[HeaderSize:], castagnoli))
	binary.LittleEndian.PutUint32(b[60:64], crc32.Checksum(b[:60], castagnoli))
	return b
}

// record returns the bytes of record i of a shard, found from its raw
// header fields (so that it works on a damaged header too).
func record(b []byte, i int) []byte {
	rs := Kind(b[6]).RecordSize()
	count := int(binary.LittleEndian.Uint64(b[8:16]))
	body := int(binary.LittleEndian.Uint64(b[32:40]))
	off := HeaderSize + body - count*rs + i*rs
	return b[off : off+rs]
}

func blockRecs(nums ...int64) []Record {
	recs := make([]Record, len(nums))
	for i, n := range nums {
		recs[i] = Record{Number: n}
	}
	return recs
}

// spaced returns n records start, start+step, …, with labels cycling
// through 0..labels-1 (all 0 when labels is 0).
func spaced(n int, start, step int64, labels uint32) []Record {
	recs := make([]Record, n)
	for i := range recs {
		recs[i].Number = start + int64(i)*step
		if labels > 0 {
			recs[i].Label = uint32(i) % labels
		}
	}
	return recs
}

func tableBytes(labels []string) int {
	n := 0
	for _, l := range labels {
		n += LabelLenSize + len(l)
	}
	return n
}

func TestRoundTrip(t *testing.T) {
	long := strings.Repeat("é", MaxLabelBytes/2) // 65,534 bytes: the longest label CallKit keeps
	multi := []string{"Télémarketing", "詐欺の疑い", "🚫 scam", "Спам", long}
	tests := []struct {
		name   string
		kind   Kind
		labels []string
		recs   []Record
	}{
		{"block/empty", KindBlock, nil, nil},
		{"block/one", KindBlock, nil, blockRecs(14155550101)},
		{"block/extremes", KindBlock, nil, blockRecs(1, MaxNumber)},
		{"block/many", KindBlock, nil, spaced(10_000, 14155550000, 7, 0)},
		{"identify/empty", KindIdentify, nil, nil},
		{"identify/labels only", KindIdentify, []string{"Spam"}, nil},
		{"identify/one", KindIdentify, []string{"Spam"}, []Record{{Number: 14155550101}}},
		{"identify/extremes", KindIdentify, []string{"a", "b"}, []Record{{1, 1}, {MaxNumber, 0}}},
		{"identify/many multibyte", KindIdentify, multi, spaced(10_000, 441632960000, 3, uint32(len(multi)))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := mustWrite(t, tt.kind, tt.labels, tt.recs)
			if got, want := len(data), HeaderSize+tableBytes(tt.labels)+len(tt.recs)*tt.kind.RecordSize(); got != want {
				t.Fatalf("file is %d bytes, want %d", got, want)
			}
			want := Header{Kind: tt.kind, Count: uint64(len(tt.recs)), LabelCount: uint32(len(tt.labels)),
				BodySize: uint64(len(data) - HeaderSize), BodyCRC: crc32.Checksum(data[HeaderSize:], castagnoli)}
			if len(tt.recs) > 0 {
				want.First, want.Last = tt.recs[0].Number, tt.recs[len(tt.recs)-1].Number
			}
			for _, size := range []int64{int64(len(data)), -1} {
				h, labels, recs := mustReadAll(t, data, size)
				if h != want {
					t.Errorf("size %d: header %+v, want %+v", size, h, want)
				}
				if !slices.Equal(labels, tt.labels) {
					t.Errorf("size %d: labels %q, want %q", size, labels, tt.labels)
				}
				if !slices.Equal(recs, tt.recs) {
					t.Errorf("size %d: %d records, want %d (or they differ)", size, len(recs), len(tt.recs))
				}
			}
		})
	}
}

func TestWriterHeaderMatchesFile(t *testing.T) {
	var m memFile
	w, err := NewWriter(&m, KindIdentify, []string{"Spam", "Scam"})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range spaced(100, 33140000000, 11, 2) {
		if err := w.AddLabeled(r.Number, r.Label); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	var got Header
	if err := got.UnmarshalBinary(m.b[:HeaderSize]); err != nil {
		t.Fatal(err)
	}
	if want := w.Header(); got != want {
		t.Errorf("file header %+v, Writer.Header %+v", got, want)
	}
	if got.FileSize() != uint64(len(m.b)) {
		t.Errorf("FileSize %d, file has %d bytes", got.FileSize(), len(m.b))
	}
	if err := w.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestWriterRefusesRecord(t *testing.T) {
	labels := []string{"Spam", "Scam"}
	tests := []struct {
		name   string
		kind   Kind
		before []int64 // accepted first
		n      int64
		label  uint32
		field  string
		index  int64
	}{
		{"zero", KindBlock, nil, 0, 0, "range", 0},
		{"negative", KindBlock, []int64{5}, -5, 0, "range", 1},
		{"min int64", KindBlock, nil, math.MinInt64, 0, "range", 0},
		{"above max", KindBlock, []int64{1}, MaxNumber + 1, 0, "range", 1},
		{"equal", KindBlock, []int64{10, 20}, 20, 0, "duplicate", 2},
		{"smaller", KindBlock, []int64{10, 20}, 15, 0, "order", 2},
		{"identify zero", KindIdentify, nil, 0, 0, "range", 0},
		{"identify equal", KindIdentify, []int64{10}, 10, 1, "duplicate", 1},
		{"identify smaller", KindIdentify, []int64{10}, 9, 1, "order", 1},
		{"label index", KindIdentify, []int64{10}, 20, 2, "label index", 1},
		{"label index max", KindIdentify, nil, 20, math.MaxUint32, "label index", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var m memFile
			var tbl []string
			if tt.kind == KindIdentify {
				tbl = labels
			}
			w, err := NewWriter(&m, tt.kind, tbl)
			if err != nil {
				t.Fatal(err)
			}
			add := func(n int64, label uint32) error {
				if tt.kind == KindBlock {
					return w.Add(n)
				}
				return w.AddLabeled(n, label)
			}
			for _, n := range tt.before {
				if err := add(n, 0); err != nil {
					t.Fatal(err)
				}
			}
			fe := mustFormatError(t, add(tt.n, tt.label))
			if fe.Field != tt.field || fe.Index != tt.index || fe.Number != tt.n {
				t.Errorf("got field %q index %d number %d, want %q %d %d (%v)", fe.Field, fe.Index, fe.Number, tt.field, tt.index, tt.n, fe)
			}
			// A refused record is not written: the shard still closes
			// and holds exactly the records accepted before it.
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			_, _, recs := mustReadAll(t, m.b, int64(len(m.b)))
			if got := len(recs); got != len(tt.before) {
				t.Errorf("shard has %d records, want %d", got, len(tt.before))
			}
		})
	}
}

func TestWriterMisuse(t *testing.T) {
	var m memFile
	b, _ := NewWriter(&m, KindBlock, nil)
	if err := b.AddLabeled(1, 0); err == nil {
		t.Error("AddLabeled on a block shard: no error")
	}
	i, _ := NewWriter(&memFile{}, KindIdentify, []string{"Spam"})
	if err := i.Add(1); err == nil {
		t.Error("Add on an identify shard: no error")
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if err := b.Add(1); err == nil || !strings.Contains(err.Error(), "after Close") {
		t.Errorf("Add after Close: %v, want a write-after-Close error", err)
	}
}

func TestNewWriterRefuses(t *testing.T) {
	tests := []struct {
		name   string
		kind   Kind
		labels []string
		want   string
	}{
		{"kind 0", 0, nil, "unknown kind"},
		{"kind 3", 3, nil, "unknown kind"},
		{"block with labels", KindBlock, []string{"Spam"}, "no labels"},
		{"empty label", KindIdentify, []string{"Spam", ""}, "label 1: empty label"},
		{"invalid UTF-8", KindIdentify, []string{"Sp\xffam"}, "label 0: label \"Sp\\xffam\" is not valid UTF-8"},
		{"truncated UTF-8", KindIdentify, []string{"caf\xc3"}, "not valid UTF-8"},
		{"65535 bytes", KindIdentify, []string{strings.Repeat("a", MaxLabelBytes+1)}, "label of 65535 bytes"},
		{"65535 bytes multibyte", KindIdentify, []string{strings.Repeat("é", 32767) + "a"}, "label of 65535 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, err := NewWriter(&memFile{}, tt.kind, tt.labels)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, %v; want an error containing %q", w, err, tt.want)
			}
		})
	}
}

func TestCheckLabel(t *testing.T) {
	tests := []struct {
		label string
		ok    bool
	}{
		{"a", true},
		{"Télémarketing", true},
		{"🚫", true},
		{strings.Repeat("a", MaxLabelBytes), true},
		{strings.Repeat("a", MaxLabelBytes+1), false},
		{"", false},
		{"\xff", false},
		{"\xed\xa0\x80", false}, // a UTF-16 surrogate encoded as UTF-8
	}
	for _, tt := range tests {
		if got := CheckLabel(tt.label) == nil; got != tt.ok {
			t.Errorf("CheckLabel(%d bytes %.20q) ok = %v, want %v", len(tt.label), tt.label, got, tt.ok)
		}
	}
}

// TestWriterMaxEntries writes the largest shard CallKit accepts in one
// request to a real file, checks that one more record is refused, and reads
// the file back.
func TestWriterMaxEntries(t *testing.T) {
	path := filepath.Join(t.TempDir(), "block-0001.shard")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w, err := NewWriter(f, KindBlock, nil)
	if err != nil {
		t.Fatal(err)
	}
	for n := int64(1); n <= MaxEntriesPerRequest; n++ {
		if err := w.Add(n); err != nil {
			t.Fatalf("Add(%d): %v", n, err)
		}
	}
	fe := mustFormatError(t, w.Add(MaxEntriesPerRequest+1))
	if fe.Field != "count" || fe.Index != MaxEntriesPerRequest || !strings.Contains(fe.Msg, "error 5") {
		t.Errorf("got %v (field %q, index %d), want a count error at record %d citing error 5", fe, fe.Field, fe.Index, MaxEntriesPerRequest)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}

	sf, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer sf.Close()
	var n int64
	for {
		rec, err := sf.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("record %d: %v", n, err)
		}
		n++
		if rec.Number != n {
			t.Fatalf("record %d is %d, want %d", n-1, rec.Number, n)
		}
	}
	if h := sf.Header(); n != MaxEntriesPerRequest || h.Count != MaxEntriesPerRequest || h.Last != MaxEntriesPerRequest {
		t.Errorf("read %d records, header count %d last %d; want %d", n, h.Count, h.Last, MaxEntriesPerRequest)
	}
}

// readerFault is one injected fault: mutate damages a copy of a valid shard
// and the reader must report field (at record index, or -1 for header and
// table errors).
type readerFault struct {
	name   string
	only   Kind // 0: both kinds
	stream bool // read with size -1
	mutate func(b []byte) []byte
	field  string
	index  int64
}

func TestReaderDetectsFault(t *testing.T) {
	// Ten records, 1000 apart, so that flipping a low bit of a number
	// keeps the order.
	base := map[Kind][]byte{
		KindBlock:    mustWrite(t, KindBlock, nil, spaced(10, 1000, 1000, 0)),
		KindIdentify: mustWrite(t, KindIdentify, []string{"Spam", "Télémarketing", "詐欺"}, spaced(10, 1000, 1000, 3)),
	}
	setHeader := func(off int, v uint64, size int) func(b []byte) []byte {
		return func(b []byte) []byte {
			switch size {
			case 1:
				b[off] = byte(v)
			case 2:
				binary.LittleEndian.PutUint16(b[off:], uint16(v))
			case 4:
				binary.LittleEndian.PutUint32(b[off:], uint32(v))
			case 8:
				binary.LittleEndian.PutUint64(b[off:], v)
			}
			return fixCRCs(b)
		}
	}
	faults := []readerFault{
		{name: "body byte flipped", mutate: func(b []byte) []byte { record(b, 5)[0] ^= 1; return b }, field: "checksum", index: -1},
		{name: "body byte flipped/stream", stream: true, mutate: func(b []byte) []byte { record(b, 5)[0] ^= 1; return b }, field: "checksum", index: -1},
		{name: "label byte flipped", only: KindIdentify, mutate: func(b []byte) []byte { b[HeaderSize+2] ^= 1; return b }, field: "checksum", index: -1},
		{name: "header byte flipped", mutate: func(b []byte) []byte { b[9] ^= 1; return b }, field: "header checksum", index: -1},
		{name: "header checksum flipped", mutate: func(b []byte) []byte { b[63] ^= 0x80; return b }, field: "header checksum", index: -1},
		{name: "truncated by 1", mutate: func(b []byte) []byte { return b[:len(b)-1] }, field: "size", index: -1},
		{name: "truncated by 8", mutate: func(b []byte) []byte { return b[:len(b)-8] }, field: "size", index: -1},
		{name: "truncated by 1/stream", stream: true, mutate: func(b []byte) []byte { return b[:len(b)-1] }, field: "truncated", index: 9},
		{name: "truncated by 8/stream", stream: true, mutate: func(b []byte) []byte { return b[:len(b)-8] }, field: "truncated", index: 9},
		{name: "truncated in header", mutate: func(b []byte) []byte { return b[:HeaderSize-1] }, field: "header", index: -1},
		{name: "empty file", mutate: func(b []byte) []byte { return b[:0] }, field: "header", index: -1},
		{name: "byte appended", mutate: func(b []byte) []byte { return append(b, 0) }, field: "size", index: -1},
		{name: "byte appended/stream", stream: true, mutate: func(b []byte) []byte { return append(b, 0) }, field: "size", index: -1},
		{name: "records swapped", mutate: func(b []byte) []byte {
			r3, r4 := record(b, 3), record(b, 4)
			tmp := slices.Clone(r3)
			copy(r3, r4)
			copy(r4, tmp)
			return fixCRCs(b)
		}, field: "order", index: 4},
		{name: "record duplicated", mutate: func(b []byte) []byte { copy(record(b, 4), record(b, 3)); return fixCRCs(b) }, field: "duplicate", index: 4},
		{name: "number zero", mutate: func(b []byte) []byte { clear(record(b, 0)[:8]); return fixCRCs(b) }, field: "range", index: 0},
		{name: "number above max", mutate: func(b []byte) []byte {
			binary.LittleEndian.PutUint64(record(b, 9), math.MaxInt64)
			return fixCRCs(b)
		}, field: "range", index: 9},
		{name: "wrong magic", mutate: func(b []byte) []byte { copy(b, "CDSX"); return fixCRCs(b) }, field: "magic", index: -1},
		{name: "wrong magic, stale checksum", mutate: func(b []byte) []byte { copy(b, "PK\x03\x04"); return b }, field: "magic", index: -1},
		{name: "wrong version", mutate: setHeader(4, 2, 2), field: "version", index: -1},
		{name: "version 0", mutate: setHeader(4, 0, 2), field: "version", index: -1},
		{name: "unknown kind 0", mutate: setHeader(6, 0, 1), field: "kind", index: -1},
		{name: "unknown kind 3", mutate: setHeader(6, 3, 1), field: "kind", index: -1},
		{name: "flags set", mutate: setHeader(7, 1, 1), field: "flags", index: -1},
		{name: "reserved set", mutate: setHeader(52, 1, 1), field: "reserved", index: -1},
		{name: "count too large", mutate: setHeader(8, MaxEntriesPerRequest+1, 8), field: "count", index: -1},
		{name: "count above body", only: KindBlock, mutate: setHeader(8, 11, 8), field: "body size", index: -1},
		{name: "count above body", only: KindIdentify, mutate: setHeader(8, 12, 8), field: "body size", index: -1},
		{name: "count below body", only: KindIdentify, mutate: setHeader(8, 9, 8), field: "label table", index: -1},
		{name: "first differs", mutate: setHeader(16, 999, 8), field: "first", index: 0},
		{name: "last differs", mutate: setHeader(24, 10001, 8), field: "last", index: 9},
		{name: "first/last in empty shard", only: KindBlock, mutate: func(b []byte) []byte {
			b = b[:HeaderSize]
			clear(b[8:16])  // count 0
			clear(b[32:40]) // body size 0
			binary.LittleEndian.PutUint64(b[24:32], 5)
			return fixCRCs(b)
		}, field: "first/last", index: -1},
		{name: "labels in a block shard", only: KindBlock, mutate: setHeader(40, 1, 4), field: "label count", index: -1},
		{name: "too many labels", only: KindIdentify, mutate: setHeader(40, 1000, 4), field: "label count", index: -1},
		{name: "label count too large for table", only: KindIdentify, mutate: setHeader(40, 4, 4), field: "label table", index: -1},
		{name: "label runs past table", only: KindIdentify, mutate: func(b []byte) []byte {
			binary.LittleEndian.PutUint16(b[HeaderSize:], 0xffff)
			return fixCRCs(b)
		}, field: "label table", index: -1},
		{name: "empty label", only: KindIdentify, mutate: func(b []byte) []byte {
			// "Spam" becomes an empty label followed by a 2-byte one.
			binary.LittleEndian.PutUint16(b[HeaderSize:], 0)
			binary.LittleEndian.PutUint16(b[HeaderSize+2:], 2)
			return fixCRCs(b)
		}, field: "label table", index: -1},
		{name: "invalid UTF-8 label", only: KindIdentify, mutate: func(b []byte) []byte { b[HeaderSize+2] = 0xff; return fixCRCs(b) }, field: "label table", index: -1},
		{name: "label index out of range", only: KindIdentify, mutate: func(b []byte) []byte {
			binary.LittleEndian.PutUint32(record(b, 2)[8:], 3)
			return fixCRCs(b)
		}, field: "label index", index: 2},
		{name: "padding set", only: KindIdentify, mutate: func(b []byte) []byte { record(b, 7)[15] = 1; return fixCRCs(b) }, field: "padding", index: 7},
	}
	for _, f := range faults {
		for _, k := range []Kind{KindBlock, KindIdentify} {
			if f.only != 0 && f.only != k {
				continue
			}
			t.Run(k.String()+"/"+f.name, func(t *testing.T) {
				b := f.mutate(slices.Clone(base[k]))
				size := int64(len(b))
				if f.stream {
					size = -1
				}
				_, _, recs, err := ReadAll(bytes.NewReader(b), size)
				fe := mustFormatError(t, err)
				if fe.Field != f.field || fe.Index != f.index {
					t.Errorf("got field %q index %d (%v), want %q index %d", fe.Field, fe.Index, err, f.field, f.index)
				}
				// Record errors come after the records before them; the
				// last-number check comes after all of them.
				if want := f.index; want >= 0 {
					if f.field == "last" {
						want++
					}
					if int64(len(recs)) != want {
						t.Errorf("%d records before the error, want %d", len(recs), want)
					}
				}
			})
		}
	}
}

// TestReaderNextAfterError checks that Next keeps returning its first
// error, and io.EOF after a clean end.
func TestReaderNextAfterError(t *testing.T) {
	good := mustWrite(t, KindBlock, nil, blockRecs(1, 2))
	bad := slices.Clone(good)
	copy(record(bad, 1), record(bad, 0))
	fixCRCs(bad)
	for _, tt := range []struct {
		name string
		data []byte
		want error
	}{{"clean", good, io.EOF}, {"duplicate", bad, nil}} {
		rd, err := NewReader(bytes.NewReader(tt.data), int64(len(tt.data)))
		if err != nil {
			t.Fatal(err)
		}
		var first error
		for i := 0; i < 5; i++ {
			_, err := rd.Next()
			if err == nil {
				continue
			}
			if first == nil {
				first = err
			} else if err != first {
				t.Errorf("%s: Next after %v returned %v", tt.name, first, err)
			}
		}
		if tt.want != nil && first != tt.want {
			t.Errorf("%s: got %v, want %v", tt.name, first, tt.want)
		}
	}
}

func TestHeaderValidate(t *testing.T) {
	ok := Header{Kind: KindBlock, Count: 2, First: 1, Last: 2, BodySize: 16}
	tests := []struct {
		name  string
		edit  func(h *Header)
		field string // "" means valid
	}{
		{"valid", func(h *Header) {}, ""},
		{"empty", func(h *Header) { *h = Header{Kind: KindBlock} }, ""},
		{"max count", func(h *Header) {
			h.Count, h.Last, h.BodySize = MaxEntriesPerRequest, MaxEntriesPerRequest, MaxEntriesPerRequest*BlockRecordSize
		}, ""},
		{"kind 0", func(h *Header) { h.Kind = 0 }, "kind"},
		{"kind 255", func(h *Header) { h.Kind = 255 }, "kind"},
		{"block labels", func(h *Header) { h.LabelCount = 1 }, "label count"},
		{"count above cap", func(h *Header) {
			h.Count, h.Last, h.BodySize = MaxEntriesPerRequest+1, MaxEntriesPerRequest+1, (MaxEntriesPerRequest+1)*BlockRecordSize
		}, "count"},
		{"count max uint64", func(h *Header) { h.Count = math.MaxUint64 }, "count"},
		{"body too small", func(h *Header) { h.BodySize = 15 }, "body size"},
		{"block body too big", func(h *Header) { h.BodySize = 17 }, "body size"},
		{"first/last in empty", func(h *Header) { h.Count, h.BodySize, h.First = 0, 0, 0 }, "first/last"},
		{"first 0", func(h *Header) { h.First = 0 }, "first"},
		{"first negative", func(h *Header) { h.First = -1 }, "first"},
		{"last below first", func(h *Header) { h.First, h.Last = 5, 4 }, "last"},
		{"last above max", func(h *Header) { h.Last = math.MaxInt64 }, "last"},
		{"range too narrow", func(h *Header) { h.Last = 1 }, "count"},
		{"identify labels fit", func(h *Header) { h.Kind, h.BodySize, h.LabelCount = KindIdentify, 32+6, 2 }, ""},
		{"identify labels do not fit", func(h *Header) { h.Kind, h.BodySize, h.LabelCount = KindIdentify, 32+5, 2 }, "label count"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := ok
			tt.edit(&h)
			b, err := h.MarshalBinary()
			if tt.field == "" {
				if err != nil {
					t.Fatalf("MarshalBinary: %v", err)
				}
				var got Header
				if err := got.UnmarshalBinary(b); err != nil || got != h {
					t.Errorf("UnmarshalBinary: %+v, %v; want %+v", got, err, h)
				}
				return
			}
			if fe := mustFormatError(t, err); fe.Field != tt.field || fe.Index != -1 {
				t.Errorf("got field %q index %d (%v), want %q", fe.Field, fe.Index, fe, tt.field)
			}
		})
	}
}

// TestNewReaderFailsFast feeds NewReader a bare header that claims the
// largest possible body: it must refuse it from the file size alone,
// without allocating anything in proportion to the claim.
func TestNewReaderFailsFast(t *testing.T) {
	claims := []Header{
		{Kind: KindBlock, Count: MaxEntriesPerRequest, First: 1, Last: MaxNumber, BodySize: MaxEntriesPerRequest * BlockRecordSize},
		{Kind: KindIdentify, Count: MaxEntriesPerRequest, First: 1, Last: MaxNumber, BodySize: 1 << 40, LabelCount: math.MaxUint32},
	}
	for _, h := range claims {
		t.Run(h.Kind.String(), func(t *testing.T) {
			b, err := h.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			var rerr error
			decode := func() { _, rerr = NewReader(bytes.NewReader(b), int64(len(b))) }
			allocs := testing.AllocsPerRun(20, decode)
			if fe := mustFormatError(t, rerr); fe.Field != "size" {
				t.Errorf("got %v, want a size error", fe)
			}
			if allocs >= 20 {
				t.Errorf("%v allocations, want fewer than 20", allocs)
			}
			if n := allocBytes(decode); n > 1<<20 {
				t.Errorf("allocated %d bytes for a %d-byte input", n, len(b))
			}
		})
	}
}

// allocBytes returns the bytes f allocates, the least of a few runs (the
// counter is process-wide, so other goroutines can only add to it).
func allocBytes(f func()) uint64 {
	var best uint64 = math.MaxUint64
	var ms runtime.MemStats
	for i := 0; i < 5; i++ {
		runtime.ReadMemStats(&ms)
		before := ms.TotalAlloc
		f()
		runtime.ReadMemStats(&ms)
		best = min(best, ms.TotalAlloc-before)
	}
	return best
}

// TestStreamLabelAllocation checks NewReader's promise for a stream: a
// label's length prefix alone cannot make it allocate the label.
func TestStreamLabelAllocation(t *testing.T) {
	stream := func(labelLen uint16) []byte {
		h := Header{Kind: KindIdentify, BodySize: 1 << 20, LabelCount: 1}
		b, err := h.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		b = binary.LittleEndian.AppendUint16(b, labelLen)
		return append(b, "only a few bytes"...)
	}
	measure := func(b []byte) uint64 {
		return allocBytes(func() {
			_, err := NewReader(bytes.NewReader(b), -1)
			if fe := mustFormatError(t, err); fe.Field != "label table" {
				t.Errorf("got %v, want a label table error", fe)
			}
		})
	}
	small, huge := measure(stream(20)), measure(stream(MaxLabelBytes))
	if huge > small+4096 {
		t.Errorf("a %d-byte label claim on a stream allocated %d bytes more than a 20-byte one", MaxLabelBytes, huge-small)
	}
}

func TestSplit(t *testing.T) {
	tests := []struct {
		n, max int
		want   []Span
	}{
		{0, 5, nil},
		{0, MaxEntriesPerRequest, nil},
		{1, 1, []Span{{0, 1}}},
		{3, 5, []Span{{0, 3}}},
		{5, 5, []Span{{0, 5}}},
		{6, 5, []Span{{0, 3}, {3, 6}}},
		{11, 5, []Span{{0, 4}, {4, 8}, {8, 11}}},
		{10, 3, []Span{{0, 3}, {3, 6}, {6, 8}, {8, 10}}},
		{3, 1, []Span{{0, 1}, {1, 2}, {2, 3}}},
		{DefaultMaxPerShard + 1, DefaultMaxPerShard, []Span{{0, 500_001}, {500_001, 1_000_001}}},
		{2_000_001, MaxEntriesPerRequest, []Span{{0, 1_000_001}, {1_000_001, 2_000_001}}},
	}
	for _, tt := range tests {
		got := Split(tt.n, tt.max)
		if !slices.Equal(got, tt.want) {
			t.Errorf("Split(%d, %d) = %v, want %v", tt.n, tt.max, got, tt.want)
		}
	}
}

// TestSplitInvariants checks every small case: the spans cover 0..n in
// order, number ceil(n/max), hold at most max each, and differ by at most
// one in size.
func TestSplitInvariants(t *testing.T) {
	for limit := 1; limit <= 40; limit++ {
		for n := 0; n <= 200; n++ {
			spans := Split(n, limit)
			if want := (n + limit - 1) / limit; len(spans) != want {
				t.Fatalf("Split(%d, %d): %d spans, want %d", n, limit, len(spans), want)
			}
			next, lo, hi := 0, n, 0
			for _, s := range spans {
				size := s.End - s.Start
				if s.Start != next || size < 1 || size > limit {
					t.Fatalf("Split(%d, %d) = %v: bad span %v", n, limit, spans, s)
				}
				next, lo, hi = s.End, min(lo, size), max(hi, size)
			}
			if next != n || (n > 0 && hi-lo > 1) {
				t.Fatalf("Split(%d, %d) = %v: does not cover 0..%d evenly", n, limit, spans, n)
			}
		}
	}
}

func TestCheckMaxPerShard(t *testing.T) {
	tests := []struct {
		max  int
		want []string // substrings of the error; nil means no error
	}{
		{-1, []string{"at least 1"}},
		{0, []string{"0 entries per shard", "at least 1"}},
		{1, nil},
		{DefaultMaxPerShard, nil},
		{MaxEntriesPerRequest, nil},
		{MaxEntriesPerRequest + 1, []string{"2000000 entries per shard", "1999999", "error 5"}},
	}
	for _, tt := range tests {
		err := CheckMaxPerShard(tt.max)
		if tt.want == nil {
			if err != nil {
				t.Errorf("CheckMaxPerShard(%d) = %v, want nil", tt.max, err)
			}
			continue
		}
		if err == nil {
			t.Errorf("CheckMaxPerShard(%d) = nil, want an error", tt.max)
			continue
		}
		for _, s := range tt.want {
			if !strings.Contains(err.Error(), s) {
				t.Errorf("CheckMaxPerShard(%d) = %q, want it to mention %q", tt.max, err, s)
			}
		}
	}
}

func TestKind(t *testing.T) {
	for _, tt := range []struct {
		s    string
		want Kind
	}{{"block", KindBlock}, {"blocking", KindBlock}, {"identify", KindIdentify}, {"identification", KindIdentify}} {
		if got, err := ParseKind(tt.s); got != tt.want || err != nil {
			t.Errorf("ParseKind(%q) = %v, %v; want %v", tt.s, got, err, tt.want)
		}
	}
	if _, err := ParseKind("Block"); err == nil {
		t.Error(`ParseKind("Block"): no error`)
	}
	if got := Kind(7).String(); got != "Kind(7)" {
		t.Errorf("Kind(7).String() = %q", got)
	}
	if Kind(0).RecordSize() != 0 || KindBlock.RecordSize() != 8 || KindIdentify.RecordSize() != 16 {
		t.Error("RecordSize: wrong sizes")
	}
}
