package livelookup

import (
	"context"
	"fmt"

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

// CheckNational reads build b again and fails with a *DuplicateKeyError if
// two of its numbers share a national form, with a KeySet in tmp.
func CheckNational(ctx context.Context, b *Build, tmp string) error {
	ks, err := NewKeySet(tmp, b.Entries())
	if err != nil {
		return err
	}
	defer ks.Close()
	err = b.Each(ctx, func(n int64, _ string) error {
		nat, ok := e164.National(n)
		if !ok {
			return nil
		}
		if !ks.Add([]byte(nat), uint64(n)) {
			return fmt.Errorf("%s: national form %q is not a key of at most %d digits", e164.Format(n), nat, maxPackedDigits)
		}
		return ks.err
	})
	if err != nil {
		return err
	}
	dups, err := ks.Duplicates(ctx, 1)
	if err != nil || len(dups) == 0 {
		return err
	}
	return &DuplicateKeyError{Key: dups[0].Key, First: int64(dups[0].First), Other: int64(dups[0].Other)}
}
