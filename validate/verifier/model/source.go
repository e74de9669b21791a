package model

import (
	"errors"
	"io"
	"os"
	"path/filepath"

	"github.com/calldir/calldir/shard"
	"github.com/calldir/calldir/validate/verifier/plan"
)

// entry is one number (and label) the extension adds or removes.
type entry struct {
	num   int64
	label string
}

// SourceError is a shard named by a plan that cannot be read.
type SourceError struct {
	Path string
	Err  error
}

func (e *SourceError) Error() string { return e.Path + ": " + e.Err.Error() }
func (e *SourceError) Unwrap() error { return e.Err }

// entries yields an op's entries in the order the app gives them.
func entries(op plan.Op, fn func(entry) error) error {
	src := op.Source
	switch {
	case src.Shard != "":
		return shardEntries(op, fn)
	case src.Step > 0:
		for n := src.First; n <= src.Last; n += src.Step {
			if err := fn(entry{n, op.Label}); err != nil {
				return err
			}
			if n > src.Last-src.Step { // the next step would overflow past Last
				return nil
			}
		}
		return nil
	}
	for _, n := range src.Numbers {
		if err := fn(entry{n, op.Label}); err != nil {
			return err
		}
	}
	return nil
}

func shardEntries(op plan.Op, fn func(entry) error) error {
	src := op.Source
	f, err := openShard(src)
	if err != nil {
		return &SourceError{src.Shard, err}
	}
	defer f.Close()
	labels := f.Labels()
	for {
		rec, err := f.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return &SourceError{src.Shard, err}
		}
		en := entry{num: rec.Number, label: op.Label}
		if len(labels) > 0 && en.label == "" {
			en.label = labels[rec.Label]
		}
		if err := fn(en); err != nil {
			return err
		}
	}
}

func openShard(src plan.Source) (*shard.File, error) {
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
	defer root.Close()
	return shard.OpenIn(root, rel)
}
