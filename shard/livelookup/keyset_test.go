package livelookup

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func mustKeySet(t *testing.T, expected int64) *KeySet {
	t.Helper()
	ks, err := NewKeySet(t.TempDir(), expected)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ks.Close)
	return ks
}

// Every key given more than once is counted, the first max of them (in
// key order, over all files) named with their tags, ascending, and how
// many times each was given.
func TestKeySetCollisions(t *testing.T) {
	ks := mustKeySet(t, 3*keySetPartRows) // four files
	want := map[string][]uint64{}
	tag := uint64(0)
	add := func(key string) {
		tag++
		if !ks.Add([]byte(key), tag) {
			t.Fatalf("Add(%q) refused", key)
		}
		want[key] = append(want[key], tag)
	}
	for i := range 50_000 {
		add("07" + strconv.Itoa(1_000_000+i))
	}
	for i := range 30 { // 30 keys given twice, 0612345600…29
		add(fmt.Sprintf("06123456%02d", i))
		add(fmt.Sprintf("06123456%02d", i))
	}
	for range 3 { // one three times, before them in key order
		add("0512345678")
	}
	for range 2 * maxCollisionTags { // one given more often than its tags are kept
		add("0412345678")
	}
	cs, total, err := ks.Collisions(t.Context(), 20)
	if err != nil {
		t.Fatal(err)
	}
	if total != 32 || len(cs) != 20 {
		t.Fatalf("%d collisions, %d shown; want 32, 20", total, len(cs))
	}
	var keys []string
	for k, tags := range want {
		if len(tags) > 1 {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for i, c := range cs {
		w := want[keys[i]]
		if c.Key != keys[i] || c.Count != len(w) || !slices.Equal(c.Tags, w[:min(len(w), maxCollisionTags)]) {
			t.Errorf("collision %d: %+v; want %s given %d times, tags %v", i, c, keys[i], len(w), w)
		}
	}
	dups, err := ks.Duplicates(t.Context(), 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(dups) != 2 || dups[1] != (Dup{Key: "0512345678", First: want["0512345678"][0], Other: want["0512345678"][1]}) {
		t.Errorf("Duplicates: %+v", dups)
	}
}

func TestKeySetNoCollision(t *testing.T) {
	ks := mustKeySet(t, 100)
	for i := range 1000 {
		ks.Add([]byte(strconv.Itoa(100_000+i)), uint64(i))
		ks.Add([]byte("+"+strconv.Itoa(100_000+i)), uint64(i)) // '+' makes another key
		ks.Add([]byte("0"+strconv.Itoa(100_000+i)), uint64(i)) // so does a leading zero
	}
	cs, total, err := ks.Collisions(t.Context(), 20)
	if err != nil || total != 0 || len(cs) != 0 {
		t.Fatalf("Collisions: %v, %d, %v; want none", cs, total, err)
	}
}

// A damaged file (a record cut short) is an error, not a short read.
func TestKeySetDamagedFile(t *testing.T) {
	ks := mustKeySet(t, 10)
	ks.Add([]byte("0612345678"), 1)
	ks.bufs[0] = append(ks.bufs[0], 1, 2, 3)
	if _, _, err := ks.Collisions(t.Context(), 1); err == nil || !strings.Contains(err.Error(), "3 bytes past the last whole record") {
		t.Fatalf("Collisions of a damaged file: %v", err)
	}
}

// The KeySet's files are in the directory given, and gone once closed.
func TestKeySetCloseRemovesFiles(t *testing.T) {
	dir := t.TempDir()
	ks, err := NewKeySet(dir, 2*keySetPartRows)
	if err != nil {
		t.Fatal(err)
	}
	ks.Add([]byte("0612345678"), 1)
	if got, _ := filepath.Glob(filepath.Join(dir, ".keys-*")); len(got) != 3 {
		t.Fatalf("%d files, want 3", len(got))
	}
	ks.Close()
	if got, _ := os.ReadDir(dir); len(got) != 0 {
		t.Fatalf("left %v", got)
	}
}

func TestRadixSort(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var scratch []uint64
	for _, n := range []int{0, 1, 2, 3, 100, 10_000, 300_000} {
		for _, gen := range []func() uint64{
			rng.Uint64,
			func() uint64 { return rng.Uint64N(1 << 20) },              // the high digits all zero
			func() uint64 { return 0xabcd<<48 | rng.Uint64N(1000)<<6 }, // constant low and high digits
			func() uint64 { return 42 },
		} {
			keys := make([]uint64, n)
			for i := range keys {
				keys[i] = gen()
			}
			want := slices.Sorted(slices.Values(keys))
			scratch = radixSort(keys, scratch)
			if !slices.Equal(keys, want) {
				t.Fatalf("radixSort of %d keys differs from slices.Sort", n)
			}
		}
	}
}

// packKey reads keys of every length as strconv does, and refuses a
// byte other than a digit wherever it is.
func TestPackKey(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for range 200_000 {
		key := make([]byte, 1+rng.IntN(maxPackedDigits))
		for i := range key {
			key[i] = byte('0' + rng.IntN(10))
		}
		p, ok := packKey(key)
		want, _ := strconv.ParseUint(string(key), 10, 64)
		if !ok || p>>6 != want || int(p&31) != len(key) || p&32 != 0 {
			t.Fatalf("packKey(%s) = %x, %v", key, p, ok)
		}
		if p, ok := packKey(append([]byte{'+'}, key...)); !ok || p>>6 != want || p&32 == 0 {
			t.Fatalf("packKey(+%s) = %x, %v", key, p, ok)
		}
		bad := slices.Clone(key)
		bad[rng.IntN(len(bad))] = []byte("/:a \x00\xff")[rng.IntN(6)] // ('+' is a key's first byte)
		if _, ok := packKey(bad); ok {
			t.Fatalf("packKey(%q) accepted", bad)
		}
	}
	for _, key := range []string{"", "+", "012345678901234567", "++1"} {
		if _, ok := packKey([]byte(key)); ok {
			t.Errorf("packKey(%q) accepted", key)
		}
	}
}

// packedClass reads from a packed key the class keyClass reads from its
// digits.
func TestPackedClass(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for range 100_000 {
		key := make([]byte, 1+rng.IntN(maxPackedDigits))
		for i := range key {
			key[i] = byte('0' + rng.IntN(10))
			if rng.IntN(3) == 0 {
				key[i] = '0'
			}
		}
		p, ok := packKey(key)
		if !ok {
			t.Fatalf("packKey(%s) refused", key)
		}
		if got, want := packedClass(p), keyClass(key); got != want {
			t.Fatalf("%s: packedClass %d, keyClass %d", key, got, want)
		}
		if unpackKey(p) != string(key) {
			t.Fatalf("%s: unpacked %s", key, unpackKey(p))
		}
	}
}

// natKeys finds the shared keys in the pass that writes the rows: a key
// of a class two calling codes write goes to the KeySet, those of the
// class that came before from memory, and finish never reads the build
// (it is nil here).
func TestNatKeysOnePass(t *testing.T) {
	nk := &natKeys{tmp: t.TempDir(), expected: 10}
	defer nk.close()
	for _, x := range []struct {
		key string
		n   int64
		cc  int
	}{
		{"0612345678", 3612345678, 36},
		{"0612345679", 3612345679, 36},
		{"0612345678", 31612345678, 31}, // the class 06, 10 digits, shared from here on
		{"0712345678", 31712345678, 31},
		{"0612345678", 33612345678, 33},
		{"0612345680", 33612345680, 33},
		{"0712345678", 33712345678, 33}, // 07, 10 digits, shared too
	} {
		if err := nk.add([]byte(x.key), x.n, x.cc); err != nil {
			t.Fatal(err)
		}
	}
	if nk.over || nk.ks == nil || nk.lastShared != 33712345678 {
		t.Fatalf("over %v, KeySet %v, last shared %d", nk.over, nk.ks, nk.lastShared)
	}
	err := nk.finish(t.Context(), nil, BlockFile)
	var dup *DuplicateKeyError
	if !errors.As(err, &dup) {
		t.Fatalf("finish: %v, want a *DuplicateKeyError", err)
	}
	want := &DuplicateKeyError{File: BlockFile, Total: 2, Collisions: []NationalCollision{
		{Key: "0612345678", Numbers: []int64{3612345678, 31612345678, 33612345678}, Count: 3},
		{Key: "0712345678", Numbers: []int64{31712345678, 33712345678}, Count: 2},
	}}
	if !reflect.DeepEqual(dup, want) {
		t.Fatalf("got  %+v\nwant %+v", dup, want)
	}
}

// Codes whose keys are of different classes (length, first two digits)
// cannot share one: nothing is filed, nothing sorted, and the build is
// not read again even past the keys held in memory.
func TestNatKeysDisjointClasses(t *testing.T) {
	nk := &natKeys{tmp: t.TempDir(), expected: 10}
	defer nk.close()
	for i := range natBufKeys + 10 {
		nk.add([]byte("0770090"+strconv.Itoa(1000+i)), 447700901000+int64(i), 44)
	}
	nk.add([]byte("4155550123"), 14155550123, 1)
	if nk.ks != nil || !nk.over {
		t.Fatalf("KeySet %v, over %v", nk.ks, nk.over)
	}
	if err := nk.finish(t.Context(), nil, BlockFile); err != nil {
		t.Fatal(err)
	}
}

// A national key over 17 digits (which no E.164 number gives) is refused
// by name.
func TestNatKeysTooLong(t *testing.T) {
	nk := &natKeys{tmp: t.TempDir()}
	if err := nk.add([]byte("012345678901234567"), 1, 1); err == nil || !strings.Contains(err.Error(), "not a key of 1 to 17 digits") {
		t.Fatalf("add: %v", err)
	}
}

func TestDuplicateKeyErrorText(t *testing.T) {
	pair := NationalCollision{Key: "0612345678", Numbers: []int64{31612345678, 33612345678}, Count: 2}
	three := NationalCollision{Key: "0612345679", Numbers: []int64{3612345679, 31612345679, 33612345679}, Count: 3}
	cut := NationalCollision{Key: "0612345670", Numbers: []int64{31612345670, 33612345670}, Count: 5}
	for _, c := range []struct {
		err  *DuplicateKeyError
		want string
	}{
		{&DuplicateKeyError{File: "block.binpb", Total: 1, Collisions: []NationalCollision{pair}},
			`block.binpb: +31612345678 and +33612345678 have the same national form "0612345678": one key cannot answer for two numbers; export their countries separately, or E.164 keys only`},
		{&DuplicateKeyError{File: "identity.binpb", Total: 2, Collisions: []NationalCollision{pair, three}},
			"identity.binpb: 2 national keys are each shared by two or more numbers: one key cannot answer for two numbers; export their countries separately, or E.164 keys only\n" +
				"  +31612345678 and +33612345678 have the same national form \"0612345678\"\n" +
				"  +3612345679, +31612345679 and +33612345679 have the same national form \"0612345679\""},
		{&DuplicateKeyError{File: "block.binpb", Total: 7, Collisions: []NationalCollision{cut}},
			"block.binpb: 7 national keys are each shared by two or more numbers: one key cannot answer for two numbers; export their countries separately, or E.164 keys only\n" +
				"  +31612345670, +33612345670 and 3 more have the same national form \"0612345670\"\n" +
				"  … and 6 more"},
	} {
		if got := c.err.Error(); got != c.want {
			t.Errorf("got\n%s\nwant\n%s", got, c.want)
		}
	}
}
