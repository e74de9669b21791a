package fetch

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestFetchStores(t *testing.T) {
	body, mu := list, &sync.Mutex{}
	o := newOrigin(t, true, serveList(&body, mu))
	opts := testOptions(t, o, nil)
	src := Source{URL: o.URL + "/lists/Block.CSV"}
	r := mustFetch(t, opts, src)

	if got := mustRead(t, r.Path); got != list {
		t.Errorf("body %q, want %q", got, list)
	}
	wantName := "sha256-" + sum(list) + ".csv"
	if r.Path != filepath.Join(opts.Cache, wantName) || r.SHA256 != sum(list) || r.Size != int64(len(list)) {
		t.Errorf("result %s %s %d, want %s %s %d", r.Path, r.SHA256, r.Size, wantName, sum(list), len(list))
	}
	if !r.FetchedAt.Equal(t0.Add(time.Minute)) || r.FromCache || r.NotModified || r.Attempts != 1 || len(r.Warnings) != 0 {
		t.Errorf("result %+v", r)
	}
	fi, err := os.Stat(r.Path)
	if err != nil || fi.Mode().Perm() != 0o444 {
		t.Errorf("body mode %v (%v), want read-only 0444", fi.Mode(), err)
	}
	x := mustIndex(t, opts.Cache)
	if len(x.Entries) != 1 || x.Entries[0].Body != wantName || x.Entries[0].ETag == "" || len(x.Loose) != 0 {
		t.Errorf("index %+v", x)
	}
	if got, want := names(t, opts.Cache), []string{tagName, IndexName, wantName}; !slices.Equal(got, want) {
		t.Errorf("cache holds %q, want %q", got, want)
	}
	if !strings.HasPrefix(mustRead(t, filepath.Join(opts.Cache, tagName)), "Signature: 8a477f597d28d172789f06886806bc55") {
		t.Error("CACHEDIR.TAG lacks the signature")
	}
}

func TestUserAgent(t *testing.T) {
	for _, tc := range []struct{ opt, want string }{
		{"calldir/0.1.0 (+x)", "calldir/0.1.0 (+x)"},
		{"", "calldir/devel (+https://github.com/calldir/calldir)"},
	} {
		body, mu := list, &sync.Mutex{}
		o := newOrigin(t, true, serveList(&body, mu))
		opts := testOptions(t, o, nil)
		opts.UserAgent = tc.opt
		mustFetch(t, opts, Source{URL: o.URL + "/l.txt"})
		if got := o.requests()[0].Get("User-Agent"); got != tc.want {
			t.Errorf("User-Agent %q, want %q", got, tc.want)
		}
	}
}

func TestNotModified(t *testing.T) {
	body, mu := list, &sync.Mutex{}
	o := newOrigin(t, true, serveList(&body, mu))
	opts := testOptions(t, o, nil)
	src := Source{URL: o.URL + "/l.txt"}
	first := mustFetch(t, opts, src)
	second := mustFetch(t, opts, src)

	reqs := o.requests()
	if len(reqs) != 2 || reqs[0].Get("If-None-Match") != "" {
		t.Fatalf("requests %v", reqs)
	}
	if reqs[1].Get("If-None-Match") == "" || reqs[1].Get("If-Modified-Since") != "Sat, 01 Mar 2025 10:00:00 GMT" {
		t.Errorf("second request not conditional: %v", reqs[1])
	}
	if !second.NotModified || !second.FromCache || second.Path != first.Path || second.SHA256 != first.SHA256 {
		t.Errorf("second %+v, want the first's body, not modified", second)
	}
	if !second.FetchedAt.After(first.FetchedAt) {
		t.Errorf("a 304 should renew the fetch time: %v then %v", first.FetchedAt, second.FetchedAt)
	}
	if e := mustIndex(t, opts.Cache).Entries[0]; !e.FetchedAt.Equal(second.FetchedAt) {
		t.Errorf("index fetched_at %v, want %v", e.FetchedAt, second.FetchedAt)
	}

	// A changed list: 200, the new body current, the old one removed.
	mu.Lock()
	body = list + "+15550103\n"
	mu.Unlock()
	third := mustFetch(t, opts, src)
	if third.NotModified || third.SHA256 != sum(body) {
		t.Fatalf("third %+v", third)
	}
	if _, err := os.Stat(first.Path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("old body %s still there (%v)", first.Path, err)
	}
	if got := names(t, opts.Cache); len(got) != 3 {
		t.Errorf("cache holds %q, want the tag, the index and one body", got)
	}
}

