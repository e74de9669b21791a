package shard

import (
	"fmt"
	"io"
	"os"
)

// OpenRegular opens name inside root for reading if it is a regular file.
// It stats before it opens: opening a FIFO (or a device) would block until
// a writer comes, deaf even to signals. It opens without waiting
// (O_NONBLOCK where the system has it), and checks the open file again, so
// that a FIFO swapped in between is refused too.
func OpenRegular(root *os.Root, name string) (*os.File, error) {
	fi, err := root.Stat(name)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, notRegular(name, fi.Mode())
	}
	return openNoWait(root, name)
}

// openNoWait opens name inside root without waiting for a FIFO's writer
// and refuses what is then not a regular file.
func openNoWait(root *os.Root, name string) (*os.File, error) {
	f, err := root.OpenFile(name, os.O_RDONLY|NoWait, 0)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err == nil && !fi.Mode().IsRegular() {
		err = notRegular(name, fi.Mode())
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

func notRegular(name string, m os.FileMode) error {
	return fmt.Errorf("%s is %s, not a regular file", name, FileType(m))
}

// ReadRegular reads the regular file name inside root (OpenRegular), of at
// most limit bytes.
func ReadRegular(root *os.Root, name string, limit int64) ([]byte, error) {
	f, err := OpenRegular(root, name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s is larger than %d bytes", name, limit)
	}
	return data, nil
}
