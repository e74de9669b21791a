package validate

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/calldir/calldir/e164"
	"github.com/calldir/calldir/shard"
	"github.com/calldir/calldir/shard/livelookup"
)

// Finding kinds of a Live Caller ID Lookup export (with manifest,
// path-escape, missing-shard, stray-file, sha256, order, duplicate and
// manifest-mismatch).
const (
	KindRow   Kind = "row"   // a record that does not decode as a KeywordDatabase row
	KindKey   Kind = "key"   // a keyword that is not a phone number key
	KindValue Kind = "value" // a value that is not the byte 1 or a valid CallIdentity
)

// maxRowFindings bounds the findings of one database's rows: past it, one
// finding says how many more rows were bad.
const maxRowFindings = 100

// LiveReport is the outcome of checking a Live Caller ID Lookup export.
type LiveReport struct {
	Dir       string    `json:"dir"`
	Databases int       `json:"databases"` // databases read in full
	Rows      int64     `json:"rows"`      // rows decoded
	Findings  []Finding `json:"findings"`
}

// IsLiveLookup reports whether dir holds a Live Caller ID Lookup export.
func IsLiveLookup(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, livelookup.ManifestName))
	return err == nil
}

// LiveLookup checks an export directory: its manifest; every database
// (every row decoded, each key's syntax, each value's shape, E.164 keys in
// ascending order, no key given twice, the counts per key form, size and
// SHA-256 against the manifest); every configuration (SHA-256, input file,
// shard count by the sharding rule); files not listed. All reads go
// through an os.Root of dir. Duplicate national keys are found with a
// livelookup.KeySet in tempDir ("" for the system's), so memory does not
// grow with the rows.
func LiveLookup(ctx context.Context, dir, tempDir string) (*LiveReport, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	r := &LiveReport{Dir: dir, Findings: []Finding{}}
	display := func(name string) string { return filepath.Join(dir, name) }
	f, err := shard.OpenFileIn(root, livelookup.ManifestName)
	if err != nil {
		r.add(Finding{Kind: KindManifest, File: display(livelookup.ManifestName), Message: "cannot open the manifest: " + errText(err)})
		return r, nil
	}
	m, err := livelookup.ReadManifest(f)
	f.Close()
	if err != nil {
		r.add(Finding{Kind: KindManifest, File: display(livelookup.ManifestName), Message: strings.TrimPrefix(err.Error(), "manifest: ")})
		return r, nil
	}
	for _, d := range m.Databases {
		c := &liveCheck{r: r, root: root, dir: dir, d: d, forms: m.KeyForms, tempDir: tempDir}
		if err := c.database(ctx); err != nil {
			return nil, err
		}
		c.config()
	}
	r.strays(dir, append(m.Files(), livelookup.ManifestName))
	Sort(r.Findings)
	return r, nil
}

func (r *LiveReport) add(f Finding) { r.Findings = append(r.Findings, f) }

// strays reports the entries of dir its manifest does not list.
func (r *LiveReport) strays(dir string, listed []string) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	known := map[string]bool{}
	for _, l := range listed {
		known[l] = true
	}
	for _, e := range ents {
		if !known[e.Name()] {
			r.add(Finding{Kind: KindStrayFile, File: filepath.Join(dir, e.Name()), Message: "not listed in " + livelookup.ManifestName})
		}
	}
}

// liveCheck checks one database of an export.
type liveCheck struct {
	r       *LiveReport
	root    *os.Root
	dir     string
	d       livelookup.Database
	forms   []livelookup.Form
	tempDir string
	bad     int64 // rows with a finding
	prev    int64 // last E.164 number
	keys    map[livelookup.Form]int64
	maxVal  int
	ks      *livelookup.KeySet
}

func (c *liveCheck) file() string { return filepath.Join(c.dir, c.d.File) }