// A 304 to a request that was not conditional is the server's error.
func TestNotModifiedUnasked(t *testing.T) {
	o := newOrigin(t, true, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNotModified) })
	fe := mustFail(t, testOptions(t, o, nil), Source{URL: o.URL + "/l.txt"})
	var se *StatusError
	if !errors.As(fe, &se) || se.Code != 304 || fe.Attempts != 1 {
		t.Errorf("error %v, want 304 unasked, not retried", fe)
	}
}

func TestRetry(t *testing.T) {
	for _, tc := range []struct {
		name     string
		failures int // 5xx answers before a 200
		code     int
		retries  int
		attempts int // requests made
		ok       bool
	}{
		{"5xx then 200", 2, 503, 2, 3, true},
		{"5xx every time", 9, 500, 2, 3, false},
		{"no retries", 9, 502, -1, 1, false},
		{"4xx not retried", 9, 404, 2, 1, false},
		{"429 not retried", 9, 429, 2, 1, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var n atomic.Int32
			o := newOrigin(t, true, func(w http.ResponseWriter, r *http.Request) {
				if n.Add(1) <= int32(tc.failures) {
					http.Error(w, "busy", tc.code)
					return
				}
				w.Write([]byte(list))
			})
			var waits []time.Duration
			opts := testOptions(t, o, &waits)
			opts.Retries = tc.retries
			r, err := Fetch(context.Background(), opts, Source{URL: o.URL + "/l.txt"})
			if got := int(n.Load()); got != tc.attempts {
				t.Errorf("%d requests, want %d", got, tc.attempts)
			}
			wantWaits := []time.Duration{10 * time.Millisecond, 20 * time.Millisecond}[:tc.attempts-1]
			if !slices.Equal(waits, wantWaits) {
				t.Errorf("waits %v, want %v", waits, wantWaits)
			}
			if tc.ok {
				if err != nil || r.Attempts != tc.attempts || len(r.Warnings) != tc.attempts-1 {
					t.Fatalf("got %+v, %v", r, err)
				}
				if !strings.Contains(r.Warnings[0], "503 Service Unavailable (attempt 1 of 3); retried after 10ms") {
					t.Errorf("warning %q", r.Warnings[0])
				}
				return
			}
			var fe *Error
			var se *StatusError
			if !errors.As(err, &fe) || !errors.As(err, &se) || se.Code != tc.code || fe.Attempts != tc.attempts {
				t.Fatalf("error %v, want %d after %d attempts", err, tc.code, tc.attempts)
			}
			if tc.attempts > 1 && !strings.Contains(fe.Error(), fmt.Sprintf("after %d attempts: server answered %d", tc.attempts, tc.code)) {
				t.Errorf("error %q does not report the last error", fe)
			}
		})
	}
}

func TestBackoffCapped(t *testing.T) {
	o := newOrigin(t, true, func(w http.ResponseWriter, r *http.Request) { http.Error(w, "down", http.StatusServiceUnavailable) })
	var waits []time.Duration
	opts := testOptions(t, o, &waits)
	opts.Retries, opts.Backoff = 8, 4*time.Second
	mustFail(t, opts, Source{URL: o.URL + "/l.txt"})
	want := []time.Duration{4, 8, 16, 30, 30, 30, 30, 30}
	for i := range want {
		want[i] *= time.Second
	}
	if !slices.Equal(waits, want) {
		t.Errorf("waits %v, want %v", waits, want)
	}
}

// An interrupt while waiting to retry ends the fetch with ctx's error, not
// a fetch failure.
func TestInterruptedWhileWaiting(t *testing.T) {
	o := newOrigin(t, true, func(w http.ResponseWriter, r *http.Request) { http.Error(w, "down", http.StatusServiceUnavailable) })
	opts := testOptions(t, o, nil)
	ctx, cancel := context.WithCancel(context.Background())
	opts.Sleep = func(context.Context, time.Duration) error { cancel(); return context.Canceled }
	_, err := Fetch(ctx, opts, Source{URL: o.URL + "/l.txt"})
	var fe *Error
	if !errors.Is(err, context.Canceled) || errors.As(err, &fe) {
		t.Errorf("error %v, want context.Canceled and no *Error", err)
	}
}

