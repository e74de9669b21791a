// Package fetch gets the sources calldir.toml gives by URL into a cache,
// and says where each is, with its SHA-256, for the compiler to read as
// a file. Nothing it fetches is written anywhere but the cache; every
// write goes through shard/outfs (docs/SOURCES.md).
//
//	Fetch(ctx, opts, Source{URL, SHA256 pin, Optional})
//	  │  Validate: http(s), a host, a 64-hex pin      ──▶ plain error (configuration)
//	  ▼
//	lock the cache (outfs.LockCache: flock, CacheMark proves it calldir's)
//	  │  remove loose bodies an earlier run left
//	  │  the URL's entry: body there, size and SHA-256 as recorded? else a miss, said
//	  ├── --offline ──▶ the entry, or *Error{ErrNotCached}
//	  ▼
//	attempt (deadline Timeout for headers and the whole body)
//	  │  GET, User-Agent, If-None-Match / If-Modified-Since when cached
//	  │  redirect to another scheme                   ──▶ refused
//	  │  304 ──▶ the cached body
//	  │  200 ──▶ stream to an outfs.Addition, hashing; stop past MaxBytes
//	  │          not a list (HTML, XML, binary)        ──▶ refused
//	  │          SHA-256 ≠ pin                         ──▶ refused, not cached
//	  │          store: list the body loose, link sha256-<hex>[.ext],
//	  │                 point the entry at it, remove the old body
//	  │  timeout, connection error, cut body, 5xx     ──▶ wait Backoff·2ⁿ, again
//	  │                                                   (Retries times)
//	  ▼
//	*Result{Path, SHA256, Size, FetchedAt, FromCache, NotModified, Warnings}
//
// A source that cannot be had is an *Error, which the CLI maps to its own
// exit status (a scheduled job keeps yesterday's list); an optional
// source's *Error says Optional, and the caller leaves it out.
package fetch
