package fetch

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"
)

const list = "+15550100\n+15550101\n+15550102\n"

// t0 is the tests' clock: each call of the fake Now advances it a minute.
var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// origin is a loopback test server recording what it was asked.
type origin struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []http.Header
}

func (o *origin) requests() []http.Header {
	o.mu.Lock()
	defer o.mu.Unlock()
	return slices.Clone(o.reqs)
}

// newOrigin serves h on the loopback interface, over TLS when tls is set,
// and records each request's headers.
func newOrigin(t *testing.T, tls bool, h http.HandlerFunc) *origin {
	t.Helper()
	o := &origin{}
	rec := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		o.mu.Lock()
		o.reqs = append(o.reqs, r.Header.Clone())
		o.mu.Unlock()
		h(w, r)
	})
	if tls {
		o.Server = httptest.NewTLSServer(rec)
	} else {
		o.Server = httptest.NewServer(rec)
	}
	t.Cleanup(o.Close)
	return o
}

// testOptions fetch into a fresh cache with o's client, short limits and
// a fake clock; sleeps are recorded in *waits, not slept.
func testOptions(t *testing.T, o *origin, waits *[]time.Duration) Options {
	t.Helper()
	var mu sync.Mutex
	now := t0
	return Options{
		Cache:     filepath.Join(t.TempDir(), "cache"),
		Client:    o.Client(),
		MaxBytes:  1 << 20,
		Timeout:   2 * time.Second,
		Retries:   2,
		Backoff:   10 * time.Millisecond,
		UserAgent: "calldir/test",
		Now: func() time.Time {
			mu.Lock()
			defer mu.Unlock()
			now = now.Add(time.Minute)
			return now
		},
		Sleep: func(ctx context.Context, d time.Duration) error {
			mu.Lock()
			defer mu.Unlock()
			if waits != nil {
				*waits = append(*waits, d)
			}
			return ctx.Err()
		},
	}
}

func mustFetch(t *testing.T, opts Options, src Source) *Result {
	t.Helper()
	r, err := Fetch(context.Background(), opts, src)
	if err != nil {
		t.Fatalf("Fetch(%s): %v", src.URL, err)
	}
	return r
}

// mustFail fetches and wants an *Error.
func mustFail(t *testing.T, opts Options, src Source) *Error {
	t.Helper()
	r, err := Fetch(context.Background(), opts, src)
	if err == nil {
		t.Fatalf("Fetch(%s) = %+v, want an error", src.URL, r)
	}
	var fe *Error
	if !errors.As(err, &fe) {
		t.Fatalf("Fetch(%s) error %T %q, want a *fetch.Error", src.URL, err, err)
	}
	if fe.URL != src.URL {
		t.Errorf("error names %q, want %q", fe.URL, src.URL)
	}
	return fe
}

func sum(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

func mustRead(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// mustIndex reads the cache's index.
func mustIndex(t *testing.T, dir string) *index {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, IndexName))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	x, err := readIndex(f)
	if err != nil {
		t.Fatalf("index: %v", err)
	}
	return x
}

// names lists the cache directory.
func names(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var ns []string
	for _, e := range ents {
		ns = append(ns, e.Name())
	}
	return ns
}

// serveList answers every request with body as text/plain and an ETag,
// or 304 when the request's If-None-Match is that ETag.
func serveList(body *string, mu *sync.Mutex) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		b := *body
		mu.Unlock()
		etag := `"` + sum(b)[:16] + `"`
		if r.Header.Get("If-None-Match") == etag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("ETag", etag)
		w.Header().Set("Last-Modified", "Sat, 01 Mar 2025 10:00:00 GMT")
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte(b))
	}
}