// A body trickling past the deadline fails, and is retried: the timeout
// covers the whole download, not only the headers.
func TestSlow(t *testing.T) {
	var n atomic.Int32
	o := newOrigin(t, true, func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		w.Header().Set("Content-Length", "1000")
		for i := 0; i < 1000; i++ {
			if _, err := w.Write([]byte("\n")); err != nil {
				return
			}
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	})
	opts := testOptions(t, o, nil)
	opts.Timeout, opts.Retries = 150*time.Millisecond, 1
	start := time.Now()
	fe := mustFail(t, opts, Source{URL: o.URL + "/l.txt"})
	if !errors.Is(fe, ErrTimeout) || fe.Attempts != 2 || n.Load() != 2 {
		t.Errorf("error %v after %d requests, want a timeout after 2", fe, n.Load())
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("took %v", d)
	}
	if got := names(t, opts.Cache); len(got) != 2 {
		t.Errorf("cache holds %q, want the index and tag only", got)
	}
}

// A body cut short fails (retried: the connection broke) and leaves the
// cache as it was.
func TestTruncated(t *testing.T) {
	for _, tc := range []struct{ name, resp string }{
		{"content-length", "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\nContent-Type: text/plain\r\n\r\n+15550100\n"},
		{"chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: text/plain\r\n\r\na\r\n+15550100\n\r\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var n atomic.Int32
			o := newOrigin(t, true, func(w http.ResponseWriter, r *http.Request) {
				if n.Add(1) == 1 {
					w.Header().Set("ETag", `"v1"`)
					w.Write([]byte(list))
					return
				}
				conn, buf, err := w.(http.Hijacker).Hijack()
				if err != nil {
					t.Error(err)
					return
				}
				buf.WriteString(tc.resp)
				buf.Flush()
				conn.Close()
			})
			opts := testOptions(t, o, nil)
			src := Source{URL: o.URL + "/l.txt"}
			v1 := mustFetch(t, opts, src)
			before := names(t, opts.Cache)
			indexBefore := mustRead(t, filepath.Join(opts.Cache, IndexName))

			fe := mustFail(t, opts, src)
			if !errors.Is(fe, ErrTruncated) || fe.Attempts != 3 {
				t.Errorf("error %v, want truncated after 3 attempts", fe)
			}
			if got := names(t, opts.Cache); !slices.Equal(got, before) {
				t.Errorf("cache holds %q, had %q", got, before)
			}
			if mustRead(t, filepath.Join(opts.Cache, IndexName)) != indexBefore || mustRead(t, v1.Path) != list {
				t.Error("a failed fetch changed the cache")
			}
		})
	}
}

func TestOversized(t *testing.T) {
	const limit = 1000
	for _, tc := range []struct {
		name      string
		h         http.HandlerFunc
		announced int64 // -1: seen while reading; 0: no error
	}{
		{"content-length", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", "5000")
			w.Write([]byte(strings.Repeat("+15550100\n", 500)))
		}, 5000},
		{"endless chunked", func(w http.ResponseWriter, r *http.Request) {
			for r.Context().Err() == nil {
				if _, err := w.Write([]byte("+15550100\n")); err != nil {
					return
				}
			}
		}, -1},
		{"one byte over", func(w http.ResponseWriter, r *http.Request) {
			w.(http.Flusher).Flush() // chunked: no Content-Length
			w.Write([]byte(strings.Repeat("1", limit+1)))
		}, -1},
		{"at the limit", func(w http.ResponseWriter, r *http.Request) {
			w.(http.Flusher).Flush()
			w.Write([]byte(strings.Repeat("1", limit)))
		}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := newOrigin(t, true, tc.h)
			opts := testOptions(t, o, nil)
			opts.MaxBytes = limit
			src := Source{URL: o.URL + "/l.txt"}
			if tc.announced == 0 {
				if r := mustFetch(t, opts, src); r.Size != limit {
					t.Errorf("size %d", r.Size)
				}
				return
			}
			fe := mustFail(t, opts, src)
			var te *TooLargeError
			if !errors.As(fe, &te) || te.Limit != limit || te.Announced != tc.announced || fe.Attempts != 1 {
				t.Fatalf("error %v, want over %d (announced %d), not retried", fe, limit, tc.announced)
			}
			if got := names(t, opts.Cache); len(got) != 2 {
				t.Errorf("cache holds %q", got)
			}
		})
	}
}

