package compiler

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/calldir/calldir/shard/outfs"

	"github.com/calldir/calldir/shard"
)

// maxShards is the most shards a build holds: names have four digits.
const maxShards = 9999

// ShardName is the file name of the shard of extension ext (1-based):
// fixed width, so that lexical order is numeric order for builds made
// without --base.
func ShardName(k shard.Kind, ext int) string {
	return fmt.Sprintf("%s-%04d.shard", k, ext)
}

// Placement puts a span of a result's entries into the shard of one
// extension. Placements are in numeric order of their spans.
type Placement struct {
	Span      shard.Span
	Extension int
	Resplit   bool // the extension's --base range overflowed and was split
}

// Layout cuts n entries into the fewest shards of at most max entries, one
// extension each, numbered in order.
func Layout(n, maxPer int) []Placement {
	var out []Placement
	for i, sp := range shard.Split(n, maxPer) {
		out = append(out, Placement{Span: sp, Extension: i + 1})
	}
	return out
}

// WriteBuild writes res as a build directory at dir with the given layout,
// atomically: every file goes to a temporary sibling directory, is synced,
// the manifest is written last, and the directory then replaces dir in one
// swap (shard/outfs). On any error, or when ctx is cancelled, dir is left
// as it was and the temporary directory is removed. m supplies the options
// and inputs; WriteBuild fills in the shards, totals and build ID.
func WriteBuild(ctx context.Context, dir string, res *Result, m *shard.Manifest, layout []Placement) error {
	if err := checkLayout(res, layout); err != nil {
		return err
	}
	return writeOutput(ctx, "out", dir, shard.BuildMark, nil, func(tmp string) error {
		return writeBuildFiles(ctx, tmp, res, m, layout)
	})
}

// checkLayout refuses a layout of more shards than a build holds.
func checkLayout(res *Result, layout []Placement) error {
	if len(layout) <= maxShards {
		return nil
	}
	per := 0
	for _, pl := range layout {
		per = max(per, pl.Span.End-pl.Span.Start)
	}
	return &TooManyShardsError{Entries: int64(res.Len()), Shards: int64(len(layout)), MaxPerShard: per}
}

// writeBuildFiles writes the shards and the manifest, last, into tmp.
func writeBuildFiles(ctx context.Context, tmp string, res *Result, m *shard.Manifest, layout []Placement) error {
	m.Shards = m.Shards[:0]
	if res.Kind == shard.KindBlock {
		infos, err := writeStream(ctx, tmp, res.Kind, res.Entries(), layout)
		if err != nil {
			return err
		}
		for i, pl := range layout {
			infos[i].Extension, infos[i].Resplit = pl.Extension, pl.Resplit
		}
		m.Shards = infos
	}
	for _, pl := range layout {
		if res.Kind == shard.KindBlock {
			break
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		info, err := writeShard(tmp, ShardName(res.Kind, pl.Extension), res, pl.Span)
		if err != nil {
			return err
		}
		info.Extension, info.Resplit = pl.Extension, pl.Resplit
		m.Shards = append(m.Shards, info)
	}
	m.Totals = res.Totals
	m.Totals.Shards = len(m.Shards)
	m.BuildID = shard.BuildID(m.Shards)
	b, err := m.Marshal()
	if err != nil {
		return err
	}
	return outfs.WriteNew(filepath.Join(tmp, shard.ManifestName), b)
}

// shardFile is a shard being written.
type shardFile struct {
	name   string
	f      *os.File
	mem    *memFile // the file's bytes, written to f by finish
	w      *shard.Writer
	labels int
}

func createShard(dir, name string, kind shard.Kind, labels []string) (*shardFile, error) {
	f, err := os.OpenFile(filepath.Join(dir, name), os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return nil, err
	}
	// The shard is built in memory (at most 32 MB: 1,999,999 records of 16
	// bytes), so that it is written with one call and hashed without being
	// read back.
	mem := &memFile{}
	w, err := shard.NewWriter(mem, kind, labels)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("write %s: %w", name, err)
	}
	return &shardFile{name: name, f: f, mem: mem, w: w, labels: len(labels)}, nil
}

// memFile is an in-memory io.WriteSeeker.
type memFile struct {
	buf []byte
	off int
}

func (m *memFile) Write(p []byte) (int, error) {
	if end := m.off + len(p); end > len(m.buf) {
		m.buf = append(m.buf[:m.off], p...) // off never passes len(buf)
	} else {
		copy(m.buf[m.off:], p)
	}
	m.off += len(p)
	return len(p), nil
}

func (m *memFile) Seek(offset int64, whence int) (int64, error) {
	var at int64
	switch whence {
	case io.SeekStart:
		at = offset
	case io.SeekCurrent:
		at = int64(m.off) + offset
	case io.SeekEnd:
		at = int64(len(m.buf)) + offset
	}
	if at < 0 || at > int64(len(m.buf)) {
		return 0, fmt.Errorf("seek to %d of %d bytes", at, len(m.buf))
	}
	m.off = int(at)
	return at, nil
}

