package livelookup

import (
	"bytes"
	"errors"
	"io"
	"strconv"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
)

func TestRowsRoundTrip(t *testing.T) {
	ids := []Identity{
		{Name: "Démarchage", CacheExpiryMinutes: 1440, Category: CategoryBusiness},
		{Name: "Ана", Category: CategoryPerson},
		{Name: "x", Icon: []byte{1, 2, 3}, CacheExpiryMinutes: 5, Category: CategoryBusiness},
		{Name: strings.Repeat("é", 30000), Category: CategoryPerson}, // a 3-byte length prefix
	}
	var file []byte
	for i, id := range ids {
		file = AppendRow(file, []byte("+1415555012"+string(rune('0'+i))), AppendIdentity(nil, id))
	}
	file = AppendRow(file, []byte("07700900123"), []byte{BlockValue})
	rd := NewReader(bytes.NewReader(file))
	for i, want := range ids {
		row, err := rd.Next()
		if err != nil {
			t.Fatal(err)
		}
		if row.Index != int64(i) || string(row.Key) != "+1415555012"+string(rune('0'+i)) {
			t.Fatalf("row %d: index %d key %q", i, row.Index, row.Key)
		}
		got, err := CheckValue("identity", row.Value)
		if err != nil {
			t.Fatal(err)
		}
		if got.Name != want.Name || got.Category != want.Category || got.CacheExpiryMinutes != want.CacheExpiryMinutes || !bytes.Equal(got.Icon, want.Icon) {
			t.Fatalf("row %d: %+v, want %+v", i, got, want)
		}
	}
	row, err := rd.Next()
	if err != nil || string(row.Key) != "07700900123" || !bytes.Equal(row.Value, []byte{1}) {
		t.Fatalf("last row %q %v: %v", row.Key, row.Value, err)
	}
	if _, err := rd.Next(); err != io.EOF {
		t.Fatalf("after the last row: %v, want EOF", err)
	}
}

// Each damage gives a *DecodeError naming the row, never a panic or a
// huge allocation.
func TestReaderRefusesDamage(t *testing.T) {
	good := AppendRow(nil, []byte("+14155550123"), []byte{1})
	huge := protowire.AppendVarint([]byte{0x0a}, 1<<40)
	cases := map[string][]byte{
		"truncated row":   good[:len(good)-1],
		"wrong field":     append([]byte{0x12}, good[1:]...),
		"varint overflow": append([]byte{0x0a}, bytes.Repeat([]byte{0xff}, 11)...),
		"huge length":     huge,
		"repeated keyword": func() []byte {
			body := protowire.AppendBytes(protowire.AppendTag(nil, 1, protowire.BytesType), []byte("+1"))
			body = append(body, body...)
			return protowire.AppendBytes(protowire.AppendTag(nil, 1, protowire.BytesType), body)
		}(),
	}
	cases["unknown row field"] = protowire.AppendBytes(protowire.AppendTag(nil, 1, protowire.BytesType), protowire.AppendVarint(protowire.AppendTag(nil, 3, protowire.VarintType), 1))
	for name, b := range cases {
		rd := NewReader(bytes.NewReader(append(append([]byte(nil), good...), b...)))
		if _, err := rd.Next(); err != nil {
			t.Fatalf("%s: first row: %v", name, err)
		}
		_, err := rd.Next()
		var de *DecodeError
		if !errors.As(err, &de) || de.Index != 1 || de.Offset != int64(len(good)) {
			t.Errorf("%s: %v, want a DecodeError at row 1, byte %d", name, err, len(good))
		}
	}
}

