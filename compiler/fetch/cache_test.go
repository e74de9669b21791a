package fetch

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/calldir/calldir/shard"
	"github.com/calldir/calldir/shard/outfs"
)

// failTransport fails the test if a request is made.
type failTransport struct{ t *testing.T }

func (f failTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	f.t.Errorf("offline fetch made a request to %s", r.URL)
	return nil, errors.New("no network")
}

func TestOffline(t *testing.T) {
	body, mu := list, &sync.Mutex{}
	o := newOrigin(t, true, serveList(&body, mu))
	opts := testOptions(t, o, nil)
	src := Source{URL: o.URL + "/l.txt"}
	offline := opts
	offline.Offline = true
	offline.Client = &http.Client{Transport: failTransport{t}}

	// A miss, before any cache exists: said, and nothing is made.
	fe := mustFail(t, offline, src)
	if !errors.Is(fe, ErrNotCached) || fe.Op != "offline" || fe.Attempts != 0 {
		t.Errorf("error %v, want not cached", fe)
	}
	if !strings.Contains(fe.Error(), "run once without --offline") {
		t.Errorf("message %q", fe)
	}
	if _, err := os.Stat(opts.Cache); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("an offline miss made the cache (%v)", err)
	}

	online := mustFetch(t, opts, src)
	r := mustFetch(t, offline, src)
	if !r.FromCache || r.NotModified || r.Path != online.Path || r.SHA256 != online.SHA256 || !r.FetchedAt.Equal(online.FetchedAt) || r.Attempts != 0 {
		t.Errorf("offline %+v, want the online %+v from the cache", r, online)
	}

	// Another URL is still a miss; a pin the cached body fails fails.
	if fe := mustFail(t, offline, Source{URL: o.URL + "/other.txt"}); !errors.Is(fe, ErrNotCached) {
		t.Errorf("error %v, want not cached", fe)
	}
	var pe *PinError
	if fe := mustFail(t, offline, Source{URL: src.URL, SHA256: sum("x")}); !errors.As(fe, &pe) {
		t.Errorf("error %v, want a pin mismatch", fe)
	}

	// A damaged body is not trusted offline either.
	damage(t, online.Path, "+15550199\n")
	fe = mustFail(t, offline, src)
	if errors.Is(fe, ErrNotCached) || !strings.Contains(fe.Error(), "the cached copy is damaged") {
		t.Errorf("error %v, want a damaged copy", fe)
	}
}

