package fetch

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/calldir/calldir/shard/outfs"
)

// cache is the cache directory, locked (outfs.LockCache) for the whole of
// one Fetch: a second calldir fetching the same URL waits, then makes a
// conditional request with what the first stored.
type cache struct {
	dir    string
	x      *index // nil: the directory does not exist (offline only)
	unlock func() error
}

// openCache locks and proves the cache directory, making it (with its
// index and CACHEDIR.TAG) when create is set, and removes what an earlier
// run left loose.
func openCache(dir string, create bool) (*cache, error) {
	st, unlock, err := outfs.LockCache(dir, CacheMark, create)
	if err != nil {
		return nil, fmt.Errorf("source cache: %w", err)
	}
	c := &cache{dir: dir, unlock: unlock}
	switch {
	case st.Contents != nil:
		c.x = st.Value.(*index)
	case st.Exists && create:
		// An empty directory: the index first, so that the tag is listed
		// when it appears.
		c.x = &index{Format: indexFormat}
		if err := c.save(); err != nil {
			c.close()
			return nil, err
		}
		if err := outfs.AddFile(dir, tagName, []byte(tagText)); err != nil {
			c.close()
			return nil, fmt.Errorf("source cache: %w", err)
		}
	case st.Exists:
		c.x = &index{Format: indexFormat} // empty, offline: nothing cached
	}
	if create {
		if err := c.sweep(); err != nil {
			c.close()
			return nil, err
		}
	}
	return c, nil
}

func (c *cache) close() { c.unlock() }

func (c *cache) save() error {
	if err := outfs.WriteFile(filepath.Join(c.dir, IndexName), c.x.marshal()); err != nil {
		return fmt.Errorf("source cache: %w", err)
	}
	return nil
}

// sweep removes the loose bodies no entry names (a replaced version, an
// addition a crash interrupted) and drops them from the index.
func (c *cache) sweep() error {
	if len(c.x.Loose) == 0 {
		return nil
	}
	var keep []string
	for _, name := range c.x.Loose {
		if c.x.referenced(name) {
			continue // current again: listed by its entry
		}
		if !bodyRE.MatchString(name) {
			keep = append(keep, name) // not a name calldir gives a body: left alone
			continue
		}
		if err := outfs.RemoveListed(c.dir, CacheMark, name); err != nil {
			return fmt.Errorf("source cache: %w", err)
		}
	}
	c.x.Loose = keep
	return c.save()
}

// lookup returns url's entry if its body is intact: the entry's fields
// are calldir's, and the file is a regular file of the recorded size and
// SHA-256. Anything else is a miss, and why (to be said, never trusted).
func (c *cache) lookup(url string) (*entry, string) {
	if c.x == nil {
		return nil, ""
	}
	_, e := c.x.find(url)
	if e == nil {
		return nil, ""
	}
	if why := e.check(); why != "" {
		return nil, "its index entry is damaged: " + why
	}
	f, err := os.Open(filepath.Join(c.dir, e.Body))
	if err != nil {
		return nil, "its body: " + err.Error()
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return nil, "its body: " + err.Error()
	}
	if sum := hex.EncodeToString(h.Sum(nil)); n != e.Size || sum != e.SHA256 {
		return nil, fmt.Sprintf("its body %s has %d bytes with SHA-256 %s, the index says %d bytes with %s", e.Body, n, sum, e.Size, e.SHA256)
	}
	return e, ""
}

func (c *cache) result(e *entry) *Result {
	return &Result{Path: filepath.Join(c.dir, e.Body), SHA256: e.SHA256, Size: e.Size, FetchedAt: e.FetchedAt}
}

// offline is Fetch with --offline: the cached version or ErrNotCached.
func (c *cache) offline(src Source) (*Result, error) {
	e, why := c.lookup(src.URL)
	if e == nil {
		err := ErrNotCached
		if why != "" {
			err = fmt.Errorf("the cached copy is damaged (%s); run once without --offline", why)
		}
		return nil, &Error{URL: src.URL, Op: "offline", Err: err}
	}
	if src.SHA256 != "" && e.SHA256 != src.SHA256 {
		return nil, &Error{URL: src.URL, Op: "verify", Err: &PinError{Got: e.SHA256, Want: src.SHA256}}
	}
	r := c.result(e)
	r.FromCache = true
	return r, nil
}

// touch records a 304: the cached body confirmed at now, with the
// validators the server sent again (if any).
func (c *cache) touch(e *entry, etag, lastModified string, now time.Time) error {
	if etag != "" {
		e.ETag = etag
	}
	if lastModified != "" {
		e.LastModified = lastModified
	}
	e.FetchedAt = now
	return c.save()
}

// store makes a downloaded body url's current version, in steps that each
// leave the directory provable and the index true after a crash:
//
//  1. the body's name listed as loose (if no entry names it yet);
//  2. the body linked to its name (outfs.Addition: never replacing a
//     file, so a damaged file of that name goes first);
//  3. the entry pointing at it, the previous body (if no other entry
//     names it) listed as loose;
//  4. the loose bodies removed (sweep).
func (c *cache) store(add *outfs.Addition, e entry) error {
	if !c.x.referenced(e.Body) {
		c.x.Loose = append(c.x.Loose, e.Body)
		if err := c.save(); err != nil {
			return err
		}
	}
	// A file of that name that is not those bytes (lookup found it
	// damaged) is listed, so provably calldir's: removed before the link.
	if ok, err := hasSum(filepath.Join(c.dir, e.Body), e.SHA256); err == nil && !ok {
		if err := outfs.RemoveListed(c.dir, CacheMark, e.Body); err != nil {
			return fmt.Errorf("source cache: %w", err)
		}
	}
	if err := add.Commit(e.Body); err != nil {
		return fmt.Errorf("source cache: %w", err)
	}
	if i, old := c.x.find(e.URL); old != nil {
		c.x.Loose = append(c.x.Loose, old.Body)
		c.x.Entries[i] = e
	} else {
		c.x.Entries = append(c.x.Entries, e)
	}
	if err := c.save(); err != nil {
		return err
	}
	return c.sweep()
}

// hasSum reports whether the file at p has SHA-256 sum; a missing file is
// an error.
func hasSum(p, sum string) (bool, error) {
	f, err := os.Open(p)
	if err != nil {
		return false, err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return false, err
	}
	return hex.EncodeToString(h.Sum(nil)) == sum, nil
}
