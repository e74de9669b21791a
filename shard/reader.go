package shard

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"os"
)

// Record is one shard entry. Label is an index into Reader.Labels and is 0
// for blocking shards.
type Record struct {
	Number int64
	Label  uint32
}

// Reader streams a shard. It checks every header field against the file size
// before allocating anything, reads the label table, then yields records one
// at a time; the final Next verifies the count, order and body checksum.
type Reader struct {
	br     *bufio.Reader
	hdr    Header
	labels []string
	crc    hash.Hash32
	n      uint64
	prev   int64
	rec    [IdentifyRecordSize]byte
	done   bool
	err    error
}

// NewReader reads the header and label table of a shard of size bytes; a
// negative size means unknown (a pipe), in which case the label table is
// read incrementally and can never allocate more than was actually read.
func NewReader(r io.Reader, size int64) (*Reader, error) {
	rd := &Reader{br: bufio.NewReaderSize(r, 256<<10), crc: crc32.New(castagnoli)}
	var hb [HeaderSize]byte
	if _, err := io.ReadFull(rd.br, hb[:]); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, hdrErr("header", fmt.Sprintf("file is %s, shorter than the %d-byte header", sizeText(size), HeaderSize))
		}
		return nil, err
	}
	if err := rd.hdr.UnmarshalBinary(hb[:]); err != nil {
		return nil, err
	}
	if size >= 0 && rd.hdr.FileSize() != uint64(size) {
		return nil, hdrErr("size", fmt.Sprintf("header says %d bytes, file has %d: truncated or extended", rd.hdr.FileSize(), size))
	}
	tableSize := rd.hdr.BodySize - rd.hdr.Count*uint64(rd.hdr.Kind.RecordSize())
	var used uint64
	var lb [LabelLenSize]byte
	for i := uint32(0); i < rd.hdr.LabelCount; i++ {
		if err := rd.read(lb[:]); err != nil {
			return nil, rd.tableErr(i, err)
		}
		l := uint64(binary.LittleEndian.Uint16(lb[:]))
		used += LabelLenSize + l
		if used > tableSize {
			return nil, hdrErr("label table", fmt.Sprintf("label %d runs past the table's %d bytes", i, tableSize))
		}
		// Peek the label in the read buffer (256 KiB, larger than any
		// label) and copy it out only once it was all read, so that a
		// length prefix alone never allocates.
		buf, err := rd.br.Peek(int(l))
		if err != nil {
			return nil, rd.tableErr(i, err)
		}
		rd.crc.Write(buf)
		label := string(buf)
		rd.br.Discard(len(buf))
		if err := CheckLabel(label); err != nil {
			return nil, hdrErr("label table", fmt.Sprintf("label %d: %v", i, err))
		}
		rd.labels = append(rd.labels, label)
	}
	if used != tableSize {
		return nil, hdrErr("label table", fmt.Sprintf("%d bytes of labels, the header leaves %d", used, tableSize))
	}
	return rd, nil
}

func sizeText(size int64) string {
	if size < 0 {
		return "a stream"
	}
	return fmt.Sprintf("%d bytes", size)
}

func (rd *Reader) tableErr(i uint32, err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return hdrErr("label table", fmt.Sprintf("truncated in label %d", i))
	}
	return err
}

func (rd *Reader) read(b []byte) error {
	if _, err := io.ReadFull(rd.br, b); err != nil {
		return err
	}
	rd.crc.Write(b)
	return nil
}

// Header returns the validated header.
func (rd *Reader) Header() Header { return rd.hdr }

// Labels returns the label table (nil for blocking shards).
func (rd *Reader) Labels() []string { return rd.labels }

