//go:build !unix

package outfs

import (
	"errors"
	"os"
)

func fdPath(string) (int, bool) { return 0, false }

func dupFD(int, string) (*os.File, error) { return nil, errors.New("not supported") }
