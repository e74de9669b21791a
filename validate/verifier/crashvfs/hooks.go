package crashvfs

/*
#include <stdlib.h>
#include "shim.h"
*/
import "C"

import (
	"errors"
	"sync"
	"unsafe"

	// The SQLite the shim registers with and forwards to: go-sqlite3's,
	// linked into the same binary.
	_ "github.com/mattn/go-sqlite3"
)

// The calls shim.c makes into Go. Each finds the tracked file by its id
// and returns 0 for "go on with the real call" or a SQLite result code.

//export cvOpen
func cvOpen(name *C.char, flags C.int) C.longlong {
	return C.longlong(regOpen(C.GoString(name), int(flags)))
}

//export cvOpenFailed
func cvOpenFailed(id C.longlong) { regClose(int64(id)) }

//export cvClose
func cvClose(id C.longlong) { regClose(int64(id)) }

//export cvRead
func cvRead(id C.longlong) C.int {
	h := regHandle(int64(id))
	if h == nil {
		return 0
	}
	return C.int(h.run.read())
}

//export cvWrite
func cvWrite(id C.longlong, buf unsafe.Pointer, n C.int, off C.longlong) C.int {
	h := regHandle(int64(id))
	if h == nil {
		return 0
	}
	return C.int(h.run.write(h, unsafe.Slice((*byte)(buf), int(n)), int64(off)))
}

//export cvTruncate
func cvTruncate(id C.longlong, size C.longlong) C.int {
	h := regHandle(int64(id))
	if h == nil {
		return 0
	}
	return C.int(h.run.truncate(h, int64(size)))
}

//export cvSync
func cvSync(id C.longlong, flags C.int) C.int {
	h := regHandle(int64(id))
	if h == nil {
		return 0
	}
	return C.int(h.run.sync(h))
}

//export cvSectorSize
func cvSectorSize(id C.longlong) C.int {
	h := regHandle(int64(id))
	if h == nil {
		return 4096
	}
	return C.int(h.run.cfg.Sector)
}

//export cvDelete
func cvDelete(name *C.char, dirSync C.int) C.int {
	return C.int(regRemove(C.GoString(name), dirSync != 0))
}

var registerOnce struct {
	sync.Once
	err error
}

// register makes the VFS Name known to SQLite, once per process.
func register() error {
	registerOnce.Do(func() {
		name, base := C.CString(Name), C.CString("unix")
		// name stays allocated: SQLite keeps the pointer.
		defer C.free(unsafe.Pointer(base))
		if rc := C.crashvfs_register(name, base); rc != 0 {
			registerOnce.err = errors.New("crashvfs: register the VFS: SQLite error " + itoa(int(rc)))
		}
	})
	return registerOnce.err
}
