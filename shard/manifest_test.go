package shard

import (
	"bytes"
	"io"
	"reflect"
	"strings"
	"testing"
)

func sampleManifest() *Manifest {
	return &Manifest{
		Format: ManifestFormat, FormatVersion: ManifestVersion, ToolVersion: "0.1.0",
		Created: "2025-01-01T00:00:00Z",
		Options: BuildOptions{Kind: "identify", Region: "US", Accept: "possible", MaxPerShard: DefaultMaxPerShard,
			Format: "auto", Column: "phone", LabelColumn: "label"},
		Inputs: []InputStats{
			{Path: "feed.csv", Role: "source", SHA256: strings.Repeat("ab", 32), Bytes: 204, Format: "csv+gzip",
				Region: "GB", Lines: 7, Accepted: 3, Rejected: 4, Reasons: map[string]int64{"empty": 1, "no-digits": 3}, Extensions: 1},
			{Path: "allow.txt", Role: "allow", SHA256: strings.Repeat("cd", 32), Bytes: 12, Format: "text", Lines: 1, Accepted: 1},
		},
		Shards: []ShardInfo{{File: "identify-0001.shard", Kind: "identify", Extension: 1, Count: 2,
			First: 14155550101, Last: 14155550102, Labels: 1, SHA256: strings.Repeat("ef", 32), Size: 102}},
		Totals: Totals{Lines: 7, Accepted: 3, Rejected: 4, Duplicates: 1, LabelConflicts: 1, Entries: 2, Shards: 1},
	}
}

// mustMarshal encodes m with Manifest.Marshal.
func mustMarshal(t testing.TB, m *Manifest) []byte {
	t.Helper()
	b, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestManifestRoundTrip(t *testing.T) {
	want := sampleManifest()
	b := mustMarshal(t, want)
	if !bytes.HasSuffix(b, []byte("}\n")) {
		t.Errorf("manifest does not end in a newline: %q", b[len(b)-5:])
	}
	got, err := ReadManifest(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
}

func TestReadManifestRefuses(t *testing.T) {
	tests := []struct {
		name string
		json string
		want string
	}{
		{"unknown top-level field", `{"format":"calldir-build","format_version":1,"signature":"x"}`, `unknown field "signature"`},
		{"unknown nested field", `{"format":"calldir-build","format_version":1,"totals":{"entries":1,"bogus":2}}`, `unknown field "bogus"`},
		{"wrong format", `{"format":"other-build","format_version":1}`, `format "other-build", want "calldir-build"`},
		{"no format", `{"format_version":1}`, `format "", want "calldir-build"`},
		{"wrong version", `{"format":"calldir-build","format_version":2}`, "format_version 2, this calldir reads 1"},
		{"no version", `{"format":"calldir-build"}`, "format_version 0"},
		{"wrong type", `{"format":"calldir-build","format_version":"1"}`, "cannot unmarshal"},
		{"not an object", `[1,2,3]`, "cannot unmarshal array"},
		{"empty", ``, "EOF"},
		{"truncated", `{"format":"calldir-build","format_ver`, "unexpected EOF"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := ReadManifest(strings.NewReader(tt.json))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %+v, %v; want an error containing %q", m, err, tt.want)
			}
			if err != nil && !strings.HasPrefix(err.Error(), "manifest") {
				t.Errorf("error %q does not start with \"manifest\"", err)
			}
		})
	}
}

// TestReadManifestDeepNesting reads 10 MB of nested arrays: the decoder
// must return an error, not exhaust the stack.
func TestReadManifestDeepNesting(t *testing.T) {
	for _, open := range []string{"[", `{"options":[`, `{"a":`} {
		in := strings.Repeat(open, 10<<20/len(open))
		if m, err := ReadManifest(strings.NewReader(in)); err == nil {
			t.Errorf("%.20q…: got %+v, want an error", in, m)
		}
	}
}

// repeat is an endless reader of one byte.
type repeat byte

func (r repeat) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(r)
	}
	return len(p), nil
}

// paddedManifest returns a reader of a valid manifest of exactly size
// bytes, padded with white space inside the object.
func paddedManifest(t *testing.T, size int64) io.Reader {
	b := mustMarshal(t, sampleManifest())
	pad := size - int64(len(b))
	if pad < 0 {
		t.Fatalf("sample manifest is %d bytes, more than %d", len(b), size)
	}
	return io.MultiReader(bytes.NewReader(b[:1]), io.LimitReader(repeat(' '), pad), bytes.NewReader(b[1:]))
}

// TestReadManifestSizeLimit reads manifests of 64 MiB and more (about 0.5 s
// each: the limit is a constant, it cannot be scaled down). Without -tags
// long only the two at the boundary: exactly the limit, and one byte over.
func TestReadManifestSizeLimit(t *testing.T) {
	if _, err := ReadManifest(paddedManifest(t, MaxManifestBytes)); err != nil {
		t.Errorf("a manifest of exactly MaxManifestBytes: %v", err)
	}
	tests := []struct {
		name string
		r    io.Reader
	}{
		{"valid, one byte over", paddedManifest(t, MaxManifestBytes+1)},
	}
	if long {
		tests = append(tests, []struct {
			name string
			r    io.Reader
		}{
			{"valid, far over", paddedManifest(t, 2*MaxManifestBytes)},
			{"endless string", io.MultiReader(strings.NewReader(`{"format":"`), repeat('a'))},
			{"endless white space", repeat(' ')},
		}...)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := ReadManifest(tt.r)
			if err == nil || !strings.Contains(err.Error(), "manifest larger than 67108864 bytes") {
				t.Errorf("got %v, %v; want a size error", m != nil, err)
			}
		})
	}
}