// damage overwrites a read-only cached body, as a disk error or a user's
// editor would.
func damage(t *testing.T, p, data string) {
	t.Helper()
	if err := os.Chmod(p, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

// A damaged entry or body is a miss, said, never trusted: the URL is
// fetched whole (no conditional request) and the cache repaired.
func TestDamagedCache(t *testing.T) {
	for _, tc := range []struct {
		name   string
		damage func(t *testing.T, dir string, r *Result)
		said   string
	}{
		{"body changed", func(t *testing.T, dir string, r *Result) { damage(t, r.Path, "+15550199\n") },
			"has 10 bytes with SHA-256"},
		{"body same size, other bytes", func(t *testing.T, dir string, r *Result) { damage(t, r.Path, strings.Replace(list, "0", "9", 1)) },
			"with SHA-256 " + sum(strings.Replace(list, "0", "9", 1))},
		{"body missing", func(t *testing.T, dir string, r *Result) { os.Remove(r.Path) },
			"no such file"},
		{"entry sha256", func(t *testing.T, dir string, r *Result) {
			editIndex(t, dir, func(x *index) { x.Entries[0].SHA256 = strings.ToUpper(x.Entries[0].SHA256) })
		}, "is not 64 lowercase hex digits"},
		{"entry body renamed", func(t *testing.T, dir string, r *Result) {
			// A file of the list's bytes under another hash's name: its
			// bytes match the entry's sha256, its name does not.
			other := "sha256-" + sum("x") + ".txt"
			if err := os.WriteFile(filepath.Join(dir, other), []byte(list), 0o444); err != nil {
				t.Fatal(err)
			}
			editIndex(t, dir, func(x *index) {
				x.Loose = append(x.Loose, x.Entries[0].Body) // still listed: the cache stays provable
				x.Entries[0].Body = other
			})
		}, "is not named by its sha256"},
		{"entry size", func(t *testing.T, dir string, r *Result) {
			editIndex(t, dir, func(x *index) { x.Entries[0].Size++ })
		}, "the index says 31 bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body, mu := list, &sync.Mutex{}
			o := newOrigin(t, true, serveList(&body, mu))
			opts := testOptions(t, o, nil)
			src := Source{URL: o.URL + "/l.txt"}
			first := mustFetch(t, opts, src)
			tc.damage(t, opts.Cache, first)

			r := mustFetch(t, opts, src)
			if len(r.Warnings) != 1 || !strings.Contains(r.Warnings[0], "cached copy of "+src.URL+" not used") || !strings.Contains(r.Warnings[0], tc.said) {
				t.Errorf("warnings %q, want one saying %q", r.Warnings, tc.said)
			}
			reqs := o.requests()
			if r.NotModified || reqs[len(reqs)-1].Get("If-None-Match") != "" {
				t.Error("a damaged entry was used for a conditional request")
			}
			if mustRead(t, r.Path) != list || r.SHA256 != sum(list) {
				t.Error("cache not repaired")
			}
			if again := mustFetch(t, opts, src); !again.NotModified || len(again.Warnings) != 0 {
				t.Errorf("after repair: %+v", again)
			}
		})
	}
}

func editIndex(t *testing.T, dir string, edit func(*index)) {
	t.Helper()
	x := mustIndex(t, dir)
	edit(x)
	if err := os.WriteFile(filepath.Join(dir, IndexName), x.marshal(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// A cache directory that is not provably calldir's is refused, not
// repaired: nothing in it is replaced or removed, and the error is not a
// fetch failure (the directory needs a person).
func TestForeignCache(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files map[string]string
		said  string
	}{
		{"index not json", map[string]string{IndexName: "{{{", "sha256-" + sum("a"): "a"}, "is not a calldir manifest"},
		{"index of another format", map[string]string{IndexName: `{"format":"calldir-sources/9","entries":[]}`}, "is not a calldir manifest"},
		{"someone's directory", map[string]string{"notes.txt": "mine"}, "not a calldir source cache"},
		{"an unlisted file", map[string]string{IndexName: `{"format":"calldir-sources/1","entries":[]}`, "photo.jpg": "x"}, "photo.jpg is not a file its manifest lists"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := newOrigin(t, true, func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(list)) })
			opts := testOptions(t, o, nil)
			if err := os.Mkdir(opts.Cache, 0o755); err != nil {
				t.Fatal(err)
			}
			for n, data := range tc.files {
				if err := os.WriteFile(filepath.Join(opts.Cache, n), []byte(data), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			for _, offline := range []bool{false, true} {
				opts.Offline = offline
				_, err := Fetch(context.Background(), opts, Source{URL: o.URL + "/l.txt"})
				var fe *Error
				var foreign *outfs.ForeignError
				if !errors.As(err, &foreign) || errors.As(err, &fe) || !strings.Contains(err.Error(), tc.said) {
					t.Errorf("offline %v: error %v, want a foreign cache saying %q", offline, err, tc.said)
				}
			}
			if len(o.requests()) != 0 {
				t.Error("fetched into a cache that is not calldir's")
			}
			got := names(t, opts.Cache)
			if len(got) != len(tc.files) {
				t.Errorf("cache now holds %q", got)
			}
			for n, data := range tc.files {
				if mustRead(t, filepath.Join(opts.Cache, n)) != data {
					t.Errorf("%s changed", n)
				}
			}
		})
	}
}

// What a crash between the steps of a store leaves is swept by the next
// fetch: a loose body no entry names goes, one an entry names again
// stays; a body two URLs share stays while one names it.
func TestLooseSweep(t *testing.T) {
	body, mu := list, &sync.Mutex{}
	o := newOrigin(t, true, serveList(&body, mu))
	opts := testOptions(t, o, nil)
	a := mustFetch(t, opts, Source{URL: o.URL + "/a.txt"})
	b := mustFetch(t, opts, Source{URL: o.URL + "/b.txt"})
	if a.Path != b.Path {
		t.Fatalf("one body, two URLs: %s %s", a.Path, b.Path)
	}
	mu.Lock()
	body = "+15550200\n"
	mu.Unlock()
	mustFetch(t, opts, Source{URL: o.URL + "/a.txt"})
	if mustRead(t, b.Path) != list {
		t.Fatal("a body another URL names was removed")
	}

	// A crash after linking a body, before its entry: listed loose.
	orphan := "sha256-" + sum("orphan")
	editIndex(t, opts.Cache, func(x *index) { x.Loose = append(x.Loose, orphan, b.Path[len(opts.Cache)+1:]) })
	if err := os.WriteFile(filepath.Join(opts.Cache, orphan), []byte("orphan"), 0o444); err != nil {
		t.Fatal(err)
	}
	mustFetch(t, opts, Source{URL: o.URL + "/a.txt"})
	if _, err := os.Stat(filepath.Join(opts.Cache, orphan)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("loose body not removed (%v)", err)
	}
	if mustRead(t, b.Path) != list {
		t.Error("a loose name an entry names was removed")
	}
	if x := mustIndex(t, opts.Cache); len(x.Loose) != 0 || len(x.Entries) != 2 {
		t.Errorf("index %+v", x)
	}
}

// The cache is marked: a build is never written into it, nor it replaced
// by one.
func TestCacheMark(t *testing.T) {
	o := newOrigin(t, true, func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(list)) })
	opts := testOptions(t, o, nil)
	mustFetch(t, opts, Source{URL: o.URL + "/l.txt"})
	st, err := outfs.Inspect(opts.Cache, CacheMark)
	if err != nil || st.Mark != CacheMark {
		t.Fatalf("Inspect: %v %v", st, err)
	}
	if _, err := outfs.Inspect(opts.Cache, shard.BuildMark); err == nil || !strings.Contains(err.Error(), "it is a calldir source cache, not a build") {
		t.Errorf("a build over the cache: %v", err)
	}
	var p outfs.Plan
	p.Output("--out", filepath.Join(opts.Cache, "build"), shard.BuildMark)
	var ie *outfs.InsideOutputError
	if err := p.Check(); !errors.As(err, &ie) || ie.Kind != "source cache" {
		t.Errorf("a build inside the cache: %v", err)
	}
}

