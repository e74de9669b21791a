package validate

import (
	"fmt"
	"io/fs"
	"os"

	"github.com/calldir/calldir/shard"
)

// openRegular opens name inside root for reading, refusing anything but a
// regular file before it is opened: a FIFO put where a manifest or shard
// belongs would block open(2) forever, and a blocked open does not even
// answer SIGINT. Stat follows symlinks only inside root, as Open does.
func openRegular(root *os.Root, name string) (*os.File, error) {
	fi, err := root.Stat(name)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fmt.Errorf("%s, not a regular file", shard.FileType(fi.Mode()))}
	}
	return root.Open(name)
}
