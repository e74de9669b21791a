package livelookup

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

// FuzzDecode feeds arbitrary bytes to the KeywordDatabase reader and the
// value checks: no panic, no allocation beyond MaxRowBytes per row, every
// failure a *DecodeError, and every row that decodes, written again by
// AppendRow, reads back as the same key and value.
func FuzzDecode(f *testing.F) {
	f.Add(AppendRow(nil, []byte("+14155550123"), []byte{1}))
	f.Add(AppendRow(AppendRow(nil, []byte("07700900123"), AppendIdentity(nil, Identity{Name: "Démarchage", CacheExpiryMinutes: 1440, Category: CategoryBusiness})),
		[]byte("+447700900123"), AppendIdentity(nil, Identity{Name: "A", Icon: []byte("heic"), Category: CategoryPerson})))
	f.Add([]byte{0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, b []byte) {
		rd := NewReader(bytes.NewReader(b))
		for {
			row, err := rd.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				var de *DecodeError
				if !errors.As(err, &de) {
					t.Fatalf("%v: not a DecodeError", err)
				}
				return
			}
			ParseKey(row.Key)
			for _, kind := range []string{"block", "identity"} {
				id, err := CheckValue(kind, row.Value)
				if err == nil && kind == "identity" && !bytes.Equal(AppendIdentity(nil, id), row.Value) {
					// Valid but not canonical (fields out of order, zero
					// values written): decoding must still agree with itself.
					if id2, err := DecodeIdentity(AppendIdentity(nil, id)); err != nil || id2.Name != id.Name || id2.Category != id.Category {
						t.Fatalf("re-encoding %+v: %+v, %v", id, id2, err)
					}
				}
			}
			back, err := NewReader(bytes.NewReader(AppendRow(nil, row.Key, row.Value))).Next()
			if err != nil || !bytes.Equal(back.Key, row.Key) || !bytes.Equal(back.Value, row.Value) {
				t.Fatalf("row %q=%x written again reads %q=%x, %v", row.Key, row.Value, back.Key, back.Value, err)
			}
		}
	})
}
