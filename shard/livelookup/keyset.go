package livelookup

import (
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"

	"github.com/calldir/calldir/shard/outfs"
)

// A KeySet finds keys given more than once among more keys than memory
// should hold: each key (packed into 8 bytes, with an 8-byte tag such as
// its number or row) goes by hash to one of several files in a temporary
// directory, of at most about keySetPartRows records each. Collisions then
// reads each file on its own, in one pass over the files: its keys alone
// (a 16-byte record gives 8 bytes of key, and 8 of scratch to sort them:
// 16 MiB for a full file), radix-sorted and scanned for runs, every run
// counted and the first ones in key order kept; only a file that holds a
// key kept is read a second time, for the tags of those keys. A key is in
// one file only, so each file's findings are final.
type KeySet struct {
	bufs [][]byte // each file's records not yet written, up to keySetBufBytes
	fs   []*os.File
	err  error
}

// keySetBufBytes is the records of one file held before they are written
// (32 KiB a file: 640 KiB for 20M keys).
const keySetBufBytes = 32 << 10

// keySetPartRows bounds the records of one file, read at once (8 bytes a
// key and as much scratch to sort it: 16 MiB).
const keySetPartRows = 1 << 20

// maxCollisionTags bounds the tags kept of one key (Collision.Tags); the
// count goes on. A national key is shared by at most one number of each
// country calling code, so an export's keys stay under it in practice.
const maxCollisionTags = 16

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
	n := len(key)
	if n == 0 || n > maxPackedDigits {
		return 0, false
	}
	// Eight digits at a time from the end, the rest one by one.
	var v, scale uint64 = 0, 1
	for ; n >= 8; n -= 8 {
		d, ok := parse8(binary.LittleEndian.Uint64(key[n-8 : n]))
		if !ok {
			return 0, false
		}
		v += d * scale
		scale *= 1e8
	}
	var top uint64
	for _, c := range key[:n] {
		d := uint64(c - '0') // a byte below '0' wraps above 9
		if d > 9 {
			return 0, false
		}
		top = top*10 + d
	}
	v += top * scale
	return v<<6 | plus<<5 | uint64(len(key)), true
}

// parse8 is the value of 8 ASCII digits, the first in the lowest byte of
// w; ok is false unless every byte is a digit (its high nibble 3, and its
// low nibble plus 6 still below 16).
func parse8(w uint64) (uint64, bool) {
	const threes, sixes, high = 0x3030303030303030, 0x0606060606060606, 0xf0f0f0f0f0f0f0f0
	if w&high != threes || (w+sixes)&high != threes {
		return 0, false
	}
	w -= threes
	w = (w*10 + w>>8) & 0x00ff00ff00ff00ff
	w = (w*100 + w>>16) & 0x0000ffff0000ffff
	return (w*10000 + w>>32) & 0xffffffff, true
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
	ks := &KeySet{bufs: make([][]byte, parts), fs: make([]*os.File, parts)}
	for i := range ks.fs {
		f, err := outfs.CreateScratch(dir, ".keys-"+outfs.Self()+"-*")
		if err != nil {
			ks.Close()
			return nil, err
		}
		ks.fs[i], ks.bufs[i] = f, make([]byte, 0, keySetBufBytes)
	}
	return ks, nil
}

// Add adds a key with its tag. It is false for a key packKey cannot hold;
// a write error is kept and returned by Err and Collisions.
func (ks *KeySet) Add(key []byte, tag uint64) bool {
	p, ok := packKey(key)
	if !ok {
		return false
	}
	ks.addPacked(p, tag)
	return true
}

func (ks *KeySet) addPacked(p, tag uint64) {
	i := (p * 0x9E3779B97F4A7C15 >> 32) % uint64(len(ks.bufs))
	b := binary.LittleEndian.AppendUint64(binary.LittleEndian.AppendUint64(ks.bufs[i], p), tag)
	if len(b) == cap(b) {
		b = ks.flush(int(i), b)
	}
	ks.bufs[i] = b
}

// flush writes file i's records b and returns b emptied.
func (ks *KeySet) flush(i int, b []byte) []byte {
	if _, err := ks.fs[i].Write(b); err != nil && ks.err == nil {
		ks.err = err
	}
	return b[:0]
}

// Err is the first write error.
func (ks *KeySet) Err() error { return ks.err }

// Collision is a key given more than once: the tags of its additions,
// ascending (at most maxCollisionTags of them), and how many there were.
type Collision struct {
	Key   string
	Tags  []uint64
	Count int
}

