package livelookup

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/calldir/calldir/shard"
)

// Icons is a directory of per-number icons: "+E164.heic" files of at most
// MaxIconBytes each. The directory is listed once (names and sizes) and
// every icon is read through an os.Root of it when its number is written.
type Icons struct {
	root  *os.Root
	files map[int64]string
	used  map[int64]bool
}

// IconError is an icons directory entry an export refuses.
type IconError struct {
	Path string
	Msg  string
}

func (e *IconError) Error() string { return e.Path + ": " + e.Msg }

// OpenIcons lists dir, refusing any entry that is not a regular file named
// "+DIGITS.heic" of at most MaxIconBytes (names starting with a dot are
// skipped). The caller closes it.
func OpenIcons(dir string) (*Icons, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	ic := &Icons{root: root, files: map[int64]string{}, used: map[int64]bool{}}
	ents, err := os.ReadDir(dir)
	if err != nil {
		root.Close()
		return nil, err
	}
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), ".") {
			continue
		}
		if err := ic.add(dir, e); err != nil {
			root.Close()
			return nil, err
		}
	}
	return ic, nil
}

func (ic *Icons) add(dir string, e os.DirEntry) error {
	path := filepath.Join(dir, e.Name())
	digits, ok := strings.CutSuffix(e.Name(), ".heic")
	digits, plus := strings.CutPrefix(digits, "+")
	n, err := strconv.ParseInt(digits, 10, 64)
	if !ok || !plus || err != nil || n <= 0 || n > shard.MaxNumber || strconv.FormatInt(n, 10) != digits {
		return &IconError{path, "not an icon name: want +E164.heic, such as +14155550123.heic"}
	}
	if !e.Type().IsRegular() {
		return &IconError{path, "not a regular file"}
	}
	fi, err := e.Info()
	if err != nil {
		return err
	}
	if fi.Size() > MaxIconBytes {
		return &IconError{path, fmt.Sprintf("%d bytes, over the %d an icon may take", fi.Size(), MaxIconBytes)}
	}
	ic.files[n] = e.Name()
	return nil
}

// Unused is the number of icons no exported number used so far.
func (ic *Icons) Unused() int { return len(ic.files) - len(ic.used) }

// Read returns the icon of number n, or nil when it has none. The file is
// read through the directory's root, and its size checked again.
func (ic *Icons) Read(n int64) ([]byte, error) {
	name, ok := ic.files[n]
	if !ok {
		return nil, nil
	}
	f, err := shard.OpenFileIn(ic.root, name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxIconBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(ic.root.Name(), name), err)
	}
	if len(b) > MaxIconBytes {
		return nil, &IconError{filepath.Join(ic.root.Name(), name), fmt.Sprintf("over the %d bytes an icon may take", MaxIconBytes)}
	}
	if len(b) == 0 {
		return nil, &IconError{filepath.Join(ic.root.Name(), name), "empty"}
	}
	ic.used[n] = true
	return b, nil
}

// Close closes the directory.
func (ic *Icons) Close() error { return ic.root.Close() }
