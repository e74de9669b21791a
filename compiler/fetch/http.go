package fetch

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"github.com/calldir/calldir/shard/outfs"
)

// defaultTransport is the standard library's, with the proxy the
// environment names (HTTP_PROXY, HTTPS_PROXY, NO_PROXY; requests to
// loopback addresses never go through one).
var defaultTransport = func() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.Proxy = http.ProxyFromEnvironment
	return t
}()

// newClient is base (or a client on defaultTransport) with calldir's
// redirect policy.
func newClient(base *http.Client) *http.Client {
	var c http.Client
	if base != nil {
		c = *base
	} else {
		c.Transport = defaultTransport
	}
	c.CheckRedirect = checkRedirect
	return &c
}

// checkRedirect follows a redirect only within the scheme of the URL as
// given: https to http would downgrade to a connection anyone can
// change, and http to https would fetch something other than what the
// configuration (and its pin, and the http warning) is about; the message
// says where the list is, to configure instead.
func checkRedirect(req *http.Request, via []*http.Request) error {
	to := req.URL.Redacted()
	if len(via) >= maxRedirects {
		return &RedirectError{To: to, Reason: fmt.Sprintf("stopped after %d redirects", maxRedirects)}
	}
	if from := via[0].URL.Scheme; req.URL.Scheme != from {
		return &RedirectError{To: to, Reason: fmt.Sprintf("calldir does not follow a redirect from %s to %s (if the list moved, give its new URL)", from, req.URL.Scheme)}
	}
	return nil
}

// online is Fetch from the network: attempts with backoff until one
// succeeds, fails for good, or none is left.
func (c *cache) online(ctx context.Context, o *Options, src Source) (*Result, error) {
	cached, why := c.lookup(src.URL)
	var warnings []string
	if why != "" {
		warnings = append(warnings, fmt.Sprintf("cached copy of %s not used: %s; fetching it whole", src.URL, why))
	}
	client := newClient(o.Client)
	for n := 1; ; n++ {
		res, retry, err := c.attempt(ctx, o, client, src, cached)
		if err == nil {
			res.Attempts = n
			res.Warnings = append(warnings, res.Warnings...)
			return res, nil
		}
		var fe *Error
		if !errors.As(err, &fe) {
			return nil, err // the cache, or ctx's end
		}
		fe.Attempts = n
		if !retry || n > o.Retries {
			return nil, fe
		}
		wait := o.Backoff << (n - 1)
		if wait > maxBackoff || wait <= 0 {
			wait = maxBackoff
		}
		warnings = append(warnings, fmt.Sprintf("%s (attempt %d of %d); retried after %s", fe, n, o.Retries+1, wait))
		if err := o.Sleep(ctx, wait); err != nil {
			return nil, fmt.Errorf("fetch %s: %w", src.URL, err)
		}
	}
}