// Collisions returns the keys given more than once, the first max of them
// in key order, and how many there are in all.
func (ks *KeySet) Collisions(ctx context.Context, max int) ([]Collision, int64, error) {
	var shown []shownKey // sorted by key, at most max
	var total int64
	var keys, scratch []uint64
	for i := range ks.fs {
		ks.bufs[i] = ks.flush(i, ks.bufs[i])
		if err := cmp.Or(ks.err, ctx.Err()); err != nil {
			return nil, 0, err
		}
		var err error
		if keys, err = readKeys(ks.fs[i], keys[:0]); err != nil {
			return nil, 0, err
		}
		scratch = radixSort(keys, scratch)
		mine := 0 // keys of this file now among shown
		for j := 0; j < len(keys); {
			k := j + 1
			for k < len(keys) && keys[k] == keys[j] {
				k++
			}
			if k-j > 1 {
				total++
				c := shownKey{Collision: Collision{Key: unpackKey(keys[j]), Count: k - j}, packed: keys[j], part: i}
				if insertShown(&shown, c, max) {
					mine++
				}
			}
			j = k
		}
		if mine > 0 {
			if err := collectTags(ks.fs[i], shown, i); err != nil {
				return nil, 0, err
			}
		}
	}
	out := make([]Collision, len(shown))
	for i, s := range shown {
		slices.Sort(s.Tags)
		out[i] = s.Collision
	}
	return out, total, nil
}

// shownKey is a collision to show, with its packed key and its file.
type shownKey struct {
	Collision
	packed uint64
	part   int
}

// insertShown puts c in its place in shown, which keeps the max smallest
// keys; it is false when c is not among them.
func insertShown(shown *[]shownKey, c shownKey, max int) bool {
	s := *shown
	at, _ := slices.BinarySearchFunc(s, c.Key, func(x shownKey, k string) int { return cmp.Compare(x.Key, k) })
	if at >= max {
		return false
	}
	s = slices.Insert(s, at, c)
	if len(s) > max {
		s = s[:max]
	}
	*shown = s
	return true
}

// readKeys appends the keys of one file's records to keys.
func readKeys(f *os.File, keys []uint64) ([]uint64, error) {
	if fi, err := f.Stat(); err == nil {
		keys = slices.Grow(keys, int(fi.Size()/16))
	}
	err := eachBlock(f, func(b []byte) {
		for ; len(b) >= 16; b = b[16:] {
			keys = append(keys, binary.LittleEndian.Uint64(b))
		}
	})
	return keys, err
}

// collectTags reads file part again and gives each key of shown that is
// in it the tags of its records.
func collectTags(f *os.File, shown []shownKey, part int) error {
	want := map[uint64]*shownKey{}
	for i := range shown {
		if shown[i].part == part {
			want[shown[i].packed] = &shown[i]
		}
	}
	return eachBlock(f, func(b []byte) {
		for ; len(b) >= 16; b = b[16:] {
			if s := want[binary.LittleEndian.Uint64(b)]; s != nil && len(s.Tags) < maxCollisionTags {
				s.Tags = append(s.Tags, binary.LittleEndian.Uint64(b[8:]))
			}
		}
	})
}

// eachBlock calls fn with the records of a file, read from its start a
// block of whole records at a time.
func eachBlock(f *os.File, fn func(records []byte)) error {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	block := make([]byte, 64<<10)
	for {
		n, err := io.ReadFull(f, block)
		if n%16 != 0 && err == nil {
			err = io.ErrUnexpectedEOF
		}
		fn(block[:n-n%16])
		switch {
		case errors.Is(err, io.EOF):
			return nil
		case errors.Is(err, io.ErrUnexpectedEOF):
			if n%16 != 0 {
				return fmt.Errorf("%s: %d bytes past the last whole record", f.Name(), n%16)
			}
			return nil
		case err != nil:
			return err
		}
	}
}

// radixBits is the width of one radix sort digit: 6 digits of 11 bits
// cover 64, and a packed key of up to 12 digits (under 46 bits) takes 5.
const radixBits = 11

// radixSort sorts keys in place, least significant digit (radixBits)
// first, skipping the digits every key shares; scratch (grown to
// len(keys)) is returned for the next call.
func radixSort(keys, scratch []uint64) []uint64 {
	if len(keys) < 2 {
		return scratch
	}
	const digits = (64 + radixBits - 1) / radixBits
	const mask = 1<<radixBits - 1
	counts := make([][1 << radixBits]int, digits)
	for _, k := range keys {
		for d := range digits {
			counts[d][k>>(d*radixBits)&mask]++
		}
	}
	if cap(scratch) < len(keys) {
		scratch = make([]uint64, len(keys))
	}
	scratch = scratch[:len(keys)]
	src, dst := keys, scratch
	for d := range digits {
		c := &counts[d]
		shift := uint(d * radixBits)
		if c[keys[0]>>shift&mask] == len(keys) {
			continue // every key has this digit
		}
		sum := 0
		for v, n := range c {
			c[v] = sum
			sum += n
		}
		for _, k := range src {
			v := k >> shift & mask
			dst[c[v]] = k
			c[v]++
		}
		src, dst = dst, src
	}
	if &src[0] != &keys[0] {
		copy(keys, src)
	}
	return scratch
}

// Dup is a key given twice, with the tags of two of its additions.
type Dup struct {
	Key          string
	First, Other uint64
}

// Duplicates returns up to max keys given more than once, in key order,
// each with its two smallest tags.
func (ks *KeySet) Duplicates(ctx context.Context, max int) ([]Dup, error) {
	cs, _, err := ks.Collisions(ctx, max)
	if err != nil {
		return nil, err
	}
	dups := make([]Dup, len(cs))
	for i, c := range cs {
		dups[i] = Dup{Key: c.Key, First: c.Tags[0], Other: c.Tags[1]}
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