func TestRedirect(t *testing.T) {
	plain := newOrigin(t, false, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/to-https" {
			http.Redirect(w, r, r.URL.Query().Get("u"), http.StatusFound)
			return
		}
		w.Write([]byte(list))
	})
	var loops atomic.Int32
	secure := newOrigin(t, true, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/to-http":
			http.Redirect(w, r, plain.URL+"/l.txt", http.StatusMovedPermanently)
		case "/moved":
			http.Redirect(w, r, "/l.txt", http.StatusMovedPermanently)
		case "/loop":
			loops.Add(1)
			http.Redirect(w, r, "/loop", http.StatusFound)
		default:
			w.Write([]byte(list))
		}
	})
	for _, tc := range []struct {
		name, url string
		refused   string // in the RedirectError, "" for a fetch that works
	}{
		{"https to https", secure.URL + "/moved", ""},
		{"https to http", secure.URL + "/to-http", "from https to http"},
		{"http to https", plain.URL + "/to-https?u=" + secure.URL + "/l.txt", "from http to https"},
		{"loop", secure.URL + "/loop", "stopped after 10 redirects"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := testOptions(t, secure, nil) // its client trusts the TLS server and speaks http too
			src := Source{URL: tc.url, SHA256: sum(list)}
			if tc.refused == "" {
				mustFetch(t, opts, src)
				return
			}
			fe := mustFail(t, opts, src)
			var re *RedirectError
			if !errors.As(fe, &re) || !strings.Contains(re.Reason, tc.refused) || fe.Attempts != 1 {
				t.Fatalf("error %v, want a refused redirect (%s), not retried", fe, tc.refused)
			}
			if tc.name == "loop" && loops.Load() != 10 {
				t.Errorf("%d requests in the loop, want 10 (the 10th redirect refused, as net/http does)", loops.Load())
			}
		})
	}
}

func TestNotAListFetched(t *testing.T) {
	for _, tc := range []struct{ name, ctype, body, want string }{
		{"html content type", "text/html; charset=utf-8", list, "an HTML page (Content-Type text/html)"},
		{"html body", "text/plain", "\n  <!DOCTYPE html><html><body>Sign in</body></html>", "an HTML page"},
		{"binary", "application/octet-stream", "\x00\x01\x02garbage", "binary data (application/octet-stream)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := newOrigin(t, true, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", tc.ctype)
				w.Write([]byte(tc.body))
			})
			opts := testOptions(t, o, nil)
			fe := mustFail(t, opts, Source{URL: o.URL + "/l.txt"})
			var ne *NotListError
			if !errors.As(fe, &ne) || ne.What != tc.want || fe.Attempts != 1 {
				t.Fatalf("error %v, want not a list: %s", fe, tc.want)
			}
			if !strings.HasSuffix(fe.Error(), "returned "+tc.want+", not a number list") {
				t.Errorf("message %q", fe)
			}
			if len(mustIndex(t, opts.Cache).Entries) != 0 {
				t.Error("a page that is not a list was cached")
			}
		})
	}
}

func TestPin(t *testing.T) {
	body, mu := list, &sync.Mutex{}
	o := newOrigin(t, true, serveList(&body, mu))
	opts := testOptions(t, o, nil)
	url := o.URL + "/l.txt"

	other := sum("something else")
	fe := mustFail(t, opts, Source{URL: url, SHA256: other})
	var pe *PinError
	if !errors.As(fe, &pe) || pe.Got != sum(list) || pe.Want != other || fe.Op != "verify" || fe.Attempts != 1 {
		t.Fatalf("error %v, want a pin mismatch", fe)
	}
	if got := names(t, opts.Cache); len(got) != 2 || len(mustIndex(t, opts.Cache).Entries) != 0 {
		t.Errorf("a body failing its pin was cached: %q", got)
	}

	r := mustFetch(t, opts, Source{URL: url, SHA256: strings.ToUpper(sum(list))})
	if r.SHA256 != sum(list) {
		t.Errorf("sha %s", r.SHA256)
	}
	// The cached body no longer matches a changed pin: the 304 does not
	// make it pass.
	fe = mustFail(t, opts, Source{URL: url, SHA256: other})
	if !errors.As(fe, &pe) || fe.Op != "verify" {
		t.Errorf("error %v after 304, want a pin mismatch", fe)
	}
	if reqs := o.requests(); reqs[len(reqs)-1].Get("If-None-Match") == "" {
		t.Error("want a conditional request")
	}
}

