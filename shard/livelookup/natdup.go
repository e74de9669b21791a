package livelookup

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/calldir/calldir/e164"
)

// Two numbers never share an E.164 key, and within one country calling
// code they never share a national form (a national dial string reaches
// one line). Across codes they can: DuplicateKeyError.
//
// An export with national keys checks them in the pass that writes its
// rows (natKeys), in bounded memory. Each key has a class, its length and
// first two digits ("06" and 10 digits for French and Dutch mobiles), and
// only a class that two calling codes write can hold a shared key. So the
// export notes the codes of each class, and files in a KeySet only the
// keys of classes already shared when they come; the keys before that are
// held in memory (natBufKeys of them), and past those the build is read
// again, up to the number that made the last class shared, for the keys of
// shared classes. Codes that write disjoint classes (British "07…" of 11
// digits and American ten-digit keys, say) file nothing, sort nothing and
// read nothing again; codes that mix early are checked in one pass.

// MaxCollisionsShown bounds the shared national keys a refusal names; it
// counts the others.
const MaxCollisionsShown = 20

// natBufKeys bounds the keys of classes not (yet) shared held in memory
// (16 bytes each: 1 MiB), in case their class becomes shared later.
const natBufKeys = 1 << 16

// NationalCollision is a national key that numbers of two or more
// calling codes share: the numbers, ascending (the first maxCollisionTags
// of them, Count in all).
type NationalCollision struct {
	Key     string
	Numbers []int64
	Count   int
}

// DuplicateKeyError is the national keys two or more numbers of one
// database share: PIRProcessDatabase would have two rows with one
// keyword, and a phone asking for it one answer for two callers. The
// export is refused.
type DuplicateKeyError struct {
	File       string              // the database, such as "block.binpb"
	Collisions []NationalCollision // the first MaxCollisionsShown, by key
	Total      int64               // shared keys in all
}

