package main

import (
	"errors"
	"fmt"
	"io"
	"sort"

	"github.com/urfave/cli/v2"
)

// commands holds every subcommand; each command file adds its own in init.
var commands []*cli.Command

// register adds a subcommand; called from the init function of each command file.
func register(c *cli.Command) { commands = append(commands, c) }

// exitCoder is an error that carries the process exit code (see exitcodes.go).
type exitCoder interface{ ExitCode() int }

func newApp(stdin io.Reader, stdout, stderr io.Writer) *cli.App {
	cmds := append([]*cli.Command(nil), commands...)
	sort.Slice(cmds, func(i, j int) bool { return cmds[i].Name < cmds[j].Name })
	return &cli.App{
		Name:      "povrisk",
		Usage:     "return-to-poverty early warning: ranked, explained household risk lists and briefs",
		Version:   Version,
		Reader:    stdin,
		Writer:    stdout,
		ErrWriter: stderr,
		Commands:  cmds,
		// Errors are printed once, by run, with their exit code.
		ExitErrHandler: func(*cli.Context, error) {},
		HideVersion:    true,
	}
}

// run executes the command line and returns the process exit code.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	err := newApp(stdin, stdout, stderr).Run(args)
	if err == nil {
		return 0
	}
	fmt.Fprintf(stderr, "povrisk: %v\n", err)
	var ec exitCoder
	if errors.As(err, &ec) && ec.ExitCode() != 0 {
		return ec.ExitCode()
	}
	return ExitFailure
}
