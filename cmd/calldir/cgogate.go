package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/urfave/cli/v2"
)

// A build without cgo (CGO_ENABLED=0, as a cross-build for macOS is by
// default) links go-sqlite3's stub, whose driver opens no database, and
// crashvfs, whose VFS registers through SQLite's C API, without them.
// Every other command works; these refuse to start, rather than fail
// later with the stub's error. The exit status is 2, an I/O error's.
var cgoCommands = []string{"replay", "explore", "doctor"}

// requireCgo makes the commands that need SQLite say that they need a cgo
// build. A cgo build's tests call it too (env.noCgo), so the gate is tested
// where the rest is.
func requireCgo(app *cli.App) {
	for _, c := range app.Commands {
		name, run := c.Name, c.Action
		switch {
		case slices.Contains(cgoCommands, name):
			c.Action = func(*cli.Context) error { return errNeedsCgo(name) }
		case name == "bench":
			// Only the replay stage loads into SQLite: the others run.
			c.Action = func(ctx *cli.Context) error {
				if ctx.Int("replay") > 0 && slices.Contains(strings.Split(ctx.String("stages"), ","), "replay") {
					return fmt.Errorf("%w (leave the stage out: --stages normalize,sort,compile)", errNeedsCgo("bench's replay stage"))
				}
				return run(ctx)
			}
		}
	}
}

func errNeedsCgo(what string) error {
	return fmt.Errorf("%s needs a cgo build (go-sqlite3): this calldir was built with CGO_ENABLED=0", what)
}