func TestPlainHTTPWarning(t *testing.T) {
	plain := newOrigin(t, false, func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(list)) })
	secure := newOrigin(t, true, func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(list)) })
	for _, tc := range []struct {
		url, pin string
		warn     bool
	}{
		{plain.URL + "/l.txt", "", true},
		{plain.URL + "/l.txt", sum(list), false},
		{secure.URL + "/l.txt", "", false},
	} {
		opts := testOptions(t, secure, nil)
		r := mustFetch(t, opts, Source{URL: tc.url, SHA256: tc.pin})
		warned := len(r.Warnings) == 1 && strings.Contains(r.Warnings[0], "plain http:// without a sha256 pin")
		if warned != tc.warn || len(r.Warnings) > 1 {
			t.Errorf("%s pin %q: warnings %q, want a warning: %v", tc.url, tc.pin, r.Warnings, tc.warn)
		}
	}
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct{ src Source }{
		{Source{URL: "ftp://example.com/l.txt"}},
		{Source{URL: "file:///etc/passwd"}},
		{Source{URL: "https:///l.txt"}},
		{Source{URL: "l.txt"}},
		{Source{URL: "https://user:secret@example.com/l.txt"}},
		{Source{URL: "https://example.com/l.txt", SHA256: "abc"}},
		{Source{URL: "https://example.com/l.txt", SHA256: strings.Repeat("g", 64)}},
		{Source{URL: "https://exa mple.com/"}},
	} {
		err := tc.src.Validate()
		if err == nil {
			t.Errorf("%+v: valid, want an error", tc.src)
			continue
		}
		if strings.Contains(err.Error(), "secret") {
			t.Errorf("error %q shows the password", err)
		}
		dir := filepath.Join(t.TempDir(), "cache")
		_, ferr := Fetch(context.Background(), Options{Cache: dir}, tc.src)
		var fe *Error
		if ferr == nil || errors.As(ferr, &fe) {
			t.Errorf("%+v: Fetch error %v, want a configuration error, not a fetch failure", tc.src, ferr)
		}
		if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("a bad source made the cache")
		}
	}
	if err := (Source{URL: "https://example.com/l.txt", SHA256: strings.ToUpper(sum(list))}).Validate(); err != nil {
		t.Errorf("valid source: %v", err)
	}
}

func TestOptionalReported(t *testing.T) {
	o := newOrigin(t, true, func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) })
	for _, optional := range []bool{false, true} {
		fe := mustFail(t, testOptions(t, o, nil), Source{URL: o.URL + "/l.txt", Optional: optional})
		if fe.Optional != optional {
			t.Errorf("Optional %v, want %v", fe.Optional, optional)
		}
	}
}

// Two fetches of one URL at once: the cache's lock serializes them, so
// the second makes a conditional request with what the first stored.
func TestConcurrent(t *testing.T) {
	body, mu := list, &sync.Mutex{}
	serve := serveList(&body, mu)
	o := newOrigin(t, true, func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(50 * time.Millisecond) // both would be in flight without the lock
		serve(w, r)
	})
	opts := testOptions(t, o, nil)
	src := Source{URL: o.URL + "/l.txt"}
	var wg sync.WaitGroup
	results := make([]*Result, 2)
	errs := make([]error, 2)
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = Fetch(context.Background(), opts, src)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	conditional := 0
	for _, h := range o.requests() {
		if h.Get("If-None-Match") != "" {
			conditional++
		}
	}
	if conditional != 1 || results[0].Path != results[1].Path {
		t.Errorf("%d conditional requests of 2, want 1; paths %s %s", conditional, results[0].Path, results[1].Path)
	}
}
