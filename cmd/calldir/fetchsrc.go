package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/calldir/calldir/compiler"
	"github.com/calldir/calldir/compiler/fetch"
)

// urlSources are the [[source]] and [[allow]] entries of a configuration
// given by url: compile fetches them into the cache (--cache, --offline)
// once every path of the run is checked, and reads the cached copies
// under their URLs (docs/SOURCES.md).
type urlSources struct {
	cache   string
	offline bool
	specs   map[string]fetch.Source // by URL
	fetched []summaryFetched        // what fetchFunc did, for --format json
}

// fetchLater marks cs, read from s, as a source to fetch: it is named by
// its URL and has no path until fetched.
func (o *compileOpts) fetchLater(cs *compiler.Source, s configSource) {
	if s.URL == "" {
		return
	}
	cs.Path, cs.Name = "", s.URL
	if o.urls.specs == nil {
		o.urls.specs = map[string]fetch.Source{}
	}
	spec := fetch.Source{URL: s.URL, SHA256: s.SHA256, Optional: s.Optional}
	if old, ok := o.urls.specs[s.URL]; ok {
		// The same URL twice: one fetch, pinned if either pins it, and
		// optional only if both say so.
		if spec.SHA256 == "" {
			spec.SHA256 = old.SHA256
		}
		spec.Optional = spec.Optional && old.Optional
	}
	o.urls.specs[s.URL] = spec
}

// cacheDir is the cache the run declares and fetches into; "" without
// URL sources.
func (u *urlSources) cacheDir() (string, error) {
	if len(u.specs) == 0 || u.cache != "" {
		return u.cache, nil
	}
	dir, err := fetch.DefaultCacheDir()
	if err != nil {
		return "", usageError{err}
	}
	u.cache = dir
	return dir, nil
}

// fetchFunc is the compiler.Job's Fetch: each URL fetched once, in the
// order the configuration gives them; a line per URL on w (its SHA-256,
// size and fetch time) unless quiet. An optional source that fails is
// left out with a warning; any other failure fails the run with a
// *fetch.Error (exit status 3).
func (u *urlSources) fetchFunc(w io.Writer, quiet bool, now func() time.Time) func(context.Context, *compiler.Options) error {
	if len(u.specs) == 0 {
		return nil
	}
	return func(ctx context.Context, opts *compiler.Options) error {
		fo := fetch.Options{Cache: u.cache, Offline: u.offline, UserAgent: fetch.UserAgent(Version), Now: now}
		got := map[string]string{} // URL → cached path; absent: left out
		for _, s := range slices.Concat(opts.Sources, opts.Allow) {
			spec, ok := u.specs[s.Name]
			if s.Path != "" || !ok {
				continue
			}
			if _, done := got[s.Name]; done {
				continue
			}
			res, err := fetch.Fetch(ctx, fo, spec)
			if err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				if spec.Optional {
					fmt.Fprintf(w, "calldir: warning: optional source left out: %v\n", err)
					got[s.Name] = ""
					u.fetched = append(u.fetched, summaryFetched{URL: s.Name, LeftOut: err.Error()})
					continue
				}
				u.fetched = append(u.fetched, summaryFetched{URL: s.Name, Failed: err.Error()})
				return err
			}
			for _, m := range res.Warnings { // each names the URL
				fmt.Fprintf(w, "calldir: warning: %s\n", m)
			}
			if !quiet {
				fmt.Fprintf(w, "calldir: %s: sha256 %s, %s bytes, fetched %s%s\n", s.Name, res.SHA256,
					group(res.Size), res.FetchedAt.UTC().Format(time.RFC3339), fetchHow(res))
			}
			got[s.Name] = res.Path
			u.fetched = append(u.fetched, summaryFetched{URL: s.Name, SHA256: res.SHA256, Bytes: res.Size,
				FetchedAt: res.FetchedAt.UTC().Format(time.RFC3339), From: fetchFrom(res)})
		}
		opts.Sources = fillFetched(w, "input", opts.Sources, got)
		opts.Allow = fillFetched(w, "allowlist", opts.Allow, got)
		if len(opts.Sources) == 0 && len(opts.Ranges) == 0 {
			var left []string
			for _, f := range u.fetched {
				if f.LeftOut != "" {
					left = append(left, f.URL)
				}
			}
			return &leftOutError{left}
		}
		return nil
	}
}

// leftOutError is a build whose every source was optional and could not
// be fetched: nothing is left to build from, and the cause is the fetch
// (exit status 3: keep the last build, retry later), not the
// configuration.
type leftOutError struct{ urls []string }

func (e *leftOutError) Error() string {
	return fmt.Sprintf("no source left to build from: every one was optional and could not be fetched (%s)", strings.Join(e.urls, ", "))
}

// fetchHow says, for the summary line, where a body came from when not
// fresh from the network.
func fetchHow(r *fetch.Result) string {
	if from := fetchFrom(r); from != "network" {
		return " (" + from + ")"
	}
	return ""
}

// fetchFrom names where a fetched body came from, for --format json.
func fetchFrom(r *fetch.Result) string {
	switch {
	case r.NotModified:
		return "not-modified"
	case r.FromCache:
		return "cache"
	}
	return "network"
}

// fillFetched gives each source fetched its cached path, leaves out those
// that an optional failure left without one, and reads a URL given twice
// with the same options once, saying so (as a file given twice is). It
// returns a new slice: the caller's is left as it was.
func fillFetched(w io.Writer, role string, srcs []compiler.Source, got map[string]string) []compiler.Source {
	var out []compiler.Source
next:
	for _, s := range srcs {
		if p, ok := got[s.Name]; ok && s.Path == "" {
			if p == "" {
				continue
			}
			s.Path = p
			for _, k := range out {
				if k.Name == s.Name && sameOptions(k, s) {
					warnGivenTwice(w, role, s.Name)
					continue next
				}
			}
		}
		out = append(out, s)
	}
	return out
}