func TestNotList(t *testing.T) {
	gz := func(s string) string {
		var b bytes.Buffer
		w := gzip.NewWriter(&b)
		w.Write([]byte(s))
		w.Close()
		return b.String()
	}
	for _, tc := range []struct{ ctype, body, want string }{
		{"text/plain", list, ""},
		{"", "number,label\n+15550100,Spam\n", ""},
		{"application/octet-stream", list, ""}, // a raw file server's default
		{"text/csv", "\xef\xbb\xbf+15550100\n", ""},
		{"", "", ""},
		{"application/gzip", gz(list), ""},
		{"", "\xff\xfe+\x001\x00", ""}, // UTF-16: the compiler says so
		{"text/html", list, "an HTML page (Content-Type text/html)"},
		{"application/xhtml+xml; charset=utf-8", list, "an HTML page (Content-Type application/xhtml+xml)"},
		{"text/plain", "<!doctype html>\n<title>404</title>", "an HTML page"},
		{"text/plain", " \r\n\t<HTML><body>", "an HTML page"},
		{"text/plain", "\xef\xbb\xbf<html>", "an HTML page"},
		{"", "<head><title>x</title>", "an HTML page"},
		{"", "<?xml version=\"1.0\"?><Error/>", "an XML document"},
		{"application/gzip", gz("<!DOCTYPE html><p>gone</p>"), "a gzip-compressed HTML page"},
		{"application/gzip", gz("\x00\x00\x00"), "gzip-compressed binary data (application/octet-stream)"},
		{"", "+15550100\n\x00\n", "binary data (application/octet-stream)"},
		{"", "\x89PNG\r\n\x1a\n....", "binary data (image/png)"},
		{"", "PK\x03\x04zipped", "binary data (application/zip)"},
	} {
		b := []byte(tc.body)
		if got := notList(tc.ctype, bytes.NewReader(b), int64(len(b))); got != tc.want {
			t.Errorf("notList(%q, %q) = %q, want %q", tc.ctype, tc.body, got, tc.want)
		}
	}
}

func TestExtension(t *testing.T) {
	for _, tc := range []struct{ path, want string }{
		{"/lists/block.txt", ".txt"},
		{"/Block.CSV.GZ", ".csv.gz"},
		{"/a.b.c.tsv", ".c.tsv"},
		{"/list", ""},
		{"/", ""},
		{"", ""},
		{"/dir.d/list", ""},
		{"/list.tar-gz", ""},
		{"/list.averyverylongext", ""},
		{"/list.weird-ext.gz", ".gz"},
		{"/.hidden", ".hidden"},
	} {
		if got := extension(tc.path); got != tc.want {
			t.Errorf("extension(%q) = %q, want %q", tc.path, got, tc.want)
		}
	}
}

func FuzzReadIndex(f *testing.F) {
	x := &index{Format: indexFormat, Entries: []entry{{URL: "https://e.com/l", Body: "sha256-" + sum(list), SHA256: sum(list), Size: 30}}, Loose: []string{"a"}}
	f.Add(x.marshal())
	f.Add([]byte(`{"format":"calldir-sources/1","entries":null}`))
	f.Add([]byte(`{"format":"calldir-sources/1"} {}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		x, err := readIndex(bytes.NewReader(data))
		if err != nil {
			return
		}
		// What decodes re-encodes to an index that decodes the same.
		y, err := readIndex(bytes.NewReader(x.marshal()))
		if err != nil {
			t.Fatalf("re-read: %v", err)
		}
		if !slices.Equal(x.files(), y.files()) {
			t.Errorf("files %q, then %q", x.files(), y.files())
		}
		for _, e := range y.Entries {
			e.check() // never panics
		}
	})
}
