package livelookup

import (
	"bufio"
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"github.com/calldir/calldir/shard/outfs"
	"io"
	"os"
	"slices"
	"strconv"
)

// A KeySet finds keys given twice among more keys than memory should
// hold: each key (packed into 8 bytes, with an 8-byte tag such as its
// number or row) goes by hash to one of several files in a temporary
// directory, of at most about keySetPartRows records each; Duplicates
// then sorts each file in memory on its own and scans it.
type KeySet struct {
	ws  []*bufio.Writer
	fs  []*os.File
	err error
}

// keySetPartRows bounds the records sorted at once (16 bytes each: 16 MiB).
const keySetPartRows = 1 << 20

// maxPackedDigits is the longest key packKey holds: 17 digits fit 57 bits
// beside a 6-bit length and '+' flag. E.164 numbers have at most 15
// digits, and a national form (the number less its country code, plus a
// trunk prefix) is shorter than 17.
const maxPackedDigits = 17

// packKey packs a key of digits, with or without a leading '+', into a
// uint64 (value << 6 | plus << 5 | length), so that "0301234", "301234"
// and "+301234" all differ. ok is false for anything else.
func packKey(key []byte) (uint64, bool) {
	var plus uint64
	if len(key) > 0 && key[0] == '+' {
		plus, key = 1, key[1:]
	}
	if len(key) == 0 || len(key) > maxPackedDigits {
		return 0, false
	}
	var v uint64
	for _, c := range key {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + uint64(c-'0')
	}
	return v<<6 | plus<<5 | uint64(len(key)), true
}

func unpackKey(p uint64) string {
	s := strconv.FormatUint(p>>6, 10)
	for n := int(p & 31); len(s) < n; {
		s = "0" + s
	}
	if p&32 != 0 {
		s = "+" + s
	}
	return s
}

// NewKeySet makes a set for about expected keys, its files in dir.
func NewKeySet(dir string, expected int64) (*KeySet, error) {
	parts := int(expected/keySetPartRows) + 1
	ks := &KeySet{ws: make([]*bufio.Writer, parts), fs: make([]*os.File, parts)}
	for i := range ks.fs {
		f, err := outfs.CreateScratch(dir, ".keys-"+outfs.Self()+"-*")
		if err != nil {
			ks.Close()
			return nil, err
		}
		ks.fs[i], ks.ws[i] = f, bufio.NewWriterSize(f, 32<<10)
	}
	return ks, nil
}

// Add adds a key with its tag. It is false for a key packKey cannot hold;
// a write error is kept and returned by Err and Duplicates.
func (ks *KeySet) Add(key []byte, tag uint64) bool {
	p, ok := packKey(key)
	if !ok {
		return false
	}
	var rec [16]byte
	binary.LittleEndian.PutUint64(rec[:8], p)
	binary.LittleEndian.PutUint64(rec[8:], tag)
	if _, err := ks.ws[(p*0x9E3779B97F4A7C15>>32)%uint64(len(ks.ws))].Write(rec[:]); err != nil && ks.err == nil {
		ks.err = err
	}
	return true
}

// Err is the first write error.
func (ks *KeySet) Err() error { return ks.err }

// Dup is a key given twice, with the tags of two of its additions.
type Dup struct {
	Key          string
	First, Other uint64
}

// Duplicates returns up to max keys given more than once, by key within
// each file.
func (ks *KeySet) Duplicates(ctx context.Context, max int) ([]Dup, error) {
	var dups []Dup
	for i, w := range ks.ws {
		if err := cmp.Or(ks.err, w.Flush(), ctx.Err()); err != nil {
			return nil, err
		}
		d, err := dupsIn(ks.fs[i], max-len(dups))
		if err != nil {
			return nil, err
		}
		if dups = append(dups, d...); len(dups) >= max {
			break
		}
	}
	return dups, nil
}

// dupsIn sorts one file's records and returns up to max keys given twice.
func dupsIn(f *os.File, max int) ([]Dup, error) {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	type rec struct{ key, tag uint64 }
	var rs []rec
	br := bufio.NewReaderSize(f, 32<<10)
	var b [16]byte
	for {
		if _, err := io.ReadFull(br, b[:]); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return nil, err
		}
		rs = append(rs, rec{binary.LittleEndian.Uint64(b[:8]), binary.LittleEndian.Uint64(b[8:])})
	}
	slices.SortFunc(rs, func(a, b rec) int { return cmp.Or(cmp.Compare(a.key, b.key), cmp.Compare(a.tag, b.tag)) })
	var dups []Dup
	for i := 1; i < len(rs) && len(dups) < max; i++ {
		if rs[i].key == rs[i-1].key && (i == 1 || rs[i-2].key != rs[i].key) {
			dups = append(dups, Dup{Key: unpackKey(rs[i].key), First: rs[i-1].tag, Other: rs[i].tag})
		}
	}
	return dups, nil
}

// Close removes the files.
func (ks *KeySet) Close() {
	for _, f := range ks.fs {
		if f != nil {
			f.Close()
			outfs.RemoveScratch(f.Name())
		}
	}
}