// Next returns the next record, or io.EOF once all records were read and the
// count, first/last and checksum were verified. Any other error is a
// *FormatError or an I/O error, and Next keeps returning it.
func (rd *Reader) Next() (Record, error) {
	if rd.err != nil {
		return Record{}, rd.err
	}
	if rd.n == rd.hdr.Count {
		rd.err = rd.finish()
		return Record{}, rd.err
	}
	rs := rd.hdr.Kind.RecordSize()
	if err := rd.read(rd.rec[:rs]); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			err = &FormatError{Field: "truncated", Index: int64(rd.n), Msg: fmt.Sprintf("file ends after %d of %d records", rd.n, rd.hdr.Count)}
		}
		rd.err = err
		return Record{}, err
	}
	rec := Record{Number: int64(binary.LittleEndian.Uint64(rd.rec[:8]))}
	idx := int64(rd.n)
	fail := func(field, msg string) (Record, error) {
		rd.err = &FormatError{Field: field, Index: idx, Number: rec.Number, Msg: msg}
		return Record{}, rd.err
	}
	if rs == IdentifyRecordSize {
		rec.Label = binary.LittleEndian.Uint32(rd.rec[8:12])
		if rec.Label >= rd.hdr.LabelCount {
			return fail("label index", fmt.Sprintf("%d, the table has %d labels", rec.Label, rd.hdr.LabelCount))
		}
		if binary.LittleEndian.Uint32(rd.rec[12:16]) != 0 {
			return fail("padding", "non-zero record padding")
		}
	}
	switch {
	case rec.Number <= 0 || rec.Number > MaxNumber:
		return fail("range", fmt.Sprintf("outside 1..%d", MaxNumber))
	case rd.n > 0 && rec.Number == rd.prev:
		return fail("duplicate", fmt.Sprintf("equal to the previous number (CallKit error %d)", ErrorDuplicateEntries))
	case rd.n > 0 && rec.Number < rd.prev:
		return fail("order", fmt.Sprintf("below the previous number %d (CallKit error %d)", rd.prev, ErrorEntriesOutOfOrder))
	case rd.n == 0 && rec.Number != rd.hdr.First:
		return fail("first", fmt.Sprintf("header says first is %d", rd.hdr.First))
	}
	rd.prev = rec.Number
	rd.n++
	return rec, nil
}

func (rd *Reader) finish() error {
	if rd.done {
		return io.EOF
	}
	rd.done = true
	if rd.hdr.Count > 0 && rd.prev != rd.hdr.Last {
		return &FormatError{Field: "last", Index: int64(rd.n - 1), Number: rd.prev, Msg: fmt.Sprintf("header says last is %d", rd.hdr.Last)}
	}
	if _, err := rd.br.ReadByte(); err == nil {
		return hdrErr("size", "trailing bytes after the last record")
	} else if err != io.EOF {
		return err
	}
	if got := rd.crc.Sum32(); got != rd.hdr.BodyCRC {
		return hdrErr("checksum", fmt.Sprintf("body CRC-32C %08x, header says %08x: body damaged", got, rd.hdr.BodyCRC))
	}
	return io.EOF
}

// File is an open shard file with its reader.
type File struct {
	*Reader
	f *os.File
}

// Open opens a shard file named on the command line and reads its header
// and label table. A shard named by a build's manifest or by a plan is
// opened with OpenIn instead, inside its directory.
func Open(path string) (*File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	return newFile(f, path)
}

// newFile reads the header and label table of the open file f; path names
// it in errors. It closes f on error.
func newFile(f *os.File, path string) (*File, error) {
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	rd, err := NewReader(f, st.Size())
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &File{Reader: rd, f: f}, nil
}

// Close closes the file.
func (f *File) Close() error { return f.f.Close() }

// ReadAll reads a whole shard: header, labels and every record, verified.
func ReadAll(r io.Reader, size int64) (Header, []string, []Record, error) {
	rd, err := NewReader(r, size)
	if err != nil {
		return Header{}, nil, nil, err
	}
	var recs []Record
	for {
		rec, err := rd.Next()
		if err == io.EOF {
			return rd.hdr, rd.labels, recs, nil
		}
		if err != nil {
			return rd.hdr, rd.labels, recs, err
		}
		recs = append(recs, rec)
	}
}

// Records reads every remaining record into memory and verifies the whole
// shard (order, range, count, first/last, trailing bytes, checksum) before
// it returns any: a caller that prints only what Records returned never
// prints an entry of a damaged shard. The header bounds the memory: at most
// MaxEntriesPerRequest records of 16 bytes (32 MB).
func (rd *Reader) Records() ([]Record, error) {
	recs := make([]Record, 0, rd.hdr.Count-rd.n)
	for {
		rec, err := rd.Next()
		if err == io.EOF {
			return recs, nil
		}
		if err != nil {
			return nil, err
		}
		recs = append(recs, rec)
	}
}
