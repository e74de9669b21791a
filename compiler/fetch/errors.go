package fetch

import (
	"errors"
	"fmt"
)

// Error is a source that could not be had: not fetched, over its size
// limit, failing its pin, not a list, or (offline) not in the cache. It
// fails the build with the fetch-failure exit status, unless the source
// is optional: Fetch never skips a source itself, it reports Optional so
// that the caller leaves the source out with a warning (the shrink guard
// still applies). A broken cache directory, an interrupted run or a bad
// Source are other errors, not an *Error.
type Error struct {
	URL      string
	Op       string // "fetch" (network, HTTP, size, content), "verify" (pin), "offline" (cache only)
	Err      error  // the cause; with retries, the last attempt's
	Attempts int    // requests made (0 offline)
	Optional bool   // the source says optional = true
}

func (e *Error) Error() string {
	s := e.Op + " " + e.URL + ": "
	if e.Attempts > 1 {
		s += fmt.Sprintf("after %d attempts: ", e.Attempts)
	}
	return s + e.Err.Error()
}

func (e *Error) Unwrap() error { return e.Err }

// The causes an *Error wraps, for errors.Is and errors.As.
var (
	// ErrNotCached is an offline fetch of a URL the cache does not hold
	// (or holds damaged).
	ErrNotCached = errors.New("not in the cache; run once without --offline")
	// ErrTruncated is a body that ended before its Content-Length.
	ErrTruncated = errors.New("body truncated")
	// ErrTimeout is an attempt that did not finish (headers and the whole
	// body) within Options.Timeout.
	ErrTimeout = errors.New("timed out")
)

// StatusError is a response other than 200 (or 304 to a conditional
// request).
type StatusError struct {
	Code   int
	Status string // "503 Service Unavailable"
}

func (e *StatusError) Error() string { return "server answered " + e.Status }

// TooLargeError is a body over the size limit: said by its Content-Length
// (Announced) or seen while reading.
type TooLargeError struct {
	Limit     int64 // bytes
	Announced int64 // the Content-Length, or -1 when the body ran over
}

func (e *TooLargeError) Error() string {
	if e.Announced >= 0 {
		return fmt.Sprintf("body of %d bytes is over the limit of %d bytes", e.Announced, e.Limit)
	}
	return fmt.Sprintf("body is over the limit of %d bytes", e.Limit)
}

// NotListError is a body that is not a number list: an HTML page (a
// portal's or a proxy's error page served with 200), an XML document, or
// binary data.
type NotListError struct {
	What string // "an HTML page (Content-Type text/html)"
}

func (e *NotListError) Error() string { return "returned " + e.What + ", not a number list" }

// PinError is a body whose SHA-256 is not the source's pin.
type PinError struct {
	Got, Want string // lowercase hex
}

func (e *PinError) Error() string {
	return fmt.Sprintf("SHA-256 is %s, the pin is %s (the list changed; check it and update sha256)", e.Got, e.Want)
}

// RedirectError is a redirect calldir refuses: to another scheme
// (https to http downgrades; http to https changes what the pin and the
// warning were about), or one too many.
type RedirectError struct {
	To     string
	Reason string
}

func (e *RedirectError) Error() string { return "redirected to " + e.To + ": " + e.Reason }