// Error is one line for one shared key; for more, a line that counts
// them, then one line for each key shown and one for the rest.
func (e *DuplicateKeyError) Error() string {
	const why = "one key cannot answer for two numbers; export their countries separately, or E.164 keys only"
	if e.Total == 1 && len(e.Collisions) == 1 {
		return fmt.Sprintf("%s: %s: %s", e.File, e.Collisions[0], why)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d national keys are each shared by two or more numbers: %s", e.File, e.Total, why)
	for _, c := range e.Collisions {
		fmt.Fprintf(&b, "\n  %s", c)
	}
	if more := e.Total - int64(len(e.Collisions)); more > 0 {
		fmt.Fprintf(&b, "\n  … and %d more", more)
	}
	return b.String()
}

// String is "+31612345678 and +33612345678 have the same national form
// "0612345678"".
func (c NationalCollision) String() string {
	names := make([]string, len(c.Numbers))
	for i, n := range c.Numbers {
		names[i] = e164.Format(n)
	}
	if more := c.Count - len(c.Numbers); more > 0 {
		names = append(names, fmt.Sprintf("%d more", more))
	}
	list := names[len(names)-1]
	if len(names) > 1 {
		list = strings.Join(names[:len(names)-1], ", ") + " and " + list
	}
	return fmt.Sprintf("%s have the same national form %q", list, c.Key)
}

// natKeys collects the national keys of one database as its rows are
// written, in ascending numeric order, and checks them when the last is
// (finish).
type natKeys struct {
	tmp      string // where the KeySet's files go
	expected int64  // numbers in the build
	ks       *KeySet
	// classCC is, by key class (keyClass), the first calling code seen
	// with a key of that class; sharedSince is, for a class of two or
	// more, the number that made it so (its keys from that number on are
	// in ks), 0 for the others; lastShared is the largest.
	classCC     [keyClasses]int16
	sharedSince [keyClasses]int64
	lastShared  int64
	// buf holds the packed keys and numbers of the keys not filed, in
	// pairs; nil once over natBufKeys keys (over).
	buf  []uint64
	over bool
}

// keyClasses counts the classes of national keys: length 1 to
// maxPackedDigits, first two digits (the second 0 for a one-digit key).
const keyClasses = (maxPackedDigits + 1) * 100

// keyClass is the class of a key of digits (1 to maxPackedDigits).
func keyClass(key []byte) int {
	c := len(key)*100 + int(key[0]-'0')*10
	if len(key) > 1 {
		c += int(key[1] - '0')
	}
	return c
}

// packedClass is keyClass of a key packKey packed (no '+').
func packedClass(p uint64) int {
	l, v := int(p&31), p>>6
	if l == 1 {
		return 100 + int(v)*10
	}
	return l*100 + int(v/pow10[l-2])
}

var pow10 = func() (p [maxPackedDigits + 1]uint64) {
	p[0] = 1
	for i := 1; i < len(p); i++ {
		p[i] = p[i-1] * 10
	}
	return p
}()

// add notes the national key of number n, of calling code cc.
func (nk *natKeys) add(key []byte, n int64, cc int) error {
	if len(key) == 0 || len(key) > maxPackedDigits || key[0]-'0' > 9 || (len(key) > 1 && key[1]-'0' > 9) {
		return tooLongKey(n, key)
	}
	class := keyClass(key)
	switch first := nk.classCC[class]; {
	case first == 0:
		nk.classCC[class] = int16(cc)
	case first != int16(cc) && nk.sharedSince[class] == 0:
		nk.sharedSince[class], nk.lastShared = n, n
	}
	if nk.sharedSince[class] != 0 {
		if nk.ks == nil {
			var err error
			if nk.ks, err = NewKeySet(nk.tmp, nk.expected); err != nil {
				return err
			}
		}
		if !nk.ks.Add(key, uint64(n)) {
			return tooLongKey(n, key)
		}
		return nk.ks.Err()
	}
	switch {
	case nk.over:
	case len(nk.buf) >= 2*natBufKeys:
		nk.buf, nk.over = nil, true
	default:
		p, ok := packKey(key)
		if !ok {
			return tooLongKey(n, key)
		}
		nk.buf = append(nk.buf, p, uint64(n))
	}
	return nil
}

func tooLongKey(n int64, key []byte) error {
	return fmt.Errorf("%s: national form %q is not a key of 1 to %d digits", e164.Format(n), key, maxPackedDigits)
}

// errDone stops the second read of a build past natKeys.lastShared.
var errDone = errors.New("livelookup: read up to the last class shared")

// finish checks the keys of build b, database file, once they are all
// added: a *DuplicateKeyError when some are shared. It reads b again only
// when keys of a shared class came before it was, and were more than
// memory held.
func (nk *natKeys) finish(ctx context.Context, b *Build, file string) error {
	if nk == nil || nk.ks == nil {
		return nil // no class of two calling codes: nothing to share
	}
	// The keys of the shared classes that came before they were: from
	// memory, or from a second read of the build.
	if !nk.over {
		for i := 0; i < len(nk.buf); i += 2 {
			p, n := nk.buf[i], int64(nk.buf[i+1])
			if since := nk.sharedSince[packedClass(p)]; since != 0 && n < since {
				nk.ks.addPacked(p, uint64(n))
			}
		}
		nk.buf = nil
	} else {
		var key []byte
		err := b.Each(ctx, func(n int64, _ string) error {
			if n >= nk.lastShared {
				return errDone
			}
			var ok bool
			if key, _, ok = e164.AppendNational(key[:0], n); !ok {
				return nil
			}
			if since := nk.sharedSince[keyClass(key)]; since != 0 && n < since {
				nk.ks.Add(key, uint64(n)) // (add checked the key's digits)
			}
			return nk.ks.Err()
		})
		if err != nil && !errors.Is(err, errDone) {
			return err
		}
	}
	cs, total, err := nk.ks.Collisions(ctx, MaxCollisionsShown)
	if err != nil || total == 0 {
		return err
	}
	e := &DuplicateKeyError{File: file, Total: total}
	for _, c := range cs {
		nc := NationalCollision{Key: c.Key, Count: c.Count}
		for _, t := range c.Tags {
			nc.Numbers = append(nc.Numbers, int64(t))
		}
		e.Collisions = append(e.Collisions, nc)
	}
	return e
}

// close removes the KeySet's files.
func (nk *natKeys) close() {
	if nk != nil && nk.ks != nil {
		nk.ks.Close()
		nk.ks = nil
	}
}
