package channel

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/calldir/calldir/shard"
	"github.com/calldir/calldir/shard/outfs"
	"github.com/calldir/calldir/validate"
)

// FetchOptions bound the downloads of VerifyURL: an endless or slow stream
// (TUF's endless-data and slow-retrieval attacks) ends in a finding or an
// error, never an unbounded read. The caller's context carries the
// timeout.
type FetchOptions struct {
	Client   *http.Client // nil: http.DefaultClient
	MaxBytes int64        // most bytes of any one file (0: 1 GiB)
}

// IsURL reports whether src is an http or https URL, not a directory.
func IsURL(src string) bool {
	return strings.HasPrefix(src, "https://") || strings.HasPrefix(src, "http://")
}

// VerifyURL checks the channel served at base as Verify does: it
// downloads channel.json and, only once its signature verifies, the
// manifests it offers and, only once each matches its signed SHA-256, the
// files each names, each bounded by the size its manifest declares (or
// MaxBytes), into a scratch directory; then it runs Verify there and
// names the findings by URL.
func VerifyURL(ctx context.Context, base string, o VerifyOptions, fo FetchOptions) (*Report, error) {
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("verify-channel: %q is not an http(s) URL", base)
	}
	base = strings.TrimSuffix(base, "/")
	if fo.Client == nil {
		fo.Client = http.DefaultClient
	}
	if fo.MaxBytes <= 0 {
		fo.MaxBytes = maxFileBytes
	}
	scratch, remove, err := outfs.ScratchDir("calldir-verify-channel-")
	if err != nil {
		return nil, err
	}
	defer remove()
	f := &fetcher{ctx: ctx, base: base, dir: scratch, o: fo}
	data, err := f.get(PointerName, MaxPointerBytes)
	if err != nil {
		return nil, err // the pointer itself: nothing can be checked
	}
	if data != nil {
		if p, _, err := Open(data, o.Keys); err == nil {
			if err := f.offers(p); err != nil {
				return nil, err
			}
		}
	}
	r, err := Verify(ctx, scratch, o)
	if err != nil {
		return nil, err
	}
	r.Source = base
	for i := range r.Findings {
		r.Findings[i].File = f.display(r.Findings[i].File)
	}
	r.Findings = append(r.Findings, f.findings...)
	validate.Sort(r.Findings)
	return r, nil
}

type fetcher struct {
	ctx      context.Context
	base     string
	dir      string
	o        FetchOptions
	findings []validate.Finding
}

// display turns a path in the scratch directory into the URL it came from.
func (f *fetcher) display(p string) string {
	rel, err := filepath.Rel(f.dir, p)
	if err != nil || !filepath.IsLocal(rel) {
		return p
	}
	return f.base + "/" + filepath.ToSlash(rel)
}

// offers downloads every manifest p offers and the files of each that
// matches its signed SHA-256.
func (f *fetcher) offers(p *Pointer) error {
	for _, b := range p.Builds {
		mb, err := f.getSigned(b.ManifestPath(), b.ManifestSHA256)
		if err != nil || mb == nil {
			return err
		}
		m, err := shard.ReadManifest(bytes.NewReader(mb))
		if err != nil {
			continue // Verify reports it
		}
		for _, s := range m.Shards {
			if _, err := f.getFile(joinRel(BuildPath(b.ID), s.File), s.Size); err != nil {
				return err
			}
		}
	}
	for _, d := range p.Deltas {
		db, err := f.getSigned(d.ManifestPath(), d.ManifestSHA256)
		if err != nil || db == nil {
			return err
		}
		dm, err := shard.ReadDeltaManifest(bytes.NewReader(db))
		if err != nil {
			continue
		}
		for _, l := range deltaFiles(dm) {
			if _, err := f.getFile(joinRel(DeltaPath(d.Base, d.Target), l.File), -1); err != nil {
				return err
			}
		}
	}
	return nil
}

// getSigned downloads a manifest; it is returned only when it matches the
// SHA-256 the pointer signed (Verify reports a mismatch).
func (f *fetcher) getSigned(rel, sum string) ([]byte, error) {
	b, err := f.get(rel, shard.MaxManifestBytes)
	if err != nil || b == nil || sha256Hex(b) != sum {
		return nil, err
	}
	return b, nil
}

// getFile downloads a file a verified manifest names: at most its declared
// size and one byte more (so that Verify sees a longer file as changed),
// or MaxBytes when the manifest gives no size. A name that is not a plain
// relative path is skipped: validate reports it.
func (f *fetcher) getFile(rel string, size int64) ([]byte, error) {
	for _, el := range strings.Split(rel, "/") {
		if !filepath.IsLocal(el) || strings.ContainsAny(el, `\`) {
			return nil, nil
		}
	}
	limit := f.o.MaxBytes
	if size >= 0 && size < limit {
		limit = size + 1
	}
	return f.get(rel, limit)
}

// get downloads base/rel into the scratch directory and returns its bytes:
// nil for a file the server does not have (404, 410: Verify reports it
// missing). A file above limit bytes, or another HTTP status, is a fetch
// finding for a file of the channel and an error for channel.json.
func (f *fetcher) get(rel string, limit int64) ([]byte, error) {
	u := f.base + "/" + escapePath(rel)
	req, err := http.NewRequestWithContext(f.ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := f.o.Client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", u, netCause(err))
	}
	defer resp.Body.Close()
	fail := func(format string, a ...any) ([]byte, error) {
		if rel == PointerName {
			return nil, fmt.Errorf("fetch %s: %s", u, fmt.Sprintf(format, a...))
		}
		f.findings = append(f.findings, validate.Finding{Kind: KindFetch, File: u, Message: fmt.Sprintf(format, a...)})
		return nil, nil
	}
	switch {
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusGone:
		return nil, nil
	case resp.StatusCode != http.StatusOK:
		return fail("HTTP status %s", resp.Status)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(f.ctx.Err(), context.DeadlineExceeded) {
			return nil, fmt.Errorf("fetch %s: timed out", u)
		}
		return fail("read: %v", err)
	}
	if int64(len(data)) > limit {
		if rel == PointerName || limit == f.o.MaxBytes {
			return fail("larger than %d bytes", limit)
		}
		// Longer than its manifest declares: kept, one byte over, for
		// validate to report as changed.
	}
	to := filepath.Join(f.dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		return nil, err
	}
	if err := outfs.WriteNew(to, data); err != nil {
		return nil, err
	}
	return data, nil
}

// escapePath escapes each element of a slash path for a URL.
func escapePath(rel string) string {
	els := strings.Split(rel, "/")
	for i, e := range els {
		els[i] = url.PathEscape(e)
	}
	return strings.Join(els, "/")
}

// netCause says why a request failed in a few words, without the
// *url.Error wrapper (Get "URL": …) that repeats the URL.
func netCause(err error) error {
	var dns *net.DNSError
	switch {
	case errors.Is(err, context.Canceled):
		return err // exit 130, decided by errors.Is
	case errors.Is(err, context.DeadlineExceeded):
		return errors.New("timed out")
	case errors.Is(err, syscall.ECONNREFUSED):
		return errors.New("connection refused")
	case errors.As(err, &dns):
		if dns.IsNotFound {
			return fmt.Errorf("no such host %s", dns.Name)
		}
		return fmt.Errorf("cannot resolve %s: %s", dns.Name, dns.Err)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
