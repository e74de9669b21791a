package sortx

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
)

// A run file holds sorted, distinct int64 numbers, delta encoded: a run of
// CallKit numbers costs 1 byte per number where they are consecutive and
// 3–5 bytes where they are sparse, against 8 raw. Integers in the header
// and trailer are big-endian.
//
//	0        4          6        8             16                              end-4    end
//	┌────────┬──────────┬────────┬─────────────┬───────────────────────────────┬────────┐
//	│ "CDRN" │ version  │ flags  │ count       │ count varints                 │ CRC-32C│
//	│ magic  │ u16 = 1  │ u16 = 0│ u64 numbers │ first: zigzag varint of x₀    │ u32    │
//	│        │          │        │             │ then:  uvarint of xᵢ−xᵢ₋₁−1   │        │
//	└────────┴──────────┴────────┴─────────────┴───────────────────────────────┴────────┘
//
// The gaps are at least 1 (the numbers are strictly increasing), so a gap
// is stored minus one: consecutive numbers are a 0 byte. The CRC-32C
// (Castagnoli) covers the header and the body. The decoder refuses what the
// encoder never writes: a non-minimal varint, a number past MaxInt64, a
// count that does not match the body, and bytes after the trailer.
const (
	runMagic      = "CDRN"
	runVersion    = 1
	runHeaderSize = 16 // bytes
	runTrailer    = 4  // bytes: CRC-32C
)

// castagnoli is the CRC-32C table; the hash/crc32 package computes it with
// the SSE 4.2 instruction on amd64.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// ErrCorrupt is wrapped by every error about the content of a run file: a
// bad header, a bad varint, a wrong count or a checksum mismatch.
var ErrCorrupt = errors.New("corrupt run")

// runHeader is the fixed-size start of a run file.
type runHeader struct {
	Version uint16 // format version: runVersion
	Flags   uint16 // reserved: 0
	Count   uint64 // numbers in the body
}

// Validate refuses a header the decoder does not understand.
func (h runHeader) Validate() error {
	if h.Version != runVersion {
		return fmt.Errorf("%w: version %d, want %d", ErrCorrupt, h.Version, runVersion)
	}
	if h.Flags != 0 {
		return fmt.Errorf("%w: flags %#x, want 0", ErrCorrupt, h.Flags)
	}
	return nil
}

// AppendBinary appends the runHeaderSize bytes of h to b.
func (h runHeader) AppendBinary(b []byte) ([]byte, error) {
	if err := h.Validate(); err != nil {
		return b, err
	}
	b = append(b, runMagic...)
	b = binary.BigEndian.AppendUint16(b, h.Version)
	b = binary.BigEndian.AppendUint16(b, h.Flags)
	return binary.BigEndian.AppendUint64(b, h.Count), nil
}

// UnmarshalBinary decodes and validates a header.
func (h *runHeader) UnmarshalBinary(b []byte) error {
	if len(b) < runHeaderSize {
		return fmt.Errorf("%w: header of %d bytes, want %d", ErrCorrupt, len(b), runHeaderSize)
	}
	if string(b[:4]) != runMagic {
		return fmt.Errorf("%w: magic %q, want %q", ErrCorrupt, b[:4], runMagic)
	}
	h.Version = binary.BigEndian.Uint16(b[4:])
	h.Flags = binary.BigEndian.Uint16(b[6:])
	h.Count = binary.BigEndian.Uint64(b[8:])
	return h.Validate()
}

// Buffer sizes, in bytes. A merge holds one reader per run, so its buffer
// is the smaller.
const (
	runWriteBufSize = 64 << 10
	runBufSize      = 16 << 10 // read buffer
)

// runWriter encodes one run. It declares its count up front and refuses
// numbers that are not strictly increasing, or more or fewer than declared.
type runWriter struct {
	w       io.Writer
	buf     []byte
	crc     uint32
	count   uint64 // declared
	written uint64
	prev    int64
	err     error // sticky
}

func newRunWriter(w io.Writer, count uint64) *runWriter {
	rw := &runWriter{w: w, buf: make([]byte, 0, runWriteBufSize), count: count}
	rw.buf, rw.err = runHeader{Version: runVersion, Count: count}.AppendBinary(rw.buf)
	return rw
}

