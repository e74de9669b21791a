package main

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/urfave/cli/v2"
)

func versionCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:      "version",
		Usage:     "print calldir's version and the versions of its number metadata and SQLite driver",
		ArgsUsage: " ",
		Description: withExamples(`
EXAMPLES:
   calldir version`),
		Action: func(c *cli.Context) error {
			if c.Args().Len() > 0 {
				return usagef("version takes no arguments")
			}
			fmt.Fprintf(e.stdout, "calldir %s (%s %s/%s)\n", Version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
			if bi, ok := debug.ReadBuildInfo(); ok {
				for _, d := range bi.Deps {
					switch d.Path {
					case "github.com/nyaruka/phonenumbers", "github.com/mattn/go-sqlite3", "github.com/urfave/cli/v2":
						fmt.Fprintf(e.stdout, "  %s %s\n", d.Path, d.Version)
					}
				}
			}
			return nil
		},
	}
}
