package doctor

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// What SQLite does to the copy on opening it: a hot rollback journal is
// played back into the database and deleted (the interrupted transaction
// is undone); a -wal is read with the database, its committed transactions
// on top of it. doctor reads both files before opening the copy and says
// what happened as a notice (RolledBack, WALReplayed): the device's file is
// not wrong for it, and its daemon does the same on its next open.

// siblingState is what the copied -journal and -wal held before opening.
type siblingState struct {
	journalBytes int64 // the -journal's size; 0 when absent or empty
	journalHot   bool  // it starts with the journal magic: SQLite will roll it back
	walBytes     int64 // the -wal's size; 0 when absent
	wal          walSummary
}

// journalMagic starts every rollback journal header
// (https://www.sqlite.org/fileformat.html §4.1).
var journalMagic = []byte{0xd9, 0xd5, 0x05, 0xf9, 0x20, 0xa1, 0x63, 0xd7}

// readSiblings reads the -journal and -wal next to the copy at copyPath.
func readSiblings(copyPath string) (siblingState, error) {
	var s siblingState
	if f, err := os.Open(copyPath + "-journal"); err == nil {
		head := make([]byte, len(journalMagic))
		n, _ := io.ReadFull(f, head)
		fi, err := f.Stat()
		f.Close()
		if err != nil {
			return s, err
		}
		s.journalBytes = fi.Size()
		s.journalHot = bytes.Equal(head[:n], journalMagic)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return s, err
	}
	if f, err := os.Open(copyPath + "-wal"); err == nil {
		defer f.Close()
		fi, err := f.Stat()
		if err != nil {
			return s, err
		}
		s.walBytes = fi.Size()
		if s.wal, err = readWAL(bufio.NewReaderSize(f, 1<<16)); err != nil {
			return s, err
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return s, err
	}
	return s, nil
}

// siblingNotices compares the copy's siblings after the examination with
// what they held before. A hot journal that is gone was rolled back (SQLite
// deletes it once the rollback is done); a -wal with committed frames in a
// copy opened in WAL mode was read.
func (ex *examiner) siblingNotices(before siblingState) error {
	if before.journalHot {
		_, err := os.Lstat(ex.copyPath + "-journal")
		switch {
		case errors.Is(err, fs.ErrNotExist):
			ex.add(Finding{Kind: RolledBack, Message: fmt.Sprintf(
				"the copy had a hot journal (%d bytes): SQLite rolled back an interrupted transaction in the copy, so this report shows the file as of its last commit; the device's file keeps the journal until the daemon next opens it",
				before.journalBytes)})
		case err != nil:
			return fmt.Errorf("doctor %s: %w", ex.path, err)
		}
	}
	if w := before.wal; w.commits > 0 && ex.rep.JournalMode == "wal" {
		msg := fmt.Sprintf("the copy had a -wal (%d bytes) holding %d committed transaction(s), %d page write(s), not yet checkpointed into the database: SQLite read them with it, as the daemon does; the device's file keeps them in its -wal until a checkpoint",
			before.walBytes, w.commits, w.frames)
		if rest := before.walBytes - walHeaderSize - w.frames*w.frameBytes; rest > 0 {
			msg += fmt.Sprintf("; the %d bytes after its last commit (a transaction that never committed, or older frames already in the database) were ignored", rest)
		}
		ex.add(Finding{Kind: WALReplayed, Message: msg})
	}
	return nil
}

// walSummary is what SQLite's recovery finds in a -wal
// (https://www.sqlite.org/fileformat.html §4.3): the frames up to the last
// valid commit frame are the database's newest pages; anything after it
// (a transaction that never committed, frames of an earlier round that
// were checkpointed) is ignored.
type walSummary struct {
	frames     int64 // valid frames up to and including the last commit frame
	commits    int64 // commit frames among them: transactions
	frameBytes int64 // the size of one frame: its header and a page
}

// The -wal's layout (fileformat.html §4.1): a 32-byte header, then frames
// of a 24-byte header and one page.
const (
	walHeaderSize      = 32
	walFrameHeaderSize = 24
	walMagicLE         = 0x377f0682 // checksums over little-endian words
	walMagicBE         = 0x377f0683 // checksums over big-endian words
	walVersion         = 3007000
)

// readWAL reads a -wal as SQLite's recovery does: a header with a valid
// magic, version, page size and checksum, then frames while each one's
// salts match the header's and its cumulative checksum holds. A -wal that
// fails any of these is, like SQLite, taken as holding nothing (a zero
// walSummary); only a read error is returned. It streams: one page at a
// time.
func readWAL(r io.Reader) (walSummary, error) {
	var sum walSummary
	var hdr [walHeaderSize]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return sum, readErr(err)
	}
	be := binary.BigEndian
	var order binary.ByteOrder
	switch be.Uint32(hdr[0:4]) {
	case walMagicLE:
		order = binary.LittleEndian
	case walMagicBE:
		order = binary.BigEndian
	default:
		return sum, nil
	}
	pageSize := int64(be.Uint32(hdr[8:12]))
	if be.Uint32(hdr[4:8]) != walVersion || pageSize < 512 || pageSize > 65536 || pageSize&(pageSize-1) != 0 {
		return sum, nil
	}
	s0, s1 := walChecksum(order, 0, 0, hdr[:24])
	if s0 != be.Uint32(hdr[24:28]) || s1 != be.Uint32(hdr[28:32]) {
		return sum, nil
	}
	salt := hdr[16:24]
	frame := make([]byte, walFrameHeaderSize+pageSize)
	sum.frameBytes = int64(len(frame))
	var valid int64
	for {
		if _, err := io.ReadFull(r, frame); err != nil {
			// A partial last frame is one SQLite ignores too.
			return sum, readErr(err)
		}
		fh, page := frame[:walFrameHeaderSize], frame[walFrameHeaderSize:]
		if be.Uint32(fh[0:4]) == 0 || !bytes.Equal(fh[8:16], salt) {
			return sum, nil
		}
		s0, s1 = walChecksum(order, s0, s1, fh[:8])
		s0, s1 = walChecksum(order, s0, s1, page)
		if s0 != be.Uint32(fh[16:20]) || s1 != be.Uint32(fh[20:24]) {
			return sum, nil
		}
		valid++
		if be.Uint32(fh[4:8]) != 0 { // a commit frame: the database's size after it
			sum.frames = valid
			sum.commits++
		}
	}
}

// readErr passes on a read error, but not the end of the file: a short
// -wal ends where its data ends.
func readErr(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return nil
	}
	return err
}

// walChecksum continues SQLite's WAL checksum (fileformat.html §4.2) over
// b, whose length is a multiple of 8, read as 32-bit words in order.
func walChecksum(order binary.ByteOrder, s0, s1 uint32, b []byte) (uint32, uint32) {
	for i := 0; i+8 <= len(b); i += 8 {
		s0 += order.Uint32(b[i:]) + s1
		s1 += order.Uint32(b[i+4:]) + s0
	}
	return s0, s1
}
