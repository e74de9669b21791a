package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/calldir/calldir/compiler"
	"github.com/calldir/calldir/compiler/fetch"
	"github.com/urfave/cli/v2"
)

// Version is calldir's version. It is recorded in every manifest, so it is a
// constant rather than a build stamp: the same inputs give the same bytes.
const Version = "0.1.0"

// Exit codes: one table for the whole CLI, decided in exitCode only.
const (
	exitOK          = 0   // success
	exitFindings    = 1   // findings, or rejects over --max-rejects
	exitUsage       = 2   // usage or I/O error
	exitFetch       = 3   // a source given by URL could not be fetched
	exitInterrupted = 130 // SIGINT/SIGTERM
)

// exitMeanings is what each exit code means, for --help, docs/CLI.md and
// the README's table (a test holds the README to this set).
var exitMeanings = []struct {
	code    int
	meaning string
}{
	{exitOK, "success"},
	{exitFindings, "findings, or rejected lines over --max-rejects"},
	{exitUsage, "usage error, unreadable input or I/O error"},
	{exitFetch, "a source given by URL could not be fetched (keep the last build; retry later)"},
	{exitInterrupted, "interrupted"},
}

// exitTable ends every command's help.
var exitTable = func() string {
	var b strings.Builder
	b.WriteString("EXIT STATUS:\n")
	for _, e := range exitMeanings {
		fmt.Fprintf(&b, "   %-4d %s\n", e.code, e.meaning)
	}
	return b.String()
}()

// usageError marks a problem with how calldir was called.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, a ...any) error { return usageError{fmt.Errorf(format, a...)} }

// findingsError is a run that completed but found problems (exit 1). The
// details were already printed.
type findingsError struct{ msg string }

func (e findingsError) Error() string { return e.msg }

// exitCode maps an error to the exit-status table.
func exitCode(err error) int {
	var fe findingsError
	var ue usageError
	var cu *compiler.UsageError
	var tr *compiler.TooManyRejectsError
	var fe2 *fetch.Error
	var lo *leftOutError
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, context.Canceled):
		return exitInterrupted
	case errors.As(err, &fe), errors.As(err, &tr):
		return exitFindings
	case errors.As(err, &ue), errors.As(err, &cu):
		return exitUsage
	case errors.As(err, &fe2), errors.As(err, &lo):
		return exitFetch
	}
	return exitUsage // I/O and input errors
}

// env is what a command may touch of the outside world, injected so tests
// drive the real CLI in-process.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
	// rowDone, when set, is called each time explore or replay finishes a
	// row (a case, a step): tests interrupt a run at a known point with it.
	rowDone func()
	// noCgo, in tests, gates the commands as a build without cgo does.
	noCgo bool
}

// run builds the app, runs it on args and returns the exit code.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return runEnv(ctx, args, &env{stdin: stdin, stdout: stdout, stderr: stderr, getenv: os.Getenv})
}

// runEnv is run with the outside world given as an env.
func runEnv(ctx context.Context, args []string, e *env) int {
	stderr := e.stderr
	app := newApp(e)
	if !haveCgo || e.noCgo {
		requireCgo(app) // cgogate.go: without cgo, the commands that need SQLite refuse
	}
	if len(args) > 0 {
		args = append(args[:1:1], permuteArgs(app, helpArgs(args[1:]))...)
	}
	err := app.RunContext(ctx, args)
	if err != nil {
		var fe findingsError
		if !errors.As(err, &fe) {
			msg := err.Error()
			if m, ok := explainGuard(err); ok {
				msg = m
			}
			if errors.Is(err, context.Canceled) {
				msg = "interrupted"
			}
			fmt.Fprintf(stderr, "calldir: %s\n", msg)
		}
	}
	return exitCode(err)
}

