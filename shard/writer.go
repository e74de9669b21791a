package shard

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"strings"
	"unicode/utf8"
)

// Writer streams one shard. It refuses what CallKit would refuse: a number
// that is zero, negative, above MaxNumber, or not strictly greater than the
// previous one (errors 3 and 4), more than MaxEntriesPerRequest records
// (error 5), and labels that the extension would drop silently.
//
// The header's count, range and checksum are only known at the end, so the
// writer needs an io.WriteSeeker: Close seeks back and writes the header.
type Writer struct {
	ws    io.WriteSeeker
	bw    *bufio.Writer
	crc   hash.Hash32
	hdr   Header
	prev  int64
	rec   [IdentifyRecordSize]byte
	blk   []byte // AddBlock's records
	err   error
	close bool
}

// NewWriter starts a shard of kind k. For KindIdentify, labels is the label
// table that AddLabeled indexes; for KindBlock it must be empty.
func NewWriter(ws io.WriteSeeker, k Kind, labels []string) (*Writer, error) {
	if k.RecordSize() == 0 {
		return nil, fmt.Errorf("shard: unknown kind %d", k)
	}
	if k == KindBlock && len(labels) > 0 {
		return nil, fmt.Errorf("shard: a block shard has no labels")
	}
	w := &Writer{ws: ws, bw: bufio.NewWriterSize(ws, 256<<10), crc: crc32.New(castagnoli)}
	if k == KindBlock {
		w.blk = make([]byte, 64<<10)
	}
	w.hdr.Kind = k
	if _, err := w.bw.Write(make([]byte, HeaderSize)); err != nil {
		return nil, err
	}
	for i, l := range labels {
		if err := CheckLabel(l); err != nil {
			return nil, fmt.Errorf("shard: label %d: %w", i, err)
		}
		var n [LabelLenSize]byte
		binary.LittleEndian.PutUint16(n[:], uint16(len(l)))
		w.body(n[:])
		w.body([]byte(l))
	}
	w.hdr.LabelCount = uint32(len(labels))
	return w, w.err
}

// CheckLabel reports whether CallKit would keep a label intact: non-empty,
// valid UTF-8, at most MaxLabelBytes bytes (CALLKIT.md §1.2), and without a NUL
// byte, which would cut it short in the daemon's NUL-terminated table.
func CheckLabel(l string) error {
	switch {
	case l == "":
		return fmt.Errorf("empty label (CallKit drops it silently)")
	case len(l) > MaxLabelBytes:
		return fmt.Errorf("label of %d bytes, above CallKit's %d", len(l), MaxLabelBytes)
	case !utf8.ValidString(l):
		return fmt.Errorf("label %q is not valid UTF-8", l)
	case strings.IndexByte(l, 0) >= 0:
		return fmt.Errorf("label %q contains a NUL byte (CallKit's label table is NUL-terminated)", l)
	}
	return nil
}

// LabelOK reports whether CheckLabel accepts l, without making a string of
// it (the compiler asks it of every line of an identification list).
func LabelOK(l []byte) bool {
	return len(l) > 0 && len(l) <= MaxLabelBytes && utf8.Valid(l) && bytes.IndexByte(l, 0) < 0
}

func (w *Writer) body(b []byte) {
	if w.err != nil {
		return
	}
	w.crc.Write(b)
	w.hdr.BodySize += uint64(len(b))
	_, w.err = w.bw.Write(b)
}

func (w *Writer) check(n int64) error {
	if w.err != nil {
		return w.err
	}
	if w.close {
		return fmt.Errorf("shard: write after Close")
	}
	idx := int64(w.hdr.Count)
	switch {
	case n <= 0 || n > MaxNumber:
		return &FormatError{Field: "range", Index: idx, Number: n, Msg: fmt.Sprintf("outside 1..%d", MaxNumber)}
	case w.hdr.Count > 0 && n == w.prev:
		return &FormatError{Field: "duplicate", Index: idx, Number: n, Msg: fmt.Sprintf("equal to the previous number (CallKit error %d)", ErrorDuplicateEntries)}
	case w.hdr.Count > 0 && n < w.prev:
		return &FormatError{Field: "order", Index: idx, Number: n, Msg: fmt.Sprintf("below the previous number %d (CallKit error %d)", w.prev, ErrorEntriesOutOfOrder)}
	case w.hdr.Count >= MaxEntriesPerRequest:
		return &FormatError{Field: "count", Index: idx, Number: n, Msg: fmt.Sprintf("more than %d entries in one shard (CallKit error %d)", MaxEntriesPerRequest, ErrorMaximumEntriesExceeded)}
	}
	return nil
}

