package doctor

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"

	"github.com/calldir/calldir/shard"
)

// copyName is the copy's name in the temporary directory; SQLite finds the
// copied -journal and -wal by appending to it.
const copyName = "CallDirectory.db"

// siblings are the files SQLite keeps next to a database that change what
// it reads: a hot rollback journal and the write-ahead log. The -shm is an
// index SQLite rebuilds from the -wal, so it is not copied.
var siblings = []string{"-journal", "-wal"}

// snapshot copies path and its siblings into dir. It refuses anything but a
// regular file (a symlink could lead anywhere; opening a FIFO would block)
// and a database that changes while it is copied (a live daemon or simulator
// is writing it). The database's header is checked before anything else.
func snapshot(path, dir string) ([]Copied, error) {
	fi, err := os.Lstat(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, unreadable(path, "not found", err)
		}
		return nil, unreadable(path, "cannot read: "+err.Error(), err)
	}
	if !fi.Mode().IsRegular() {
		return nil, unreadable(path, "refused: "+shard.FileType(fi.Mode())+", not a regular file", nil)
	}
	var copied []Copied
	n, err := copyRegular(path, filepath.Join(dir, copyName), fi)
	if err != nil {
		return nil, err
	}
	copied = append(copied, Copied{Name: filepath.Base(path), Bytes: n})
	if err := checkHeader(path, filepath.Join(dir, copyName), n); err != nil {
		return nil, err
	}
	for _, s := range siblings {
		si, err := os.Lstat(path + s)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, unreadable(path, "cannot read its "+s+": "+err.Error(), err)
		}
		if !si.Mode().IsRegular() {
			return nil, unreadable(path, "refused: its "+s+" is "+shard.FileType(si.Mode())+", not a regular file", nil)
		}
		n, err := copyRegular(path+s, filepath.Join(dir, copyName+s), si)
		if err != nil {
			return nil, err
		}
		copied = append(copied, Copied{Name: filepath.Base(path + s), Bytes: n})
	}
	if after, err := os.Lstat(path); err != nil || after.Size() != fi.Size() || !after.ModTime().Equal(fi.ModTime()) {
		return nil, unreadable(path, "changed while it was copied: a process is writing it (copy it while the simulator or device is idle)", err)
	}
	return copied, nil
}

// copyRegular copies src, which Lstat described as want, to dst. The file
// opened must be the one Lstat saw: a symlink or FIFO swapped in between is
// refused.
func copyRegular(src, dst string, want fs.FileInfo) (int64, error) {
	in, err := os.Open(src)
	if err != nil {
		return 0, unreadable(src, "cannot read: "+err.Error(), err)
	}
	defer in.Close()
	got, err := in.Stat()
	if err != nil || !os.SameFile(got, want) {
		return 0, unreadable(src, "refused: replaced while it was being opened", err)
	}
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return 0, fmt.Errorf("doctor %s: copy: %w", src, err)
	}
	n, err := io.Copy(out, in)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return 0, unreadable(src, "cannot copy: "+err.Error(), err)
	}
	return n, nil
}

// header is what doctor needs of SQLite's 100-byte database header
// (https://www.sqlite.org/fileformat.html §1.3).
type header struct {
	pageSize int64 // bytes
	pages    int64 // the in-header database size; 0 when not valid
}

const headerSize = 100

var sqliteMagic = []byte("SQLite format 3\x00")

// parseHeader reads a database header. It returns an error text for people
// when b is no SQLite header.
func parseHeader(b []byte) (header, string) {
	if len(b) < len(sqliteMagic) || !bytes.Equal(b[:len(sqliteMagic)], sqliteMagic) {
		return header{}, `not an SQLite database (it does not start with "SQLite format 3")`
	}
	if len(b) < headerSize {
		return header{}, fmt.Sprintf("truncated past the header: %d bytes, an SQLite header alone is %d", len(b), headerSize)
	}
	ps := int64(binary.BigEndian.Uint16(b[16:18]))
	if ps == 1 {
		ps = 65536
	}
	if ps < 512 || ps > 65536 || ps&(ps-1) != 0 {
		return header{}, fmt.Sprintf("not a valid SQLite database: page size %d in the header", ps)
	}
	h := header{pageSize: ps}
	// The in-header size is valid only when the change counter (offset 24)
	// equals version-valid-for (offset 92); otherwise SQLite uses the
	// file's size.
	if n := binary.BigEndian.Uint32(b[28:32]); n != 0 && bytes.Equal(b[24:28], b[92:96]) {
		h.pages = int64(n)
	}
	return h, ""
}

// checkHeader refuses an empty file, one that is not SQLite and one cut
// short of the size its header states. SQLite itself refuses the last with
// SQLITE_CORRUPT before any table can be read, so it is unreadable rather
// than a finding. A -journal or -wal can legitimately change the size, so
// the size check waits for SQLite then (see explainSchemaError).
func checkHeader(path, copyPath string, size int64) error {
	if size == 0 {
		return unreadable(path, "empty file (0 bytes): not a CallDirectory.db", nil)
	}
	f, err := os.Open(copyPath)
	if err != nil {
		return fmt.Errorf("doctor %s: %w", path, err)
	}
	defer f.Close()
	b := make([]byte, headerSize)
	n, _ := io.ReadFull(f, b)
	h, bad := parseHeader(b[:n])
	if bad != "" {
		return unreadable(path, bad, nil)
	}
	if msg := truncation(h, size); msg != "" {
		if !hasSibling(path) {
			return unreadable(path, msg, nil)
		}
	}
	return nil
}

// truncation words a file shorter than its header says, or returns "".
func truncation(h header, size int64) string {
	if h.pages == 0 || h.pages*h.pageSize <= size {
		return ""
	}
	return fmt.Sprintf("truncated: the header counts %d pages of %d bytes (%d bytes), the file holds %d",
		h.pages, h.pageSize, h.pages*h.pageSize, size)
}

func hasSibling(path string) bool {
	for _, s := range siblings {
		if _, err := os.Lstat(path + s); err == nil {
			return true
		}
	}
	return false
}

func escapePath(path string) string { return (&url.URL{Path: path}).EscapedPath() }
