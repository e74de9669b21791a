//go:build cgo

package main

import "github.com/urfave/cli/v2"

// requireCgo leaves a cgo build's commands as they are (cgo_off.go).
func requireCgo(*cli.App) {}