// Write appends one number.
func (rw *runWriter) Write(x int64) error {
	if rw.err != nil {
		return rw.err
	}
	switch {
	case rw.written == rw.count:
		rw.err = fmt.Errorf("encode run: more than the %d numbers declared", rw.count)
		return rw.err
	case rw.written == 0:
		rw.buf = binary.AppendVarint(rw.buf, x)
	case x <= rw.prev:
		rw.err = fmt.Errorf("encode run: %d after %d: not strictly increasing", x, rw.prev)
		return rw.err
	default:
		rw.buf = binary.AppendUvarint(rw.buf, uint64(x)-uint64(rw.prev)-1)
	}
	rw.prev = x
	rw.written++
	if len(rw.buf) > cap(rw.buf)-binary.MaxVarintLen64 {
		return rw.flush()
	}
	return nil
}

// WriteSlice appends sorted, distinct numbers.
func (rw *runWriter) WriteSlice(xs []int64) error {
	for _, x := range xs {
		if err := rw.Write(x); err != nil {
			return err
		}
	}
	return nil
}

func (rw *runWriter) flush() error {
	rw.crc = crc32.Update(rw.crc, castagnoli, rw.buf)
	if _, err := rw.w.Write(rw.buf); err != nil {
		rw.err = err
		return err
	}
	rw.buf = rw.buf[:0]
	return nil
}

// Close checks the count, writes the trailer and flushes. It does not
// close the underlying writer.
func (rw *runWriter) Close() error {
	if rw.err != nil {
		return rw.err
	}
	if rw.written != rw.count {
		rw.err = fmt.Errorf("encode run: %d numbers written, %d declared", rw.written, rw.count)
		return rw.err
	}
	rw.crc = crc32.Update(rw.crc, castagnoli, rw.buf)
	rw.buf = binary.BigEndian.AppendUint32(rw.buf, rw.crc)
	if _, err := rw.w.Write(rw.buf); err != nil {
		rw.err = err
		return err
	}
	rw.err = errors.New("encode run: closed")
	return nil
}

// runReader decodes one run, verifying it as it goes: numbers come out as
// soon as they are decoded, and the checksum is checked when the last one
// has been read, before next reports the end. A caller must check err once
// next returns false.
type runReader struct {
	r      io.Reader
	buf    []byte
	pos    int    // next unread byte of buf
	end    int    // end of the valid bytes of buf
	crcEnd int    // buf[:crcEnd] has been added to crc
	crc    uint32 // of the bytes consumed so far
	eof    bool   // r has no more bytes
	state  uint8
	count  uint64 // from the header
	left   uint64 // numbers still to decode
	key    uint64 // last number, as uint64(x) ^ 1<<63 (ordered like x)
	err    error
}

const (
	rrStart   = iota // header not read yet
	rrNumbers        // decoding numbers
	rrDone           // trailer verified, or err set
)

func newRunReader(r io.Reader) *runReader {
	rr := &runReader{buf: make([]byte, runBufSize)}
	rr.reset(r)
	return rr
}

// reset starts reading a run from r, keeping the buffer.
func (rr *runReader) reset(r io.Reader) {
	*rr = runReader{r: r, buf: rr.buf}
}

// next returns the next number of the run, or false at its end or at the
// first error (see err).
func (rr *runReader) next() (int64, bool) {
	if rr.state != rrNumbers {
		if rr.state == rrDone || !rr.readHeader() {
			return 0, false
		}
	}
	if rr.left == 0 {
		rr.finish()
		return 0, false
	}
	if rr.end-rr.pos < binary.MaxVarintLen64 && !rr.fill(binary.MaxVarintLen64) && rr.err != nil {
		return 0, false
	}
	u, n := binary.Uvarint(rr.buf[rr.pos:rr.end])
	switch {
	case n == 0:
		return rr.corrupt("truncated after %d of %d numbers", rr.count-rr.left, rr.count)
	case n < 0:
		return rr.corrupt("varint overflows 64 bits after %d numbers", rr.count-rr.left)
	case n > 1 && rr.buf[rr.pos+n-1] == 0:
		return rr.corrupt("non-minimal varint after %d numbers", rr.count-rr.left)
	}
	rr.pos += n
	if rr.left == rr.count {
		x := int64(u >> 1) // zigzag, as binary.Varint
		if u&1 != 0 {
			x = ^x
		}
		rr.key = uint64(x) ^ 1<<63
	} else {
		if u >= math.MaxUint64-rr.key { // key+u+1 would pass MaxInt64
			return rr.corrupt("number %d overflows int64", rr.count-rr.left)
		}
		rr.key += u + 1
	}
	rr.left--
	return int64(rr.key ^ 1<<63), true
}

