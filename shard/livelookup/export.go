package livelookup

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"github.com/calldir/calldir/shard/outfs"
	"hash"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"

	"github.com/calldir/calldir/e164"
)

// Options shape an export.
type Options struct {
	Forms              []Form   // key forms, in the order each number's rows are written; FormE164 when empty
	Category           Category // identity: person or business
	CacheExpiryMinutes uint32   // identity: how long a phone reuses the answer
	Icons              *Icons   // identity: per-number icons, or nil
	ToolVersion        string
	PIRDir             string // the PIRProcessDatabase output directory, beside the export (see Config)
}

// Inputs are the builds to export: a blocking build, an identification
// build, or one of each.
type Inputs struct {
	Block, Identity *Build
}

// IdentityTooLargeError is a number whose serialized CallIdentity is over
// MaxIdentityBytes: the export is refused.
type IdentityTooLargeError struct {
	Number int64
	Size   int
}

func (e *IdentityTooLargeError) Error() string {
	return fmt.Sprintf("%s: its CallIdentity is %d bytes serialized, over the %d a Live Caller ID Lookup value may hold (shorten the label or the icon)",
		e164.Format(e.Number), e.Size, MaxIdentityBytes)
}

// Export writes the databases of in, their configurations and the
// manifest into dir, an empty directory the caller made (and replaces
// atomically). Rows are written as the builds stream: memory does not grow
// with the number of entries. The manifest is written last.
func Export(ctx context.Context, dir string, in Inputs, o Options) (*Manifest, error) {
	if len(o.Forms) == 0 {
		o.Forms = []Form{FormE164}
	}
	if in.Identity != nil && o.Category != CategoryPerson && o.Category != CategoryBusiness {
		return nil, &CategoryError{Value: o.Category.String()}
	}
	m := &Manifest{Format: ManifestFormat, FormatVersion: ManifestVersion, ToolVersion: o.ToolVersion, KeyForms: o.Forms, Databases: []Database{}}
	for _, kb := range []struct {
		kind string
		b    *Build
	}{{"block", in.Block}, {"identity", in.Identity}} {
		if kb.b == nil {
			continue
		}
		d, err := exportOne(ctx, dir, kb.kind, kb.b, o)
		if err != nil {
			return nil, err
		}
		m.Databases = append(m.Databases, *d)
	}
	b, err := m.Marshal()
	if err != nil {
		return nil, err
	}
	if err := outfs.WriteNew(filepath.Join(dir, ManifestName), b); err != nil {
		return nil, err
	}
	return m, nil
}

// exportOne writes one database and its configuration.
func exportOne(ctx context.Context, dir, kind string, b *Build, o Options) (*Database, error) {
	file, config := filesOf(kind)
	d := &Database{Kind: kind, File: file, Config: config, BuildID: b.Manifest.BuildID, Keys: map[Form]int64{}}
	w, err := createDB(filepath.Join(dir, file))
	if err != nil {
		return nil, err
	}
	defer w.f.Close()
	rw := &rowWriter{db: w, d: d, forms: o.Forms}
	if slices.Contains(o.Forms, FormNational) {
		rw.nat = &natKeys{tmp: dir, expected: b.Entries()}
		defer rw.nat.close()
	}
	value := []byte{BlockValue}
	if kind == "identity" {
		d.Category, d.CacheExpiryMinutes = o.Category.String(), o.CacheExpiryMinutes
		iv := &identityValues{o: o}
		err = b.Each(ctx, func(n int64, label string) error {
			v, err := iv.value(n, label)
			if err != nil {
				return err
			}
			return rw.number(n, v)
		})
		d.Icons = iv.icons
		if o.Icons != nil {
			d.IconsUnused = int64(o.Icons.Unused())
		}
	} else {
		err = b.Each(ctx, func(n int64, _ string) error { return rw.number(n, value) })
	}
	if err != nil {
		return nil, err
	}
	if err := rw.nat.finish(ctx, b, file); err != nil {
		return nil, err
	}
	if d.Bytes, d.SHA256, err = w.finish(); err != nil {
		return nil, err
	}
	cb, shards := Config(kind, d.Rows, o.PIRDir)
	d.Shards = shards
	sum := sha256.Sum256(cb)
	d.ConfigSHA256 = hex.EncodeToString(sum[:])
	return d, outfs.WriteNew(filepath.Join(dir, config), cb)
}