// attempt makes one request. Its *Error says whether another attempt may
// help (retry): timeouts, connection errors, cut bodies and 5xx; never a
// 4xx, a refused redirect, a certificate, the size limit, the content or
// the pin. Other errors (the cache, ctx's end) end the fetch.
func (c *cache) attempt(ctx context.Context, o *Options, client *http.Client, src Source, cached *entry) (res *Result, retry bool, err error) {
	fail := func(op string, err error, retry bool) (*Result, bool, error) {
		return nil, retry, &Error{URL: src.URL, Op: op, Err: err}
	}
	actx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(actx, http.MethodGet, src.URL, nil)
	if err != nil {
		return fail("fetch", err, false)
	}
	req.Header.Set("User-Agent", o.UserAgent)
	req.Header.Set("Accept", "text/plain, text/csv, text/tab-separated-values, application/gzip;q=0.9, */*;q=0.5")
	if cached != nil {
		if cached.ETag != "" {
			req.Header.Set("If-None-Match", cached.ETag)
		}
		if cached.LastModified != "" {
			req.Header.Set("If-Modified-Since", cached.LastModified)
		}
	}
	resp, err := client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, false, fmt.Errorf("fetch %s: %w", src.URL, ctx.Err())
		}
		retry, err := transportError(actx, err, o)
		return fail("fetch", err, retry)
	}
	defer resp.Body.Close()
	switch code := resp.StatusCode; {
	case code == http.StatusNotModified && cached != nil:
		if src.SHA256 != "" && cached.SHA256 != src.SHA256 {
			return fail("verify", &PinError{Got: cached.SHA256, Want: src.SHA256}, false)
		}
		if err := c.touch(cached, resp.Header.Get("ETag"), resp.Header.Get("Last-Modified"), o.Now().UTC()); err != nil {
			return nil, false, err
		}
		r := c.result(cached)
		r.FromCache, r.NotModified = true, true
		return r, false, nil
	case code == http.StatusOK:
	case code >= 500:
		return fail("fetch", &StatusError{Code: code, Status: resp.Status}, true)
	default:
		return fail("fetch", &StatusError{Code: code, Status: resp.Status}, false)
	}
	if resp.ContentLength > o.MaxBytes {
		return fail("fetch", &TooLargeError{Limit: o.MaxBytes, Announced: resp.ContentLength}, false)
	}
	add, err := outfs.NewAddition(c.dir, downloadStem)
	if err != nil {
		return nil, false, fmt.Errorf("source cache: %w", err)
	}
	defer add.Discard() // a failure leaves the cache as it was
	body := &bodyReader{r: io.LimitReader(resp.Body, o.MaxBytes+1)}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(add, h), body)
	switch {
	case body.err != nil:
		if ctx.Err() != nil {
			return nil, false, fmt.Errorf("fetch %s: %w", src.URL, ctx.Err())
		}
		_, err := transportError(actx, body.err, o)
		return fail("fetch", fmt.Errorf("reading the body after %d bytes: %w", n, err), true)
	case err != nil:
		return nil, false, fmt.Errorf("source cache: write %s: %w", c.dir, err)
	case n > o.MaxBytes:
		return fail("fetch", &TooLargeError{Limit: o.MaxBytes, Announced: -1}, false)
	}
	if what := notList(resp.Header.Get("Content-Type"), add, n); what != "" {
		return fail("fetch", &NotListError{What: what}, false)
	}
	sum := hex.EncodeToString(h.Sum(nil))
	if src.SHA256 != "" && sum != src.SHA256 {
		return fail("verify", &PinError{Got: sum, Want: src.SHA256}, false)
	}
	u, _ := url.Parse(src.URL) // Validate parsed it
	e := entry{
		URL: src.URL, Body: bodyName(sum, u.Path), SHA256: sum, Size: n,
		ETag: resp.Header.Get("ETag"), LastModified: resp.Header.Get("Last-Modified"),
		FetchedAt: o.Now().UTC(),
	}
	if err := c.store(add, e); err != nil {
		return nil, false, err
	}
	return c.result(&e), false, nil
}

// bodyReader keeps the body's read error apart from the cache's write
// error, which io.Copy would mix.
type bodyReader struct {
	r   io.Reader
	err error
}

func (b *bodyReader) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err != nil && err != io.EOF {
		b.err = err
	}
	return n, err
}

// transportError says what a failed request or body read was, in words
// without the request line *url.Error adds, and whether to retry.
func transportError(actx context.Context, err error, o *Options) (retry bool, _ error) {
	var re *RedirectError
	var ce *tls.CertificateVerificationError
	switch {
	case errors.Is(actx.Err(), context.DeadlineExceeded):
		return true, fmt.Errorf("%w after %s (the whole download, body included)", ErrTimeout, o.Timeout)
	case errors.As(err, &re):
		return false, re
	case errors.As(err, &ce):
		return false, ce
	case errors.Is(err, io.ErrUnexpectedEOF):
		return true, fmt.Errorf("%w (the connection closed before the end)", ErrTruncated)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return true, err
}