func (s *shardFile) add(n int64, label uint32, ident bool) error {
	var err error
	if ident {
		err = s.w.AddLabeled(n, label)
	} else {
		err = s.w.Add(n)
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", s.name, err)
	}
	return nil
}

// finish writes the header, syncs, hashes and closes the file.
func (s *shardFile) finish(kind shard.Kind) (shard.ShardInfo, error) {
	info := shard.ShardInfo{File: s.name, Kind: kind.String()}
	defer s.f.Close()
	if err := s.w.Close(); err != nil {
		return info, fmt.Errorf("write %s: %w", s.name, err)
	}
	if _, err := s.f.Write(s.mem.buf); err != nil {
		return info, fmt.Errorf("write %s: %w", s.name, err)
	}
	if err := s.f.Sync(); err != nil {
		return info, fmt.Errorf("write %s: sync: %w", s.name, err)
	}
	sum := sha256.Sum256(s.mem.buf)
	hdr := s.w.Header()
	info.Count, info.First, info.Last = int64(hdr.Count), hdr.First, hdr.Last
	info.Labels = s.labels
	info.SHA256 = hex.EncodeToString(sum[:])
	info.Size = int64(len(s.mem.buf))
	return info, s.f.Close()
}

// writeShard writes one span of an in-memory result as a shard file.
func writeShard(dir, name string, res *Result, sp shard.Span) (shard.ShardInfo, error) {
	var labels []string
	var local []uint32
	ident := res.Kind == shard.KindIdentify
	if ident {
		labels, local = localLabels(res.Table, res.Labels[sp.Start:sp.End])
	}
	sf, err := createShard(dir, name, res.Kind, labels)
	if err != nil {
		return shard.ShardInfo{}, err
	}
	for i, n := range res.Numbers[sp.Start:sp.End] {
		var l uint32
		if ident {
			l = local[i]
		}
		if err := sf.add(n, l, ident); err != nil {
			sf.f.Close()
			return shard.ShardInfo{}, err
		}
	}
	return sf.finish(res.Kind)
}

// writeStream writes the shards of a blocking result, on every core: each
// placement is a span of the entries, decoded and written on its own.
func writeStream(ctx context.Context, dir string, kind shard.Kind, ents Entries, layout []Placement) ([]shard.ShardInfo, error) {
	infos := make([]shard.ShardInfo, len(layout))
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var next atomic.Int64
	errs := make([]error, len(layout))
	var wg sync.WaitGroup
	for range min(len(layout), runtime.GOMAXPROCS(0)) {
		wg.Go(func() {
			buf := make([]int64, 8<<10)
			var file []byte
			for {
				p := int(next.Add(1) - 1)
				if p >= len(layout) || ctx.Err() != nil {
					return
				}
				if infos[p], errs[p] = writeSpan(ctx, dir, kind, ents, layout[p], buf, &file); errs[p] != nil {
					cancel()
					return
				}
			}
		})
	}
	wg.Wait()
	for _, err := range errs { // the first shard's error, not the first to happen
		if err != nil && !errors.Is(err, context.Canceled) {
			return nil, err
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return infos, ctx.Err()
}

// writeSpan writes the shard of one placement.
// file is the worker's buffer for the shard's bytes, kept from one shard
// to the next.
func writeSpan(ctx context.Context, dir string, kind shard.Kind, ents Entries, pl Placement, buf []int64, file *[]byte) (shard.ShardInfo, error) {
	sf, err := createShard(dir, ShardName(kind, pl.Extension), kind, nil)
	if err != nil {
		return shard.ShardInfo{}, err
	}
	size := shard.HeaderSize + (pl.Span.End-pl.Span.Start)*kind.RecordSize()
	if cap(*file) < size {
		*file = make([]byte, 0, size)
	}
	sf.mem.buf = (*file)[:0]
	err = ents.Span(pl.Span.Start, pl.Span.End, buf, func(ns []int64) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := sf.w.AddBlock(ns); err != nil {
			return fmt.Errorf("write %s: %w", sf.name, err)
		}
		return nil
	})
	if err != nil {
		sf.f.Close()
		return shard.ShardInfo{}, err
	}
	return sf.finish(kind)
}

// localLabels builds a shard's own label table, in order of first use, and
// the index of each entry's label in it.
func localLabels(table []string, ids []uint32) ([]string, []uint32) {
	pos := map[uint32]uint32{}
	var labels []string
	local := make([]uint32, len(ids))
	for i, id := range ids {
		p, ok := pos[id]
		if !ok {
			p = uint32(len(labels))
			pos[id] = p
			labels = append(labels, table[id])
		}
		local[i] = p
	}
	return labels, local
}
