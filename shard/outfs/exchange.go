package outfs

import (
	"errors"
	"os"
	"slices"
)

// Replacing an output directory that exists (the package doc's
// "Replacing an output" says what each way guarantees):
//
//	exchange(stage, dir) ──ok──────────▶ the stage holds the previous output
//	  │ unsupported (errNoExchange, or an error exchangeUnsupported lists)
//	  ▼
//	renameAside(stage, dir, old): dir → old, stage → dir
//	                              (a failed second rename moves old back)

// errNoExchange is what exchangeSys returns on a system without an atomic
// swap of two paths.
var errNoExchange = errors.New("no atomic exchange on this system")

// exchangeSys swaps two existing paths atomically: sysExchange, which is
// renameat2(RENAME_EXCHANGE) on Linux, renamex_np(RENAME_SWAP) on macOS
// and errNoExchange elsewhere. A variable so that the tests take the
// fallback, and see its errors, on any system.
var exchangeSys = sysExchange

// exchange atomically swaps the paths a and b, which both exist, so that
// neither is missing, not even for an instant. It reports false, having
// changed nothing, when the system or the file system cannot swap: then
// the caller falls back to renameAside.
func exchange(a, b string) (bool, error) {
	err := exchangeSys(a, b)
	switch {
	case err == nil:
		return true, nil
	case exchangeRefused(err):
		return false, nil
	}
	return false, err
}

// exchangeRefused reports whether err says that no swap can be done here,
// as opposed to this swap having failed (a permission, an I/O error).
func exchangeRefused(err error) bool {
	return errors.Is(err, errNoExchange) ||
		slices.ContainsFunc(exchangeUnsupported, func(e error) bool { return errors.Is(err, e) })
}

// asideHook, when set (by tests), is called in renameAside's window: the
// previous output has been moved aside and the path holds nothing.
var asideHook func()

// renameAside is the fallback where exchange cannot be done: it renames
// dir, the previous output, to old (a temporary sibling named with
// calldir's mark and this process's owner token, so that a later run
// tells it from a live run's), then stage to dir. Between the two renames
// dir does not exist. If the second rename fails, the first is undone.
func renameAside(stage, dir, old string) error {
	if err := os.Rename(dir, old); err != nil {
		return err
	}
	if asideHook != nil {
		asideHook()
	}
	if err := os.Rename(stage, dir); err != nil {
		os.Rename(old, dir) // put the previous output back
		return err
	}
	return nil
}
