package fetch

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/calldir/calldir/shard/outfs"
)

// The cache directory holds, flat:
//
//	calldir-sources.json          the index (IndexName): the mark, one entry per URL
//	CACHEDIR.TAG                  tells backup tools the directory is a cache
//	sha256-<hex>[.ext]            bodies, content-addressed, read-only (0444)
//	.download.calldir-tmp-…       a download in progress (an outfs temporary)
//
// The index lists every file, so that the directory is provably calldir's
// (CacheMark) before anything in it is replaced or removed.
const (
	IndexName   = "calldir-sources.json"
	indexFormat = "calldir-sources/1"
	tagName     = "CACHEDIR.TAG"
	// tagText begins with the signature of the Cache Directory Tagging
	// Specification, which backup tools (tar --exclude-caches, restic,
	// borg) look for.
	tagText = "Signature: 8a477f597d28d172789f06886806bc55\n" +
		"# This file is a cache directory tag created by calldir (downloaded sources).\n"
	downloadStem = "download" // the temporaries' stem (outfs.NewAddition)
)

// CacheMark is how calldir recognises a source cache it made (shard/outfs):
// its index, listing every file. Registered from init, so that a build,
// delta or export is never written into a cache, nor a cache into one.
var CacheMark = &outfs.Mark{Kind: "source cache", Manifest: IndexName, Read: readCacheMark}

func init() { outfs.Register(CacheMark) }

// index is the cache's one metadata file, replaced atomically (outfs
// WriteFile) by the holder of the cache's lock.
type index struct {
	Format  string  `json:"format"` // indexFormat
	Entries []entry `json:"entries"`
	// Loose are bodies that are no URL's current version: one being
	// added (listed before it is linked) or one replaced (listed until it
	// is removed). Listing them keeps the directory provably calldir's at
	// every step; the next writer removes those no entry names.
	Loose []string `json:"loose,omitempty"`
}

// entry is one URL's cached version.
type entry struct {
	URL          string    `json:"url"`
	Body         string    `json:"body"`   // file name in the cache: bodyName
	SHA256       string    `json:"sha256"` // lowercase hex of the body
	Size         int64     `json:"size"`   // bytes
	ETag         string    `json:"etag,omitempty"`
	LastModified string    `json:"last_modified,omitempty"` // as the server sent it
	FetchedAt    time.Time `json:"fetched_at"`              // last 200 or 304 for this body
}

// readIndex decodes an index strictly: unknown fields or another format
// are errors (another program's file of that name is not taken for one).
// Entries are checked one by one when used (entry.check), so that one bad
// entry is a cache miss rather than a cache that cannot be proven.
func readIndex(r io.Reader) (*index, error) {
	dec := json.NewDecoder(io.LimitReader(r, 64<<20))
	dec.DisallowUnknownFields()
	var x index
	if err := dec.Decode(&x); err != nil {
		return nil, err
	}
	if x.Format != indexFormat {
		return nil, fmt.Errorf("format %q, want %q", x.Format, indexFormat)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("data after the index")
	}
	return &x, nil
}

func readCacheMark(r io.Reader) (*outfs.Contents, error) {
	x, err := readIndex(r)
	if err != nil {
		return nil, err
	}
	return &outfs.Contents{Files: x.files(), Value: x}, nil
}

// files is every file the index lists besides itself.
func (x *index) files() []string {
	fs := []string{tagName}
	for _, e := range x.Entries {
		fs = append(fs, e.Body)
	}
	return append(fs, x.Loose...)
}

func (x *index) marshal() []byte {
	slices.SortFunc(x.Entries, func(a, b entry) int { return strings.Compare(a.URL, b.URL) })
	slices.Sort(x.Loose)
	x.Loose = slices.Compact(x.Loose)
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	enc.Encode(x) // cannot fail: strings, numbers and times
	return b.Bytes()
}

func (x *index) find(url string) (int, *entry) {
	for i := range x.Entries {
		if x.Entries[i].URL == url {
			return i, &x.Entries[i]
		}
	}
	return -1, nil
}

// referenced reports whether an entry's current body is name.
func (x *index) referenced(name string) bool {
	for _, e := range x.Entries {
		if e.Body == name {
			return true
		}
	}
	return false
}

// bodyRE is a body's file name: the SHA-256 of its bytes and the URL
// path's extension (up to two, ".csv.gz"), so that the compiler's
// detection by file name works on the cached file.
var bodyRE = regexp.MustCompile(`^sha256-[0-9a-f]{64}(\.[a-z0-9]{1,8}){0,2}$`)

// bodyName names a body of hash sum fetched from a URL with path urlPath.
func bodyName(sum, urlPath string) string {
	return "sha256-" + sum + extension(urlPath)
}

// extension is the last one or two extensions of a URL path's last
// segment, lowercased, when they are short and alphanumeric ("list.CSV.gz"
// gives ".csv.gz"); otherwise "".
func extension(urlPath string) string {
	base := urlPath[strings.LastIndexByte(urlPath, '/')+1:]
	parts := strings.Split(strings.ToLower(base), ".")
	if len(parts) < 2 {
		return ""
	}
	exts := parts[1:]
	if len(exts) > 2 {
		exts = exts[len(exts)-2:]
	}
	for len(exts) > 0 {
		s := "." + strings.Join(exts, ".")
		if bodyRE.MatchString("sha256-" + strings.Repeat("0", 64) + s) {
			return s
		}
		exts = exts[1:]
	}
	return ""
}

var hexRE = regexp.MustCompile(`^[0-9a-f]{64}$`)

// check says what is wrong with an entry's own fields ("" when nothing):
// a body name that is not calldir's, or one that disagrees with the hash.
// (A size that disagrees with the body is found by reading it: lookup.)
func (e *entry) check() string {
	switch {
	case !hexRE.MatchString(e.SHA256):
		return fmt.Sprintf("its sha256 %q is not 64 lowercase hex digits", e.SHA256)
	case !bodyRE.MatchString(e.Body) || !strings.HasPrefix(e.Body, "sha256-"+e.SHA256):
		return fmt.Sprintf("its body %q is not named by its sha256", e.Body)
	}
	return ""
}