func TestCheckValue(t *testing.T) {
	ok := AppendIdentity(nil, Identity{Name: "A", Category: CategoryPerson})
	bad := map[string]struct {
		kind string
		v    []byte
	}{
		"block zero":        {"block", []byte{0}},
		"block two bytes":   {"block", []byte{1, 1}},
		"no name":           {"identity", AppendIdentity(nil, Identity{Category: CategoryPerson})},
		"unspecified":       {"identity", AppendIdentity(nil, Identity{Name: "A"})},
		"category 3":        {"identity", append(append([]byte(nil), ok...), 0x20, 3)},
		"unknown field":     {"identity", append(append([]byte(nil), ok...), 0x28, 1)},
		"repeated name":     {"identity", append(append([]byte(nil), ok...), ok[:3]...)},
		"invalid UTF-8":     {"identity", []byte{0x0a, 1, 0xff, 0x20, 1}},
		"icon not HEIC":     {"identity", append(append([]byte(nil), ok...), 0x12, 2, 0x08, 2)},
		"over 65,535 bytes": {"identity", AppendIdentity(nil, Identity{Name: strings.Repeat("a", MaxIdentityBytes), Category: CategoryPerson})},
	}
	for name, c := range bad {
		if _, err := CheckValue(c.kind, c.v); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := CheckValue("identity", ok); err != nil {
		t.Error(err)
	}
}

func TestParseKey(t *testing.T) {
	good := map[string]Form{"+14155550123": FormE164, "07700900123": FormNational, "4155550123": FormNational, "+1": FormE164}
	for k, f := range good {
		if got, _, err := ParseKey([]byte(k)); err != nil || got != f {
			t.Errorf("%q: %s, %v; want %s", k, got, err, f)
		}
	}
	for _, k := range []string{"", "+", "+0123", "+1234567890123456", "+9999999999999999999", "12a", "+ 1", "123456789012345678", "٣"} {
		if _, _, err := ParseKey([]byte(k)); err == nil {
			t.Errorf("%q: accepted", k)
		}
	}
}

func TestPackKeyKeepsFormsApart(t *testing.T) {
	seen := map[uint64]string{}
	for _, k := range []string{"0301234", "301234", "+301234", "00301234", "+0301234", "1", "+1", "01", "99999999999999999"} {
		p, ok := packKey([]byte(k))
		if !ok {
			t.Fatalf("%q: not packed", k)
		}
		if other, dup := seen[p]; dup {
			t.Fatalf("%q and %q pack alike", k, other)
		}
		seen[p] = k
		if got := unpackKey(p); got != k {
			t.Errorf("unpack(pack(%q)) = %q", k, got)
		}
	}
}

func TestShardCount(t *testing.T) {
	for _, c := range []struct {
		kind string
		rows int64
		want int
	}{{"block", 0, 1}, {"block", 50_000, 1}, {"block", 50_001, 2}, {"identity", 5_000, 1}, {"identity", 12_000_001, 2401}} {
		if got := ShardCount(c.kind, c.rows); got != c.want {
			t.Errorf("ShardCount(%s, %d) = %d, want %d", c.kind, c.rows, got, c.want)
		}
	}
}

func TestKeySetFindsDuplicatesAcrossParts(t *testing.T) {
	ks, err := NewKeySet(t.TempDir(), 3*keySetPartRows) // four files
	if err != nil {
		t.Fatal(err)
	}
	defer ks.Close()
	for i := range 200_000 {
		ks.Add([]byte("0777"+strconv.Itoa(i)), uint64(i))
	}
	ks.Add([]byte("07771234"), 999_999)
	dups, err := ks.Duplicates(t.Context(), 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(dups) != 1 || dups[0].Key != "07771234" || dups[0].First != 1234 || dups[0].Other != 999_999 {
		t.Fatalf("duplicates %+v, want 07771234 in 1234 and 999999", dups)
	}
}

func TestReadManifestRefuses(t *testing.T) {
	for name, s := range map[string]string{
		"other format":  `{"format":"x","format_version":1}`,
		"unknown field": `{"format":"calldir-live-lookup","format_version":1,"extra":1}`,
		"bad file":      `{"format":"calldir-live-lookup","format_version":1,"databases":[{"kind":"block","file":"../x","config":"block-config.json"}]}`,
		"twice":         `{"format":"calldir-live-lookup","format_version":1,"databases":[{"kind":"block","file":"block.binpb","config":"block-config.json"},{"kind":"block","file":"block.binpb","config":"block-config.json"}]}`,
		"trailing":      `{"format":"calldir-live-lookup","format_version":1} {}`,
	} {
		if _, err := ReadManifest(strings.NewReader(s)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
