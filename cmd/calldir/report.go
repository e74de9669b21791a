package main

import (
	"bufio"
	"encoding/csv"
	"errors"

	"github.com/calldir/calldir/shard/outfs"
)

// A report (compile --rejects and --conflicts, replay --report, init's
// FILE) is an outfs.File: what is at the path decides how it is written
// (a temporary sibling renamed over a regular file; a FIFO or device
// written through; a symlink followed; a directory or socket refused).

// createOut opens path for writing by outfs.File's rules. With noClobber
// an existing path is refused instead (init without --force). A path that
// cannot be written is a usage error (exit 2).
func createOut(path string, noClobber bool) (*outfs.File, error) {
	f, err := outfs.CreateFile(path, noClobber)
	var te *outfs.TargetError
	switch {
	case errors.As(err, &te) && te.Exists:
		return nil, usagef("%s exists; pass --force to overwrite it", path)
	case errors.As(err, &te):
		return nil, usagef("%s", te.Error())
	}
	return f, err
}

// csvReport streams CSV rows to an outfs.File; commit ends it, discard
// drops it.
type csvReport struct {
	out *outfs.File
	bw  *bufio.Writer
	w   *csv.Writer
}

func newCSVReport(path string, header ...string) (*csvReport, error) {
	out, err := createOut(path, false)
	if err != nil {
		return nil, err
	}
	r := &csvReport{out: out, bw: bufio.NewWriterSize(out, 64<<10)}
	r.w = csv.NewWriter(r.bw)
	r.w.Write(header)
	return r, nil
}

func (r *csvReport) add(fields ...string) { r.w.Write(fields) }

func (r *csvReport) commit() error {
	if r == nil {
		return nil
	}
	r.w.Flush()
	err := r.w.Error()
	if err == nil {
		err = r.bw.Flush()
	}
	return r.out.Commit(err)
}

func (r *csvReport) discard() {
	if r != nil {
		r.out.Discard()
	}
}
