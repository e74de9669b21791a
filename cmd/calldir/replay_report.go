package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/calldir/calldir/compiler"
	"github.com/calldir/calldir/validate/verifier"
	"github.com/calldir/calldir/validate/verifier/htmlreport"
)

// htmlOut is replay's --report FILE: an outFile (see report.go for what
// is done with a FIFO, a device, a symlink or a directory at the path)
// that, stricter than a CSV report, replaces a regular file only when it
// is empty or a report calldir wrote: an HTML file at the path is more
// likely a page of the user's than a report of ours.
type htmlOut struct {
	out *outFile
	in  htmlreport.Input
}

// openHTMLReport checks the path and opens the report's temporary file.
// title names what is replayed; p gives the settings and the steps' tags;
// keep is --keep's directory, whose database files the report may not be.
func openHTMLReport(path, title, keep string, p *verifier.Plan) (*htmlOut, error) {
	if err := checkNotKeptDB(path, keep); err != nil {
		return nil, err
	}
	if err := checkOwnReport(path); err != nil {
		return nil, err
	}
	out, err := createOut(path, false)
	if err != nil {
		return nil, err
	}
	tags := make([]string, len(p.Steps))
	for i, st := range p.Steps {
		tags[i] = st.Tag
	}
	in := htmlreport.Input{Title: title, Tool: "calldir " + Version, Settings: p.Settings.Pairs(), Tags: tags, Planned: len(p.Steps)}
	return &htmlOut{out: out, in: in}, nil
}

// replayTitle names what is replayed, for the page's heading: the
// arguments, a long delta chain shortened to its ends and its length.
func replayTitle(args []string, target string) string {
	shown := strings.Join(args, " ")
	if n := len(args); n > 6 {
		shown = fmt.Sprintf("%s %s %s … %s (%d deltas)", args[0], args[1], args[2], args[n-1], n-1)
	}
	if target != "" {
		shown += " --target " + target
	}
	return shown
}

// checkNotKeptDB refuses a report path that is one of the files of the
// database replay keeps in keep: the replay deletes and recreates them,
// and the report's rename would then replace the database.
func checkNotKeptDB(path, keep string) error {
	if keep == "" {
		return nil
	}
	paths := []compiler.NamedPath{{Role: "report", Path: path}}
	for _, suffix := range []string{"", "-journal", "-wal", "-shm"} {
		paths = append(paths, compiler.NamedPath{Role: "database", Path: filepath.Join(keep, "CallDirectory.db"+suffix)})
	}
	err := compiler.CheckReportsNotInputs(paths, "report")
	var same *compiler.ReportIsInputError
	if errors.As(err, &same) {
		return usagef("--report %s is %s, a file of the database --keep writes; give another path", path, same.Input)
	}
	return err
}

// checkOwnReport refuses a regular file at path (a symlink's target
// included) that holds something and is not a report calldir wrote.
func checkOwnReport(path string) error {
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) || (err == nil && !fi.Mode().IsRegular()) {
		return nil // a new path; or a FIFO, device or directory: createOut decides
	}
	if err != nil {
		return fmt.Errorf("--report %s: %w", path, err)
	}
	if fi.Size() == 0 {
		return nil // nothing to lose: a path made by mktemp
	}
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("--report %s: %w", path, err)
	}
	defer f.Close()
	head := make([]byte, 512)
	n, err := io.ReadFull(f, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("--report %s: %w", path, err)
	}
	if !htmlreport.IsReport(head[:n]) {
		return usagef("--report %s: refusing to replace a file calldir did not write (it does not begin like a calldir replay report); remove it or give another path", path)
	}
	return nil
}

// write renders rep into the temporary file and renames it into place.
// A nil htmlOut (no --report) writes nothing.
func (h *htmlOut) write(rep *verifier.Report, interrupted bool) error {
	if h == nil {
		return nil
	}
	in := h.in
	in.Report, in.Interrupted = rep, interrupted
	return h.out.commit(htmlreport.Write(h.out, in))
}

// discard drops the temporary file of a report not written.
func (h *htmlOut) discard() {
	if h != nil {
		h.out.discard()
	}
}
