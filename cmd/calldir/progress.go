package main

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/calldir/calldir/compiler"
)

// progress prints a one-line status on stderr, rewritten in place, when
// stderr is a terminal and the job has run for more than a second.
type progress struct {
	w       io.Writer
	on      bool
	start   time.Time
	last    time.Time
	printed bool
}

// progressDelay is how long a job runs before progress shows: short jobs
// (an Xcode build phase on a small list) stay silent.
const progressDelay = time.Second

func newProgress(w io.Writer, quiet bool) *progress {
	return &progress{w: w, on: !quiet && isTerminal(w), start: time.Now()}
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

func (p *progress) update(pr compiler.Progress) {
	if !p.on {
		return
	}
	now := time.Now()
	if now.Sub(p.start) < progressDelay || now.Sub(p.last) < 200*time.Millisecond {
		return
	}
	p.last = now
	if pr.Keys > 0 {
		fmt.Fprintf(p.w, "\r\033[Ksorting: %s of about %s numbers", group(pr.Sorted), group(pr.Keys))
		p.printed = true
		return
	}
	pct := ""
	if pr.TotalBytes > 0 {
		pct = fmt.Sprintf(" %3.0f%%", 100*float64(pr.Bytes)/float64(pr.TotalBytes))
	}
	rate := float64(pr.Bytes) / now.Sub(p.start).Seconds() / 1e6
	fmt.Fprintf(p.w, "\r\033[Kreading %s:%s %s lines, %.1f MB/s", pr.Source, pct, group(pr.Lines), rate)
	p.printed = true
}

func (p *progress) done() {
	if p.printed {
		fmt.Fprint(p.w, "\r\033[K")
	}
}