// rowFinding adds a finding about row i, up to maxRowFindings.
func (c *liveCheck) rowFinding(kind Kind, i, n int64, msg string) {
	if c.bad++; c.bad <= maxRowFindings {
		c.r.add(Finding{Kind: kind, File: c.file(), Index: idx(i), Number: n, Message: msg})
	}
}

// open opens a file the manifest lists, adding the finding when it cannot.
func (c *liveCheck) open(name string) *os.File {
	f, err := shard.OpenFileIn(c.root, name)
	if err == nil {
		return f
	}
	kind := KindMissingShard
	var pe *shard.PathError
	if errors.As(err, &pe) && !errors.Is(err, os.ErrNotExist) {
		kind = KindPathEscape
	}
	c.r.add(Finding{Kind: kind, File: filepath.Join(c.dir, name), Message: errText(err)})
	return nil
}

// database reads every row of the database and compares the totals with
// the manifest. The error is only for an interrupted check or a failing
// temporary directory.
func (c *liveCheck) database(ctx context.Context) error {
	f := c.open(c.d.File)
	if f == nil {
		return nil
	}
	defer f.Close()
	c.keys = map[livelookup.Form]int64{}
	h := sha256.New()
	cr := &shard.CountingReader{R: io.TeeReader(f, h)}
	rd := livelookup.NewReader(cr)
	for {
		if rd.Rows()%65536 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		row, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var de *livelookup.DecodeError
			if !errors.As(err, &de) {
				return fmt.Errorf("%s: %w", c.file(), err)
			}
			c.r.add(Finding{Kind: KindRow, File: c.file(), Index: idx(de.Index), Message: fmt.Sprintf("byte %d: %s", de.Offset, de.Msg)})
			c.closeKeys()
			return nil
		}
		if err := c.row(row); err != nil {
			return err
		}
	}
	c.r.Databases++
	c.r.Rows += rd.Rows()
	if err := c.duplicates(ctx); err != nil {
		return err
	}
	c.totals(rd.Rows(), cr.N, hex.EncodeToString(h.Sum(nil)))
	return nil
}

// row checks one row's key and value.
func (c *liveCheck) row(row livelookup.Row) error {
	form, n, err := livelookup.ParseKey(row.Key)
	if err != nil {
		c.rowFinding(KindKey, row.Index, 0, err.Error())
	} else {
		c.keys[form]++
		if err := c.key(row, form, n); err != nil {
			return err
		}
	}
	c.maxVal = max(c.maxVal, len(row.Value))
	id, err := livelookup.CheckValue(c.d.Kind, row.Value)
	switch {
	case err != nil:
		c.rowFinding(KindValue, row.Index, n, err.Error())
	case c.d.Kind == "identity" && (id.Category.String() != c.d.Category || id.CacheExpiryMinutes != c.d.CacheExpiryMinutes):
		c.rowFinding(KindValue, row.Index, n, fmt.Sprintf("category %s, cache_expiry_minutes %d: the manifest says %s, %d",
			id.Category, id.CacheExpiryMinutes, c.d.Category, c.d.CacheExpiryMinutes))
	}
	return nil
}

// key checks the order of E.164 keys (an export writes them ascending, so
// order finds their duplicates) and files national keys in the KeySet.
func (c *liveCheck) key(row livelookup.Row, form livelookup.Form, n int64) error {
	if form == livelookup.FormE164 {
		switch {
		case n == c.prev:
			c.rowFinding(KindDuplicate, row.Index, n, "the same E.164 key as an earlier row")
		case n < c.prev:
			c.rowFinding(KindOrder, row.Index, n, fmt.Sprintf("below the previous E.164 key %s: an export writes them in ascending order", e164.Format(c.prev)))
		}
		c.prev = max(c.prev, n)
		return nil
	}
	if c.ks == nil {
		var err error
		if c.ks, err = livelookup.NewKeySet(c.tempDir, c.d.Rows); err != nil {
			return err
		}
	}
	c.ks.Add(row.Key, uint64(row.Index))
	return c.ks.Err()
}

