package livelookup

import (
	"bufio"
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"

	"github.com/calldir/calldir/e164"
)

// Two numbers never share an E.164 key, and within one country calling
// code they never share a national form (a national dial string reaches
// one line). Across codes they can: DuplicateKeyError. An export whose
// national keys come from two or more codes is checked by CheckNational
// after it is written, with bounded memory.

// DuplicateKeyError is a national key two numbers of one database share:
// PIRProcessDatabase would have two rows with one keyword, and a phone
// asking for it one answer for two callers. The export is refused.
type DuplicateKeyError struct {
	Key          string
	First, Other int64
}

func (e *DuplicateKeyError) Error() string {
	return fmt.Sprintf("%s and %s have the same national form %q: one key cannot answer for two numbers; export their countries separately, or E.164 keys only",
		e164.Format(e.First), e164.Format(e.Other), e.Key)
}

// nationalPartRows bounds the keys sorted in memory at once (16 bytes
// each: 16 MiB).
const nationalPartRows = 1 << 20

// maxPackedDigits is the longest national key packKey holds: 17 digits
// fit 57 bits beside a 5-bit length. E.164 numbers have at most 15 digits,
// so a national form (the number less its country code, plus a trunk
// prefix) is shorter.
const maxPackedDigits = 17

// packKey packs a key of digits into a uint64 (value << 5 | length), so
// that "0301234" and "301234" differ.
func packKey(key string) (uint64, bool) {
	if len(key) == 0 || len(key) > maxPackedDigits {
		return 0, false
	}
	var v uint64
	for i := 0; i < len(key); i++ {
		v = v*10 + uint64(key[i]-'0')
	}
	return v<<5 | uint64(len(key)), true
}

func unpackKey(p uint64) string {
	n := int(p & 31)
	s := fmt.Sprintf("%0*d", n, p>>5)
	return s
}

// CheckNational reads build b again and fails with a *DuplicateKeyError if
// two of its numbers share a national form. The keys are spread by hash
// over files in tmp (16 bytes a key: packed key and number) of at most
// about nationalPartRows keys each; each file is then sorted in memory
// and scanned. The files are removed.
func CheckNational(ctx context.Context, b *Build, tmp string) (err error) {
	parts := int(b.Entries()/nationalPartRows) + 1
	ws := make([]*bufio.Writer, parts)
	fs := make([]*os.File, parts)
	defer func() {
		for _, f := range fs {
			if f != nil {
				f.Close()
				os.Remove(f.Name())
			}
		}
	}()
	for i := range fs {
		if fs[i], err = os.CreateTemp(tmp, ".national-*"); err != nil {
			return err
		}
		ws[i] = bufio.NewWriterSize(fs[i], 32<<10)
	}
	var rec [16]byte
	err = b.Each(ctx, func(n int64, _ string) error {
		nat, ok := e164.National(n)
		if !ok {
			return nil
		}
		p, ok := packKey(nat)
		if !ok {
			return fmt.Errorf("%s: national form %q longer than %d digits", e164.Format(n), nat, maxPackedDigits)
		}
		binary.LittleEndian.PutUint64(rec[:8], p)
		binary.LittleEndian.PutUint64(rec[8:], uint64(n))
		_, err := ws[(p*0x9E3779B97F4A7C15>>32)%uint64(parts)].Write(rec[:])
		return err
	})
	if err != nil {
		return err
	}
	for i, w := range ws {
		if err := w.Flush(); err != nil {
			return err
		}
		if err := checkPart(ctx, fs[i]); err != nil {
			return err
		}
	}
	return nil
}

// checkPart sorts one file's keys and fails on the first key given twice.
func checkPart(ctx context.Context, f *os.File) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	type keyed struct{ key, n uint64 }
	var ks []keyed
	br := bufio.NewReaderSize(f, 32<<10)
	var rec [16]byte
	for {
		if _, err := io.ReadFull(br, rec[:]); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return err
		}
		ks = append(ks, keyed{binary.LittleEndian.Uint64(rec[:8]), binary.LittleEndian.Uint64(rec[8:])})
	}
	slices.SortFunc(ks, func(a, b keyed) int { return cmp.Or(cmp.Compare(a.key, b.key), cmp.Compare(a.n, b.n)) })
	for i := 1; i < len(ks); i++ {
		if ks[i].key == ks[i-1].key {
			return &DuplicateKeyError{Key: unpackKey(ks[i].key), First: int64(ks[i-1].n), Other: int64(ks[i].n)}
		}
	}
	return nil
}