func (w *Writer) added(n int64) {
	if w.hdr.Count == 0 {
		w.hdr.First = n
	}
	w.hdr.Last = n
	w.prev = n
	w.hdr.Count++
}

// Add appends a blocking number.
func (w *Writer) Add(n int64) error {
	if w.hdr.Kind != KindBlock {
		return fmt.Errorf("shard: Add on an %s shard; use AddLabeled", w.hdr.Kind)
	}
	if err := w.check(n); err != nil {
		return err
	}
	binary.LittleEndian.PutUint64(w.rec[:8], uint64(n))
	w.body(w.rec[:8])
	w.added(n)
	return w.err
}

// AddBlock appends blocking numbers, as Add does for each in turn, with one
// check and one checksum update for the whole block. On a refused number
// the numbers before it are written and the error is the one Add gives.
func (w *Writer) AddBlock(ns []int64) error {
	if w.hdr.Kind != KindBlock {
		return fmt.Errorf("shard: Add on an %s shard; use AddLabeled", w.hdr.Kind)
	}
	for len(ns) > 0 && w.err == nil {
		// Encode up to a buffer's worth: the bytes go to the writer's
		// buffer without a copy when it has room.
		k := min(len(ns), len(w.blk)/BlockRecordSize)
		ok := k
		prev, count := w.prev, w.hdr.Count
		for i, n := range ns[:k] {
			if n <= 0 || n > MaxNumber || (count > 0 && n <= prev) || count >= MaxEntriesPerRequest {
				ok = i
				break
			}
			binary.LittleEndian.PutUint64(w.blk[i*BlockRecordSize:], uint64(n))
			prev = n
			count++
		}
		if ok > 0 {
			w.body(w.blk[:ok*BlockRecordSize])
			if w.hdr.Count == 0 {
				w.hdr.First = ns[0]
			}
			w.hdr.Last, w.prev, w.hdr.Count = prev, prev, count
		}
		if ok < k {
			return w.Add(ns[ok]) // gives the error
		}
		ns = ns[k:]
	}
	return w.err
}

// AddLabeled appends an identification number with an index into the label
// table given to NewWriter.
func (w *Writer) AddLabeled(n int64, label uint32) error {
	if w.hdr.Kind != KindIdentify {
		return fmt.Errorf("shard: AddLabeled on a %s shard; use Add", w.hdr.Kind)
	}
	if err := w.check(n); err != nil {
		return err
	}
	if label >= w.hdr.LabelCount {
		return &FormatError{Field: "label index", Index: int64(w.hdr.Count), Number: n, Msg: fmt.Sprintf("%d, the table has %d labels", label, w.hdr.LabelCount)}
	}
	binary.LittleEndian.PutUint64(w.rec[:8], uint64(n))
	binary.LittleEndian.PutUint32(w.rec[8:12], label)
	binary.LittleEndian.PutUint32(w.rec[12:16], 0)
	w.body(w.rec[:16])
	w.added(n)
	return w.err
}

// Header returns the header as it stands (final after Close).
func (w *Writer) Header() Header {
	h := w.hdr
	h.BodyCRC = w.crc.Sum32()
	return h
}

// Close flushes the body and writes the final header at offset 0. It does
// not close or sync the underlying file.
func (w *Writer) Close() error {
	if w.close {
		return w.err
	}
	w.close = true
	if w.err != nil {
		return w.err
	}
	if err := w.bw.Flush(); err != nil {
		w.err = err
		return err
	}
	h := w.Header()
	b, err := h.MarshalBinary()
	if err != nil {
		w.err = err
		return err
	}
	if _, err := w.ws.Seek(0, io.SeekStart); err != nil {
		w.err = err
		return err
	}
	if _, err := w.ws.Write(b); err != nil {
		w.err = err
		return err
	}
	_, w.err = w.ws.Seek(0, io.SeekEnd)
	return w.err
}
