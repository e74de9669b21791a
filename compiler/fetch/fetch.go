package fetch

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Defaults for the zero Options.
const (
	DefaultMaxBytes = 256 << 20        // bytes a body may have: ~20 million numbers as text
	DefaultTimeout  = 5 * time.Minute  // one attempt: connection, headers and the whole body
	DefaultRetries  = 3                // attempts after the first, on timeouts, connection errors and 5xx
	DefaultBackoff  = 1 * time.Second  // the first wait before a retry, doubled each time
	maxBackoff      = 30 * time.Second // the longest wait between attempts
	maxRedirects    = 10
)

// Options are how Fetch fetches and caches. The zero value fetches with
// the defaults into DefaultCacheDir.
type Options struct {
	Cache    string        // the cache directory (--cache); "" is DefaultCacheDir()
	Offline  bool          // use the cache only (--offline): no request is made
	MaxBytes int64         // body size limit in bytes; 0 is DefaultMaxBytes
	Timeout  time.Duration // per attempt, body included; 0 is DefaultTimeout
	Retries  int           // attempts after the first; 0 is DefaultRetries, negative is none
	Backoff  time.Duration // first wait between attempts, doubled after each; 0 is DefaultBackoff
	// UserAgent is sent with every request; "" is UserAgent("devel").
	UserAgent string
	// Client makes the requests; nil is a client with the environment's
	// proxy (HTTP_PROXY, HTTPS_PROXY, NO_PROXY). Fetch applies its own
	// redirect policy to a copy of it.
	Client *http.Client
	// Now and Sleep stand in for the clock in tests; nil is time.Now and
	// a timer that ends early when ctx does.
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
}

// UserAgent is the User-Agent header naming calldir and its version.
func UserAgent(version string) string {
	return "calldir/" + version + " (+https://github.com/calldir/calldir)"
}

// DefaultCacheDir is where sources are cached without --cache: the user
// cache directory's calldir/sources ($XDG_CACHE_HOME or ~/.cache on
// Linux, ~/Library/Caches on macOS).
func DefaultCacheDir() (string, error) {
	dir, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("no cache directory (give --cache): %w", err)
	}
	return filepath.Join(dir, "calldir", "sources"), nil
}

// Source is a [[source]] with url in calldir.toml.
type Source struct {
	URL      string // http:// or https://
	SHA256   string // the pin: 64 hex digits, or "" for none
	Optional bool   // a failure leaves the source out instead of failing the build
}

// Validate checks a source as configured: an http or https URL with a
// host, and a pin (if any) of 64 hex digits. Its errors are configuration
// errors, not fetch failures.
func (s Source) Validate() error {
	u, err := url.Parse(s.URL)
	if err != nil {
		return fmt.Errorf("source url %q: %w", s.URL, errors.Unwrap(err))
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("source url %q: scheme %q; want https:// (or http://)", s.URL, u.Scheme)
	}
	if u.Host == "" {
		return fmt.Errorf("source url %q: no host", s.URL)
	}
	if u.User != nil {
		return fmt.Errorf("source url %q: credentials in a URL would be recorded in the manifest; refusing", u.Redacted())
	}
	if s.SHA256 != "" && !hexRE.MatchString(strings.ToLower(s.SHA256)) {
		return fmt.Errorf("source %s: sha256 %q is not 64 hex digits", s.URL, s.SHA256)
	}
	return nil
}

// Result is a source had, from the network or the cache.
type Result struct {
	// Path is the cached body: a read-only file in the cache, named by
	// its SHA-256 and the URL's extension (sha256-<hex>.csv), for the
	// compiler to read as the source's path. It stays until a later fetch
	// of the same URL replaces it.
	Path      string
	SHA256    string    // lowercase hex of the body: the manifest records it with the URL
	Size      int64     // bytes
	FetchedAt time.Time // when the server last gave or confirmed it (200 or 304): the summary records it
	// FromCache is a body that was not downloaded this time: offline, or
	// NotModified (the server answered 304 to a conditional request).
	FromCache   bool
	NotModified bool
	Attempts    int      // requests made (0 offline)
	Warnings    []string // http:// without a pin, a damaged cache entry, failed attempts before success
}

// Fetch gets src's list into the cache and returns where it is. See the
// package documentation for the flow. A source that cannot be had is an
// *Error; a bad src, a cache directory that is not calldir's or cannot be
// written, and ctx's end are other errors.
func Fetch(ctx context.Context, opts Options, src Source) (*Result, error) {
	if err := src.Validate(); err != nil {
		return nil, err
	}
	src.SHA256 = strings.ToLower(src.SHA256)
	o := opts.withDefaults()
	dir := o.Cache
	if dir == "" {
		d, err := DefaultCacheDir()
		if err != nil {
			return nil, err
		}
		dir = d
	}
	var warnings []string
	if strings.HasPrefix(src.URL, "http://") && src.SHA256 == "" {
		warnings = append(warnings, fmt.Sprintf("source %s is fetched over plain http:// without a sha256 pin: anyone on the path can change the list", src.URL))
	}
	c, err := openCache(dir, !o.Offline)
	if err != nil {
		return nil, err
	}
	defer c.close()
	var res *Result
	if o.Offline {
		res, err = c.offline(src)
	} else {
		res, err = c.online(ctx, &o, src)
	}
	if err != nil {
		var fe *Error
		if errors.As(err, &fe) {
			fe.Optional = src.Optional
		}
		return nil, err
	}
	res.Warnings = append(warnings, res.Warnings...)
	return res, nil
}

func (o Options) withDefaults() Options {
	if o.MaxBytes <= 0 {
		o.MaxBytes = DefaultMaxBytes
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	switch {
	case o.Retries == 0:
		o.Retries = DefaultRetries
	case o.Retries < 0:
		o.Retries = 0
	}
	if o.Backoff <= 0 {
		o.Backoff = DefaultBackoff
	}
	if o.UserAgent == "" {
		o.UserAgent = UserAgent("devel")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Sleep == nil {
		o.Sleep = sleep
	}
	return o
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
