//go:build !linux && !darwin

package outfs

// sysExchange: no atomic swap of two paths here (Windows, the BSDs), so
// Commit takes renameAside's two renames.
func sysExchange(a, b string) error { return errNoExchange }

var exchangeUnsupported []error