// read decodes up to len(dst) numbers into dst and returns how many: 0 at
// the end of the run or at an error (see err). Numbers decoded before an
// error are returned; the error comes with the next call.
func (rr *runReader) read(dst []int64) int {
	n := 0
	for n < len(dst) {
		if rr.state == rrNumbers && rr.left < rr.count {
			// Fast path, past the first number: decode straight from the
			// buffer while it holds a whole varint. Anything unusual is
			// left to next, which decodes it again and reports it.
			for n < len(dst) && rr.left > 0 && rr.end-rr.pos >= binary.MaxVarintLen64 {
				u, k := binary.Uvarint(rr.buf[rr.pos:rr.end])
				if k <= 0 || (k > 1 && rr.buf[rr.pos+k-1] == 0) || u >= math.MaxUint64-rr.key {
					break
				}
				rr.pos += k
				rr.key += u + 1
				rr.left--
				dst[n] = int64(rr.key ^ 1<<63)
				n++
			}
			if n == len(dst) {
				break
			}
		}
		x, ok := rr.next()
		if !ok {
			break
		}
		dst[n] = x
		n++
	}
	return n
}

func (rr *runReader) readHeader() bool {
	if !rr.fill(runHeaderSize) {
		if rr.err == nil {
			rr.corrupt("truncated header: %d bytes", rr.end-rr.pos)
		}
		return false
	}
	var h runHeader
	if err := h.UnmarshalBinary(rr.buf[rr.pos:rr.end]); err != nil {
		rr.err, rr.state = err, rrDone
		return false
	}
	rr.pos += runHeaderSize
	rr.count, rr.left, rr.state = h.Count, h.Count, rrNumbers
	return true
}

// finish verifies the trailer and that nothing follows it.
func (rr *runReader) finish() {
	rr.crc = crc32.Update(rr.crc, castagnoli, rr.buf[rr.crcEnd:rr.pos])
	rr.crcEnd = rr.pos
	if !rr.fill(runTrailer) {
		if rr.err == nil {
			rr.corrupt("truncated trailer")
		}
		return
	}
	stored := binary.BigEndian.Uint32(rr.buf[rr.pos:])
	rr.pos += runTrailer
	rr.crcEnd = rr.pos // the trailer is not part of its own checksum
	if stored != rr.crc {
		rr.corrupt("checksum mismatch: stored %#08x, computed %#08x", stored, rr.crc)
		return
	}
	if rr.fill(1) {
		rr.corrupt("data after the trailer")
		return
	}
	if rr.err == nil {
		rr.state = rrDone
	}
}

// fill reads until at least need bytes are buffered; it reports false when
// the input ended (or failed: see err) first.
func (rr *runReader) fill(need int) bool {
	if rr.end-rr.pos >= need {
		return true
	}
	if rr.eof || rr.err != nil {
		return false
	}
	// Checksum the consumed bytes before moving the rest to the front.
	rr.crc = crc32.Update(rr.crc, castagnoli, rr.buf[rr.crcEnd:rr.pos])
	rr.end = copy(rr.buf, rr.buf[rr.pos:rr.end])
	rr.pos, rr.crcEnd = 0, 0
	for empty := 0; rr.end < need; {
		n, err := rr.r.Read(rr.buf[rr.end:])
		rr.end += n
		if err == io.EOF {
			rr.eof = true
			return rr.end >= need
		}
		if n > 0 {
			empty = 0
		} else if empty++; empty >= 100 && err == nil { // as bufio does
			err = io.ErrNoProgress
		}
		if err != nil {
			rr.err, rr.state = err, rrDone
			return false
		}
	}
	return true
}

func (rr *runReader) corrupt(format string, args ...any) (int64, bool) {
	rr.err = fmt.Errorf("%w: "+format, append([]any{ErrCorrupt}, args...)...)
	rr.state = rrDone
	return 0, false
}