// rowWriter writes the rows of each number, one per key form.
type rowWriter struct {
	db    *dbWriter
	d     *Database
	forms []Form
	key   []byte
	nat   *natKeys // the national keys, checked once written; nil without them
}

func (rw *rowWriter) number(n int64, value []byte) error {
	rw.d.Numbers++
	rw.d.MaxValueBytes = max(rw.d.MaxValueBytes, len(value))
	for _, f := range rw.forms {
		switch f {
		case FormE164:
			rw.key = strconv.AppendInt(append(rw.key[:0], '+'), n, 10)
		case FormNational:
			var cc int
			var ok bool
			if rw.key, cc, ok = e164.AppendNational(rw.key[:0], n); !ok {
				rw.d.NoNational++
				continue
			}
			if err := rw.nat.add(rw.key, n, cc); err != nil {
				return err
			}
		}
		if err := rw.db.row(rw.key, value); err != nil {
			return err
		}
		rw.d.Keys[f]++
		rw.d.Rows++
	}
	return nil
}

// identityValues encodes each number's CallIdentity, reusing the last
// encoding while the label stays the same and no icon is involved.
type identityValues struct {
	o        Options
	buf      []byte
	last     string
	hasLast  bool
	icons    int64
	withIcon []byte
}

func (iv *identityValues) value(n int64, label string) ([]byte, error) {
	var icon []byte
	if iv.o.Icons != nil {
		var err error
		if icon, err = iv.o.Icons.Read(n); err != nil {
			return nil, err
		}
	}
	id := Identity{Name: label, Icon: icon, CacheExpiryMinutes: iv.o.CacheExpiryMinutes, Category: iv.o.Category}
	if icon != nil {
		iv.icons++
		iv.withIcon = AppendIdentity(iv.withIcon[:0], id)
		if len(iv.withIcon) > MaxIdentityBytes {
			return nil, &IdentityTooLargeError{Number: n, Size: len(iv.withIcon)}
		}
		return iv.withIcon, nil
	}
	if !iv.hasLast || label != iv.last {
		iv.buf = AppendIdentity(iv.buf[:0], id)
		iv.last, iv.hasLast = label, true
	}
	if len(iv.buf) > MaxIdentityBytes {
		return nil, &IdentityTooLargeError{Number: n, Size: len(iv.buf)}
	}
	return iv.buf, nil
}

// dbWriter writes a KeywordDatabase file, hashing it as it goes.
type dbWriter struct {
	f     *os.File
	bw    *bufio.Writer
	h     hash.Hash
	bytes int64
	buf   []byte
}

func createDB(path string) (*dbWriter, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return nil, err
	}
	h := sha256.New()
	return &dbWriter{f: f, h: h, bw: bufio.NewWriterSize(io.MultiWriter(f, h), 256<<10)}, nil
}

func (w *dbWriter) row(key, value []byte) error {
	w.buf = AppendRow(w.buf[:0], key, value)
	w.bytes += int64(len(w.buf))
	if _, err := w.bw.Write(w.buf); err != nil {
		return fmt.Errorf("write %s: %w", filepath.Base(w.f.Name()), err)
	}
	return nil
}

// finish flushes and syncs the file and returns its size and SHA-256.
func (w *dbWriter) finish() (int64, string, error) {
	name := filepath.Base(w.f.Name())
	if err := w.bw.Flush(); err != nil {
		return 0, "", fmt.Errorf("write %s: %w", name, err)
	}
	if err := w.f.Sync(); err != nil {
		return 0, "", fmt.Errorf("write %s: sync: %w", name, err)
	}
	return w.bytes, hex.EncodeToString(w.h.Sum(nil)), w.f.Close()
}
