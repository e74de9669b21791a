package main

import (
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/calldir/calldir/e164"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"
)

// liveSchema describes the messages of a Live Caller ID Lookup export
// from Apple's published layouts (docs/LIVE-LOOKUP.md §2), written here
// independently of shard/livelookup: the tests decode the export with the
// protobuf runtime's own decoder, not with calldir's.
func liveSchema(t *testing.T) protoreflect.FileDescriptor {
	t.Helper()
	s := proto.String
	field := func(name string, num int32, typ descriptorpb.FieldDescriptorProto_Type, typeName string, repeated bool) *descriptorpb.FieldDescriptorProto {
		f := &descriptorpb.FieldDescriptorProto{Name: s(name), Number: proto.Int32(num), Type: typ.Enum(),
			Label: descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL.Enum()}
		if repeated {
			f.Label = descriptorpb.FieldDescriptorProto_LABEL_REPEATED.Enum()
		}
		if typeName != "" {
			f.TypeName = s(typeName)
		}
		return f
	}
	enum := func(name string, values ...string) *descriptorpb.EnumDescriptorProto {
		e := &descriptorpb.EnumDescriptorProto{Name: s(name)}
		for i, v := range values {
			e.Value = append(e.Value, &descriptorpb.EnumValueDescriptorProto{Name: s(v), Number: proto.Int32(int32(i))})
		}
		return e
	}
	const (
		bytesT = descriptorpb.FieldDescriptorProto_TYPE_BYTES
		msgT   = descriptorpb.FieldDescriptorProto_TYPE_MESSAGE
		enumT  = descriptorpb.FieldDescriptorProto_TYPE_ENUM
	)
	fd := &descriptorpb.FileDescriptorProto{
		Name: s("livelookup_test.proto"), Package: s("t"), Syntax: s("proto3"),
		EnumType: []*descriptorpb.EnumDescriptorProto{
			enum("IdentityCategory", "IDENTITY_CATEGORY_UNSPECIFIED", "PERSON", "BUSINESS"),
			enum("ImageFormat", "IMAGE_FORMAT_UNSPECIFIED", "HEIC"),
		},
		MessageType: []*descriptorpb.DescriptorProto{
			{Name: s("KeywordDatabase"), Field: []*descriptorpb.FieldDescriptorProto{field("rows", 1, msgT, ".t.KeywordDatabaseRow", true)}},
			{Name: s("KeywordDatabaseRow"), Field: []*descriptorpb.FieldDescriptorProto{field("keyword", 1, bytesT, "", false), field("value", 2, bytesT, "", false)}},
			{Name: s("Icon"), Field: []*descriptorpb.FieldDescriptorProto{field("format", 1, enumT, ".t.ImageFormat", false), field("image", 2, bytesT, "", false)}},
			{Name: s("CallIdentity"), Field: []*descriptorpb.FieldDescriptorProto{
				field("name", 1, descriptorpb.FieldDescriptorProto_TYPE_STRING, "", false),
				field("icon", 2, msgT, ".t.Icon", false),
				field("cache_expiry_minutes", 3, descriptorpb.FieldDescriptorProto_TYPE_UINT32, "", false),
				field("category", 4, enumT, ".t.IdentityCategory", false),
			}},
		},
	}
	f, err := protodesc.NewFile(fd, nil)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// liveRow is one decoded row: its key, and for identity rows the decoded
// CallIdentity's fields.
type liveRow struct {
	key, value string
	name       string
	category   string
	expiry     uint32
	icon       int // image bytes, -1 without an icon
}

// decodeLive decodes a KeywordDatabase file with dynamicpb; identity
// values are decoded as CallIdentity, with unknown fields refused.
func decodeLive(t *testing.T, schema protoreflect.FileDescriptor, path string, identity bool) []liveRow {
	t.Helper()
	msgs := schema.Messages()
	db := dynamicpb.NewMessage(msgs.ByName("KeywordDatabase"))
	if err := proto.Unmarshal([]byte(mustRead(t, path)), db); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	rows := db.Get(msgs.ByName("KeywordDatabase").Fields().ByName("rows")).List()
	rowFields := msgs.ByName("KeywordDatabaseRow").Fields()
	idDesc := msgs.ByName("CallIdentity")
	var out []liveRow
	for i := range rows.Len() {
		m := rows.Get(i).Message()
		r := liveRow{key: string(m.Get(rowFields.ByName("keyword")).Bytes()), value: string(m.Get(rowFields.ByName("value")).Bytes()), icon: -1}
		if identity {
			id := dynamicpb.NewMessage(idDesc)
			if err := (proto.UnmarshalOptions{DiscardUnknown: false}).Unmarshal([]byte(r.value), id); err != nil {
				t.Fatalf("%s: row %d: %v", path, i, err)
			}
			if len(id.GetUnknown()) > 0 {
				t.Fatalf("%s: row %d: unknown fields %x", path, i, id.GetUnknown())
			}
			f := idDesc.Fields()
			r.name = id.Get(f.ByName("name")).String()
			r.expiry = uint32(id.Get(f.ByName("cache_expiry_minutes")).Uint())
			r.category = string(f.ByName("category").Enum().Values().ByNumber(id.Get(f.ByName("category")).Enum()).Name())
			if id.Has(f.ByName("icon")) {
				r.icon = len(id.Get(f.ByName("icon")).Message().Get(msgs.ByName("Icon").Fields().ByName("image")).Bytes())
			}
		}
		out = append(out, r)
	}
	return out
}

// dumpRecords reads inspect --dump of a build: one record per entry,
// [number] or [number, label].
func dumpRecords(t *testing.T, build string) [][]string {
	t.Helper()
	out, _ := mustCLI(t, 0, "inspect", "--dump", build)
	recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

func fmtRecords(recs [][]string) string {
	var b strings.Builder
	for _, r := range recs {
		b.WriteString(strings.Join(r, ",") + "\n")
	}
	return b.String()
}

// liveBuilds compiles, in the current directory, a blocking build "blk"
// with a pattern, an allowlist and a list, and an identification build
// "ids" with non-ASCII labels.
func liveBuilds(t *testing.T) {
	t.Helper()
	mustWrite(t, "block.txt", "+14155550123\n+44 7700 900123\n+33 1 62 00 01 00\n(415) 555-0199\n+14155550100\n")
	mustWrite(t, "allow.txt", "+33162000005\n+14155550100\n")
	mustWrite(t, "ids.csv", "number,label\n+14155550111,Démarchage\n+447700900555,Спам\n+81312345678,迷惑電話\n+33162000123,Arnaque 🚫\n+14155550112,\"Quote, \"\"Inc\"\"\"\n")
	mustCLI(t, 0, "compile", "-q", "-o", "blk", "--pattern", "+33 162 000 0##", "--allow", "allow.txt", "block.txt")
	mustCLI(t, 0, "compile", "-q", "--kind", "identify", "-o", "ids", "ids.csv")
}

// The export, decoded by the protobuf runtime from a schema written in the
// test, holds exactly what inspect --dump shows of the builds: every
// number in order with its key forms, the byte 1 for blocking, and for
// identification the label as the name with the chosen category and
// expiry.
func TestExportDecodesToTheBuilds(t *testing.T) {
	t.Chdir(t.TempDir())
	liveBuilds(t)
	schema := liveSchema(t)
	blk, ids := dumpRecords(t, "blk"), dumpRecords(t, "ids")
	// 4 list numbers (the fifth allowlisted) and the 100-number pattern
	// less the allowlisted +33162000005.
	if got := fmtRecords(blk); len(blk) != 103 || strings.Contains(got, "+14155550100") || strings.Contains(got, "+33162000005") || !strings.Contains(got, "+33162000099") {
		t.Fatalf("blocking build: %d entries:\n%s", len(blk), got)
	}
	for _, forms := range []string{"e164", "e164,national"} {
		mustCLI(t, 0, "export", "live-lookup", "-q", "--key-forms", forms, "--category", "person", "--cache-expiry-minutes", "90", "-o", "live", "blk", "ids")
		national := strings.Contains(forms, "national")
		keysOf := func(number string) []string {
			keys := []string{number}
			if national {
				var n int64
				for _, c := range number[1:] {
					n = n*10 + int64(c-'0')
				}
				nat, ok := e164.National(n)
				if !ok {
					t.Fatalf("%s: no national form", number)
				}
				keys = append(keys, nat)
			}
			return keys
		}
		var i int
		rows := decodeLive(t, schema, filepath.Join("live", "block.binpb"), false)
		for _, rec := range blk {
			for _, k := range keysOf(rec[0]) {
				if i >= len(rows) || rows[i].key != k || rows[i].value != "\x01" {
					t.Fatalf("%s: block row %d: %+v, want key %s value 01", forms, i, rows[min(i, len(rows)-1)], k)
				}
				i++
			}
		}
		if i != len(rows) {
			t.Fatalf("%s: %d block rows, want %d", forms, len(rows), i)
		}
		i = 0
		rows = decodeLive(t, schema, filepath.Join("live", "identity.binpb"), true)
		for _, rec := range ids {
			for _, k := range keysOf(rec[0]) {
				want := liveRow{key: k, name: rec[1], category: "PERSON", expiry: 90, icon: -1}
				if i >= len(rows) {
					t.Fatalf("%s: identity rows end before %s", forms, k)
				}
				got := rows[i]
				got.value = ""
				if got != want {
					t.Fatalf("%s: identity row %d: %+v, want %+v", forms, i, got, want)
				}
				i++
			}
		}
		if i != len(rows) {
			t.Fatalf("%s: %d identity rows, want %d", forms, len(rows), i)
		}
		// inspect --dump of the export prints the same keys and names.
		out, _ := mustCLI(t, 0, "inspect", "--dump", "live")
		if !national {
			want, _ := mustCLI(t, 0, "inspect", "--dump", "blk")
			idsOut, _ := mustCLI(t, 0, "inspect", "--dump", "ids")
			if out != want+idsOut {
				t.Fatalf("inspect --dump live differs from the builds' dumps:\n%s\n---\n%s%s", out, want, idsOut)
			}
		}
		mustCLI(t, 0, "validate", "live")
	}
}

// export --out replaces only an export calldir made: a user's directory,
// a build, or an export with a file added are refused and left
// byte-identical; an export is replaced.
func TestGuardExportOutOnlyReplacesOwnExport(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	liveBuilds(t)
	mustWrite(t, "mine/notes.txt", "my notes\n")
	mustRefuse(t, dir, "", []string{"refusing to replace mine", "not a calldir Live Caller ID Lookup export"}, "export", "live-lookup", "-o", "mine", "blk")
	mustRefuse(t, dir, "", []string{"it is a calldir build, not a Live Caller ID Lookup export"}, "export", "live-lookup", "-o", "ids", "blk")
	mustCLI(t, 0, "export", "live-lookup", "-q", "-o", "live", "blk", "ids")
	mustRefuse(t, dir, "", []string{"0 identity numbers", "--max-shrink"}, "export", "live-lookup", "-q", "-o", "live", "blk") // drops every identity
	mustCLI(t, 0, "export", "live-lookup", "-q", "--max-shrink", "100%", "-o", "live", "blk")                                  // its own: replaced
	if _, err := os.Stat(filepath.Join("live", "identity.binpb")); !os.IsNotExist(err) {
		t.Fatalf("identity.binpb survived the replacing export: %v", err)
	}
	mustRefuse(t, dir, "", []string{"it is a calldir Live Caller ID Lookup export, not a build"}, "compile", "-o", "live", "block.txt")
	mustWrite(t, "live/extra.txt", "x\n")
	mustRefuse(t, dir, "", []string{"extra.txt is not a file its manifest lists"}, "export", "live-lookup", "-o", "live", "blk")
	mustRefuse(t, dir, "", []string{"BUILD blk2", "is inside --out"}, "export", "live-lookup", "-o", ".", "blk2")
	mustRefuse(t, dir, "", []string{"both block builds"}, "export", "live-lookup", "-o", "x", "blk", "blk")
	mustRefuse(t, dir, "", []string{"--category", "person or business"}, "export", "live-lookup", "--category", "robot", "-o", "x", "ids")
	mustRefuse(t, dir, "", []string{"--key-forms"}, "export", "live-lookup", "--key-forms", "e164,local", "-o", "x", "ids")
}

// The limits are checked before the export is in place: nothing is
// written when one number's identity or icon is over its limit, and the
// message names the number and the size.
func TestExportLimits(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	liveBuilds(t)
	mustWrite(t, "icons/+14155550111.heic", strings.Repeat("h", 65_530)) // fits 64 KiB, not with the name and fields
	mustRefuse(t, dir, "", []string{"+14155550111: its CallIdentity is 65558 bytes serialized, over the 65535"},
		"export", "live-lookup", "--icons", "icons", "-o", "live", "ids")
	mustWrite(t, "icons/+14155550111.heic", strings.Repeat("h", 65_537))
	mustRefuse(t, dir, "", []string{"+14155550111.heic: 65537 bytes, over the 65536"}, "export", "live-lookup", "--icons", "icons", "-o", "live", "ids")
	os.Remove("icons/+14155550111.heic")
	mustWrite(t, "icons/4155550111.heic", "h")
	mustRefuse(t, dir, "", []string{"want +E164.heic"}, "export", "live-lookup", "--icons", "icons", "-o", "live", "ids")
	os.Remove("icons/4155550111.heic")
	mustWrite(t, "icons/+14155550111.heic", "heic")
	mustWrite(t, "icons/+19995550000.heic", "heic")
	_, stderr := mustCLI(t, 0, "export", "live-lookup", "--icons", "icons", "-o", "live", "ids")
	if !strings.Contains(stderr, "1 icons, 1 unused") {
		t.Errorf("summary lacks the icon counts:\n%s", stderr)
	}
	rows := decodeLive(t, liveSchema(t), "live/identity.binpb", true)
	if rows[0].key != "+14155550111" || rows[0].icon != 4 || rows[1].icon != -1 {
		t.Errorf("icons: %+v", rows[:2])
	}
	out, _ := mustCLI(t, 0, "inspect", "--dump", "live")
	if !strings.Contains(out, "+14155550111,Démarchage,icon=4 bytes\n") {
		t.Errorf("inspect --dump lacks the icon:\n%s", out)
	}
}

// Numbers of two or more countries that share a national form cannot all
// be national keys: the export is refused (exit 2, nothing written), and
// the refusal names every shared key, the first 20 in key order with all
// their numbers, then counts the others; with E.164 keys only the build
// exports.
func TestExportNamesEverySharedNationalKey(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	var list strings.Builder
	for i := range 25 { // France +33 6 12 34 56 ii and the Netherlands +31 6 123456ii: 06123456ii
		fmt.Fprintf(&list, "+33 6 12 34 56 %02d\n+31 6 123456%02d\n", i, i)
	}
	list.WriteString("+36 1 234 5600\n")                                      // Budapest: 06 1 234 5600, a third number for 0612345600
	list.WriteString("+44 7700 900123\n+1 415 555 0123\n+33 1 62 00 00 00\n") // shared with none
	mustWrite(t, "mobiles.txt", list.String())
	mustCLI(t, 0, "compile", "-q", "-o", "blk", "mobiles.txt")
	for _, n := range []int64{3612345600, 31612345600, 31612345624} {
		if nat, _ := e164.National(n); nat != "06"+strconv.FormatInt(n%1e8, 10) {
			t.Fatalf("national form of +%d: %q", n, nat)
		}
	}
	want := []string{
		"calldir: block.binpb: 25 national keys are each shared by two or more numbers: one key cannot answer for two numbers; export their countries separately, or E.164 keys only (--key-forms e164)\n",
		"\n  +3612345600, +31612345600 and +33612345600 have the same national form \"0612345600\"\n",
	}
	for i := 1; i < 20; i++ {
		want = append(want, fmt.Sprintf("\n  +316123456%02d and +336123456%02d have the same national form \"06123456%02d\"\n", i, i, i))
	}
	want = append(want, "\n  … and 5 more\n")
	code, _, stderr := runCLI(t, "", "export", "live-lookup", "--key-forms", "e164,national", "-o", "live", "blk")
	if code != 2 {
		t.Fatalf("exit %d, want 2\n%s", code, stderr)
	}
	at := 0
	for _, w := range want { // each line, in this order
		i := strings.Index(stderr[at:], w)
		if i < 0 {
			t.Fatalf("stderr lacks %q after byte %d:\n%s", w, at, stderr)
		}
		at += i + 1
	}
	if strings.Contains(stderr, "0612345620") {
		t.Errorf("stderr names a 21st key:\n%s", stderr)
	}
	mustRefuse(t, dir, "", want[:1], "export", "live-lookup", "--key-forms", "national", "-o", "live", "blk")
	mustRefuse(t, dir, "", want[:1], "export", "live-lookup", "--key-forms", "e164,national", "-o", "live", "blk") // nothing written, no key file left
	mustCLI(t, 0, "export", "live-lookup", "-q", "-o", "live", "blk")
}

// One shared key is named on one line; an identification build's
// database is named as such.
func TestExportRefusesSharedNationalKey(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	mustWrite(t, "mobiles.csv", "number,label\n+33 6 12 34 56 78,a\n+31 6 12345678,b\n+44 7700 900123,c\n")
	mustCLI(t, 0, "compile", "-q", "--kind", "identify", "-o", "ids", "mobiles.csv")
	mustRefuse(t, dir, "", []string{"calldir: identity.binpb: +31612345678 and +33612345678 have the same national form \"0612345678\": one key cannot answer for two numbers; export their countries separately, or E.164 keys only (--key-forms e164)\n"},
		"export", "live-lookup", "--key-forms", "e164,national", "-o", "live", "ids")
	mustCLI(t, 0, "export", "live-lookup", "-q", "-o", "live", "ids")
}

// The first country of a build (in numeric order) may run past the keys
// an export holds in memory before a second country shows up: its keys are
// then read again, and the shared ones found all the same. Here 100,000
// Chicago numbers (+1 312 39x xxxx: national 31239xxxxx) come before ten
// Italian mobiles +39 312 399 999x, whose national forms are those of the
// last ten of them, past the first 65,536.
func TestExportSharedNationalKeyAfterLongRun(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	var it strings.Builder
	for i := range 10 {
		fmt.Fprintf(&it, "+39 312 399 999 %d\n", i)
	}
	mustWrite(t, "it.txt", it.String())
	mustCLI(t, 0, "compile", "-q", "-o", "blk", "--pattern", "+1 312 39# ####", "it.txt")
	want := []string{"block.binpb: 10 national keys are each shared by two or more numbers"}
	for i := range 10 {
		want = append(want, fmt.Sprintf("\n  +1312399999%d and +39312399999%d have the same national form \"312399999%d\"\n", i, i, i))
	}
	mustRefuse(t, dir, "", want, "export", "live-lookup", "--key-forms", "national", "-o", "live", "blk")
}

// compile --live-lookup writes the same export as export live-lookup of
// the build, in the same run.
func TestCompileLiveLookup(t *testing.T) {
	t.Chdir(t.TempDir())
	liveBuilds(t)
	mustCLI(t, 0, "compile", "-q", "--kind", "identify", "-o", "ids2", "--live-lookup", "live1", "--key-forms", "e164,national", "ids.csv")
	mustCLI(t, 0, "export", "live-lookup", "-q", "-o", "x/live1", "--key-forms", "e164,national", "ids2")
	for _, f := range []string{"identity.binpb", "identity-config.json", "live-lookup.json"} {
		if mustRead(t, filepath.Join("live1", f)) != mustRead(t, filepath.Join("x", "live1", f)) {
			t.Errorf("%s differs between compile --live-lookup and export", f)
		}
	}
	dir, _ := os.Getwd()
	mustRefuse(t, dir, "", []string{"--out live1/b is inside --live-lookup live1"}, "compile", "-o", "live1/b", "--live-lookup", "live1", "block.txt")
}

// The starter configuration of calldir init feeds both targets: with its
// example files in place, one compile writes the build and the export.
func TestInitTemplateWritesBothTargets(t *testing.T) {
	t.Chdir(t.TempDir())
	mustCLI(t, 0, "init")
	mustWrite(t, "lists/spam.txt", "+14155550123\n+14155550124\n")
	mustWrite(t, "feeds/vendor.csv", "phone,name\n+14155550125,x\n")
	mustWrite(t, "allow.txt", "+14155550124\n")
	mustCLI(t, 0, "compile", "-q", "--config", "calldir.toml")
	mustCLI(t, 0, "validate", "build")
	mustCLI(t, 0, "validate", "live")
	if out, _ := mustCLI(t, 0, "inspect", "--dump", "live"); out != "+14155550123\n+14155550125\n" {
		t.Errorf("export of the starter: %q", out)
	}
}