func newApp(e *env) *cli.App {
	app := &cli.App{
		Name:                   "calldir",
		Usage:                  "compile phone-number lists into shards for iOS Call Directory extensions",
		Version:                Version,
		Writer:                 e.stdout,
		ErrWriter:              e.stderr,
		Reader:                 e.stdin,
		HideHelpCommand:        true,
		UseShortOptionHandling: true,
		Suggest:                true,
		ExitErrHandler:         func(*cli.Context, error) {}, // run decides the exit code
		OnUsageError: func(_ *cli.Context, err error, _ bool) error {
			return usageError{err}
		},
		CustomAppHelpTemplate: cli.AppHelpTemplate + "\n" + exitTable,
		Commands: []*cli.Command{
			initCommand(e),
			compileCommand(e),
			exportCommand(e),
			inspectCommand(e),
			validateCommand(e),
			diffCommand(e),
			keygenCommand(e),
			publishCommand(e),
			verifyChannelCommand(e),
			replayCommand(e),
			fleetCommand(e),
			exploreCommand(e),
			doctorCommand(e),
			benchCommand(e),
			versionCommand(e),
		},
		Action: func(c *cli.Context) error {
			if c.Args().Len() > 0 {
				return usagef("unknown command %q (see calldir --help)", c.Args().First())
			}
			// No command is a usage error: the help goes to stderr and the
			// exit status is 2, so a script that forgot its command does
			// not pass. calldir --help is the way to ask for it (exit 0).
			c.App.Writer = e.stderr
			defer func() { c.App.Writer = e.stdout }()
			if err := cli.ShowAppHelp(c); err != nil {
				return err
			}
			return usagef("no command given (see calldir --help)")
		},
	}
	quietUsageErrors(app.Commands)
	return app
}

// quietUsageErrors makes a flag a command cannot parse a usage error like
// any other: one line on stderr, exit 2. urfave/cli's default prints
// "Incorrect Usage" and the whole help on stdout, which would corrupt the
// output of --format json (a job's summary.json).
func quietUsageErrors(cmds []*cli.Command) {
	for _, c := range cmds {
		if c.OnUsageError == nil {
			c.OnUsageError = func(_ *cli.Context, err error, _ bool) error { return usageError{err} }
		}
		quietUsageErrors(c.Subcommands)
	}
}

// helpArgs reads "help COMMAND..." as "COMMAND... --help", so that
// "calldir help compile" prints compile's help as "calldir compile --help"
// does, and "calldir help" the app's. The app hides urfave/cli's help
// command (HideHelpCommand), which would otherwise add itself to the
// command list of calldir --help; an unknown COMMAND is then refused like
// any unknown command (exit 2).
func helpArgs(args []string) []string {
	if len(args) == 0 || args[0] != "help" {
		return args
	}
	return append(append([]string(nil), args[1:]...), "--help")
}

// withExamples appends examples and the exit table to a command's help.
func withExamples(examples string) string {
	return strings.TrimSpace(examples) + "\n\n" + exitTable
}

// permuteArgs moves a subcommand's flags in front of its arguments, so that
// "calldir compile list.txt --out build" works: urfave/cli v2 stops parsing
// flags at the first argument. "--" ends the flags as usual.
func permuteArgs(app *cli.App, args []string) []string {
	return permuteIn(app.Commands, args)
}

// permuteIn permutes the arguments of the command args[0] among cmds,
// descending into a subcommand ("export live-lookup").
func permuteIn(cmds []*cli.Command, args []string) []string {
	if len(args) == 0 {
		return args
	}
	var cmd *cli.Command
	for _, c := range cmds {
		for _, n := range c.Names() {
			if n == args[0] {
				cmd = c
			}
		}
	}
	if cmd == nil {
		return args
	}
	if len(args) > 1 {
		for _, sc := range cmd.Subcommands {
			if slices.Contains(sc.Names(), args[1]) {
				return append([]string{args[0]}, permuteIn(cmd.Subcommands, args[1:])...)
			}
		}
	}
	takesValue := map[string]bool{}
	for _, f := range cmd.Flags {
		_, isBool := f.(*cli.BoolFlag)
		for _, n := range f.Names() {
			takesValue[n] = !isBool
		}
	}
	flags := []string{args[0]}
	var rest []string
	for i := 1; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			rest = append(rest, args[i:]...)
			break
		}
		if len(a) < 2 || a[0] != '-' {
			rest = append(rest, a)
			continue
		}
		flags = append(flags, a)
		name := strings.TrimLeft(a, "-")
		if strings.Contains(name, "=") {
			continue
		}
		if takesValue[name] && i+1 < len(args) {
			i++
			flags = append(flags, args[i])
		}
	}
	if len(rest) > 0 && rest[0] != "--" {
		flags = append(flags, "--")
	}
	return append(flags, rest...)
}
