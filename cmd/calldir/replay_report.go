package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/calldir/calldir/shard/outfs"
	"github.com/calldir/calldir/validate/verifier"
	"github.com/calldir/calldir/validate/verifier/htmlreport"
)

// htmlOut is replay's --report FILE: an outfs.File (see report.go for what
// is done with a FIFO, a device, a symlink or a directory at the path)
// that, stricter than a CSV report, replaces a regular file only when it
// is empty or a report calldir wrote: an HTML file at the path is more
// likely a page of the user's than a report of ours.
type htmlOut struct {
	out *outfs.File
	in  htmlreport.Input
}

// openHTMLReport checks the path and opens the report's temporary file.
// title names what is replayed; p gives the settings and the steps' tags;
func openHTMLReport(path, title string, p *verifier.Plan) (*htmlOut, error) {
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

// checkReplayPaths declares what a replay reads (its plan or builds) and
// writes (the database --keep keeps, --report) and refuses, before the
// replay, a write that is, contains or lies inside another of them
// (shard/outfs): --keep inside a build, a report onto the database.
func checkReplayPaths(args []string, keep, report string) error {
	var p outfs.Plan
	for _, a := range args {
		p.ReadDir("input", a)
	}
	if keep != "" {
		db := filepath.Join(keep, verifier.DBName)
		p.WriteFile("keep", db)
		for _, suffix := range []string{"-journal", "-wal", "-shm"} {
			p.WriteFile("database", db+suffix)
		}
	}
	p.WriteFile("report", report)
	err := p.Check()
	if err == nil && keep != "" {
		if err := verifier.CheckKeep(keep); err != nil {
			return usagef("--keep %s: %v", keep, err)
		}
	}
	var ov *outfs.OverlapError
	if errors.As(err, &ov) && ov.How == outfs.Same && (ov.Role == "report" || ov.OtherRole == "report") && ov.BothWrite {
		db := ov.OtherPath
		if ov.Role != "report" {
			db = ov.Path
		}
		return usagef("--report %s is %s, a file of the database --keep writes; give another path", report, db)
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
	return h.out.Commit(htmlreport.Write(h.out, in))
}

// discard drops the temporary file of a report not written.
func (h *htmlOut) discard() {
	if h != nil {
		h.out.Discard()
	}
}
