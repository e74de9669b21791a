package plan

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/calldir/calldir/shard"
)

// EachEntry yields an op's numbers, with their labels, in the order the
// app gives them: a range, a list, or a shard read inside its Root. The
// driver's extension and the reference model both read sources through it.
func EachEntry(op Op, fn func(n int64, label string) error) error {
	src := op.Source
	switch {
	case src.Shard != "":
		return eachShardEntry(op, fn)
	case src.Step > 0:
		for n := src.First; ; n += src.Step {
			if err := fn(n, op.Label); err != nil {
				return err
			}
			if n > src.Last-src.Step {
				return nil
			}
		}
	default:
		for _, n := range src.Numbers {
			if err := fn(n, op.Label); err != nil {
				return err
			}
		}
		return nil
	}
}

func eachShardEntry(op Op, fn func(int64, string) error) error {
	src := op.Source
	f, err := openSource(src)
	if err != nil {
		return &SourceError{Path: src.Shard, Err: err}
	}
	defer f.Close()
	labels := f.Labels()
	for {
		rec, err := f.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return &SourceError{Path: src.Shard, Err: err}
		}
		label := op.Label
		if len(labels) > 0 && label == "" {
			label = labels[rec.Label]
		}
		if err := fn(rec.Number, label); err != nil {
			return err
		}
	}
}

// openSource opens a source's shard: inside its Root through an os.Root
// when it has one, as given otherwise.
func openSource(src Source) (*shard.File, error) {
	if src.Root == "" {
		return shard.Open(src.Shard)
	}
	rel, err := filepath.Rel(src.Root, src.Shard)
	if err != nil {
		return nil, err
	}
	root, err := os.OpenRoot(src.Root)
	if err != nil {
		return nil, err
	}
	defer root.Close() // the open shard keeps its own descriptor
	return shard.OpenIn(root, rel)
}

// SourceError is a shard named by a plan that cannot be read.
type SourceError struct {
	Path string
	Err  error
}

func (e *SourceError) Error() string {
	var re *shard.PathError
	if errors.As(e.Err, &re) {
		return re.Error() // names the file and its directory already
	}
	if msg := e.Err.Error(); strings.HasPrefix(msg, e.Path+": ") {
		return msg // shard.Open named it
	}
	var pe *os.PathError
	if errors.As(e.Err, &pe) {
		return e.Path + ": " + pe.Err.Error()
	}
	return e.Path + ": " + e.Err.Error()
}
func (e *SourceError) Unwrap() error { return e.Err }