// duplicates reports the national keys given twice.
func (c *liveCheck) duplicates(ctx context.Context) error {
	if c.ks == nil {
		return nil
	}
	defer c.closeKeys()
	dups, err := c.ks.Duplicates(ctx, maxRowFindings)
	if err != nil {
		return err
	}
	for _, d := range dups {
		c.rowFinding(KindDuplicate, int64(d.Other), 0, fmt.Sprintf("national key %q already in row %d", d.Key, d.First))
	}
	return nil
}

func (c *liveCheck) closeKeys() {
	if c.ks != nil {
		c.ks.Close()
		c.ks = nil
	}
}

// totals compares what was read with the manifest.
func (c *liveCheck) totals(rows, size int64, sum string) {
	if c.bad > maxRowFindings {
		c.r.add(Finding{Kind: KindValue, File: c.file(), Message: fmt.Sprintf("%d more rows with findings not listed", c.bad-maxRowFindings)})
	}
	var diffs []string
	cmpf := func(what string, got, want any) {
		if fmt.Sprint(got) != fmt.Sprint(want) {
			diffs = append(diffs, fmt.Sprintf("%s %v, the manifest says %v", what, got, want))
		}
	}
	cmpf("rows", rows, c.d.Rows)
	cmpf("bytes", size, c.d.Bytes)
	cmpf("max_value_bytes", c.maxVal, c.d.MaxValueBytes)
	for _, f := range []livelookup.Form{livelookup.FormE164, livelookup.FormNational} {
		cmpf(string(f)+" keys", c.keys[f], c.d.Keys[f])
	}
	for _, d := range diffs {
		c.r.add(Finding{Kind: KindMismatch, File: c.file(), Message: d})
	}
	if sum != c.d.SHA256 {
		c.r.add(Finding{Kind: KindHash, File: c.file(), Message: fmt.Sprintf("SHA-256 %.12s…, the manifest says %.12s…", sum, c.d.SHA256)})
	}
}

// config checks the database's PIRProcessDatabase configuration.
func (c *liveCheck) config() {
	f := c.open(c.d.Config)
	if f == nil {
		return
	}
	defer f.Close()
	file := filepath.Join(c.dir, c.d.Config)
	b, err := io.ReadAll(io.LimitReader(f, livelookup.MaxManifestBytes))
	if err != nil {
		c.r.add(Finding{Kind: KindManifest, File: file, Message: errText(err)})
		return
	}
	if sum := sha256.Sum256(b); hex.EncodeToString(sum[:]) != c.d.ConfigSHA256 {
		c.r.add(Finding{Kind: KindHash, File: file, Message: fmt.Sprintf("SHA-256 %.12s…, the manifest says %.12s…", hex.EncodeToString(sum[:]), c.d.ConfigSHA256)})
	}
	// What PIRProcessDatabase itself requires (an export made before
	// databaseType was written fails here, as it fails there).
	if err := livelookup.CheckPIRConfig(b); err != nil {
		c.r.add(Finding{Kind: KindManifest, File: file, Message: err.Error()})
	}
	var pc livelookup.PIRConfig
	if err := json.Unmarshal(b, &pc); err != nil {
		c.r.add(Finding{Kind: KindManifest, File: file, Message: "not a PIRProcessDatabase configuration: " + err.Error()})
		return
	}
	want := livelookup.ShardCount(c.d.Kind, c.d.Rows)
	if pc.InputDatabase != c.d.File || pc.Sharding.ShardCount != want || c.d.Shards != want {
		c.r.add(Finding{Kind: KindMismatch, File: file, Message: fmt.Sprintf("inputDatabase %q, shardCount %d, manifest shards %d: want %q and %d shards for %d rows",
			pc.InputDatabase, pc.Sharding.ShardCount, c.d.Shards, c.d.File, want, c.d.Rows)})
	}
}
