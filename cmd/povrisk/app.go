package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"runtime/debug"
	"sort"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/povrisk/povrisk/engine/fault"
)

// commands holds every subcommand; each command file adds its own in init.
var commands []*cli.Command

// register adds a subcommand; called from the init function of each command
// file. It gives the command (and its subcommands) what every command has:
// --quiet and --verbose, required flags checked as usage errors (exit 2,
// short usage on stderr), and defaults shown once in the help.
func register(c *cli.Command) {
	prepare(c, "povrisk")
	commands = append(commands, c)
}

// prepare fits one command for the shared rules; path is its parent's
// command line ("povrisk", "povrisk models").
func prepare(c *cli.Command, path string) {
	full := path + " " + c.Name
	for _, sub := range c.Subcommands {
		prepare(sub, full)
	}
	if !strings.Contains(c.Description, "povrisk --help") {
		if c.Description != "" {
			c.Description += "\n"
		}
		c.Description += exitCodePointer
	}
	if !hasFlag(c.Flags, "quiet") {
		c.Flags = append(c.Flags, quietFlag())
	}
	if !hasFlag(c.Flags, "verbose") {
		c.Flags = append(c.Flags, verboseFlag())
	}
	var required []string
	for _, f := range c.Flags {
		if name, ok := takeRequired(f); ok {
			required = append(required, name)
		}
		tidyDefault(f)
	}
	if len(required) > 0 {
		requiredFlags[c] = required
	}
	c.OnUsageError = func(ctx *cli.Context, err error, _ bool) error {
		return usageError(ctx.Command, full, err)
	}
	before := c.Before
	c.Before = func(ctx *cli.Context) error {
		var missing []string
		for _, name := range required {
			if !ctx.IsSet(name) {
				missing = append(missing, "--"+name)
			}
		}
		if len(missing) > 0 {
			return usageError(c, full, fmt.Errorf("missing %s", strings.Join(missing, ", ")))
		}
		// A command that takes no arguments refuses them: the flag parser
		// stops at the first one, so the flags after it would be lost.
		if c.ArgsUsage == "" && len(commandNames(c.Subcommands)) == 0 && ctx.Args().Present() {
			return usageError(c, full, fmt.Errorf("unexpected argument %q (flags after it are not read)", ctx.Args().First()))
		}
		if before != nil {
			return before(ctx)
		}
		return nil
	}
	if len(c.Subcommands) > 0 && c.Action == nil {
		c.Action = func(ctx *cli.Context) error {
			if !ctx.Args().Present() {
				return usageError(c, full, errors.New("missing subcommand"))
			}
			name := ctx.Args().First()
			return usageError(c, full, fmt.Errorf("unknown command %s%s", name, didYouMean(name, commandNames(c.Subcommands), "")))
		}
	}
}

// exitCodePointer ends every command's help: where the exit codes are.
const exitCodePointer = "Exit codes: the one table in 'povrisk --help' (0 ok, 1 internal, 2 usage, 3 bad input, 4 no model,\n" +
	"5 policy, 6 tampered run directory, 7 busy, 8 could not write); the same for every command."

func hasFlag(flags []cli.Flag, name string) bool {
	for _, f := range flags {
		for _, n := range f.Names() {
			if n == name {
				return true
			}
		}
	}
	return false
}

// takeRequired clears a flag's Required mark and reports its name: the
// command's Before checks it instead, so that a missing flag is a usage
// error with the short usage on stderr rather than the whole help on stdout.
func takeRequired(f cli.Flag) (string, bool) {
	switch f := f.(type) {
	case *cli.StringFlag:
		if f.Required {
			f.Required = false
			return f.Name, true
		}
	case *cli.IntFlag:
		if f.Required {
			f.Required = false
			return f.Name, true
		}
	case *cli.BoolFlag:
		if f.Required {
			f.Required = false
			return f.Name, true
		}
	}
	return "", false
}

// requiredFlags are the required flags of each command, taken off the
// flags by prepare (at init, before any command runs).
var requiredFlags = map[*cli.Command][]string{}

func requiredOf(c *cli.Command) []string { return requiredFlags[c] }

// usageDefault finds a default written into a flag's usage text, "(default 100)".
var usageDefault = regexp.MustCompile(`\s*\(default:? ([^)]*)\)`)

// tidyDefault makes the help show a flag's default once: a default named
// in the usage text moves to DefaultText (no more "(default 100)
// (default: 0)"), and switches do not show "(default: false)".
func tidyDefault(f cli.Flag) {
	move := func(usage *string, text *string) {
		if m := usageDefault.FindStringSubmatch(*usage); m != nil && *text == "" {
			*text = m[1]
			*usage = strings.TrimSpace(usageDefault.ReplaceAllString(*usage, ""))
		}
	}
	switch f := f.(type) {
	case *cli.IntFlag:
		move(&f.Usage, &f.DefaultText)
	case *cli.Uint64Flag:
		move(&f.Usage, &f.DefaultText)
	case *cli.Float64Flag:
		move(&f.Usage, &f.DefaultText)
	case *cli.DurationFlag:
		move(&f.Usage, &f.DefaultText)
	case *cli.StringFlag:
		move(&f.Usage, &f.DefaultText)
	case *cli.BoolFlag:
		f.DisableDefaultText = true
	}
}

func commandNames(cmds []*cli.Command) []string {
	var names []string
	for _, c := range cmds {
		if !c.Hidden && c.Name != "help" {
			names = append(names, c.Names()...)
		}
	}
	return names
}

// appOption changes the app before it runs: tests add commands through it
// (a command that panics, for the exit code of a caught panic).
type appOption func(*cli.App)

// withCommand adds a command to the app (tests only).
func withCommand(c *cli.Command) appOption {
	return func(a *cli.App) {
		prepare(c, "povrisk")
		a.Commands = append(a.Commands, c)
	}
}

const appDescription = `Exit codes (the same for every command; for cron and alerting):
%s
Every command takes --quiet (nothing but errors) and --verbose (more detail, and the stack of an
internal error). On a terminal long stages show a progress bar; without one (cron, a log file), a
command prints one line when it ends. Run 'povrisk doctor' before the first night.`

func newApp(stdin io.Reader, stdout, stderr io.Writer, opts ...appOption) *cli.App {
	cmds := append([]*cli.Command(nil), commands...)
	sort.Slice(cmds, func(i, j int) bool { return cmds[i].Name < cmds[j].Name })
	a := &cli.App{
		Name:        "povrisk",
		Usage:       "return-to-poverty early warning: ranked, explained household risk lists and briefs",
		Description: fmt.Sprintf(appDescription, strings.TrimRight(exitCodeTable(), "\n")),
		Version:     Version,
		Reader:      stdin,
		Writer:      stdout,
		ErrWriter:   stderr,
		Commands:    cmds,
		// Errors are printed once, by run, with their exit code.
		ExitErrHandler: func(*cli.Context, error) {},
		HideVersion:    true,
	}
	a.OnUsageError = func(ctx *cli.Context, err error, _ bool) error {
		return usageError(nil, "povrisk", err)
	}
	a.Action = func(ctx *cli.Context) error {
		if !ctx.Args().Present() {
			return cli.ShowAppHelp(ctx)
		}
		name := ctx.Args().First()
		return usageError(nil, "povrisk", fmt.Errorf("unknown command %s%s", name, didYouMean(name, commandNames(ctx.App.Commands), "")))
	}
	for _, o := range opts {
		o(a)
	}
	return a
}

// run executes the command line and returns the process exit code. A
// panic is caught here: a short message, the stack only with --verbose or
// POVRISK_DEBUG=1, and exit 1.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer, opts ...appOption) (code int) {
	defer func() {
		if p := recover(); p != nil {
			fmt.Fprintf(stderr, "povrisk: internal error: %v (a bug: please report it with the command line; --verbose or POVRISK_DEBUG=1 prints the stack)\n", p)
			if wantsStack(args) {
				stderr.Write(debug.Stack())
			}
			code = ExitFailure
		}
	}()
	err := newApp(stdin, stdout, stderr, opts...).Run(args)
	if err == nil {
		return ExitOK
	}
	err = classifyCLIError(err)
	fmt.Fprintf(stderr, "povrisk: %v\n", err)
	return exitCodeOf(err)
}

// wantsStack reports whether a caught panic should print its stack.
func wantsStack(args []string) bool {
	if os.Getenv("POVRISK_DEBUG") == "1" {
		return true
	}
	for _, a := range args {
		if a == "--" {
			break
		}
		if a == "--verbose" || a == "-verbose" || a == "-v" {
			return true
		}
	}
	return false
}

// classifyCLIError marks the errors urfave/cli makes itself (help topics,
// required flags) as usage errors; ours are already marked.
func classifyCLIError(err error) error {
	if fault.Of(err) != fault.Internal {
		return err
	}
	if topic, ok := strings.CutPrefix(err.Error(), "No help topic for '"); ok {
		topic = strings.TrimSuffix(topic, "'")
		return usageError(nil, "povrisk", fmt.Errorf("unknown command %s%s", topic, didYouMean(topic, commandNames(commands), "")))
	}
	var ec cli.ExitCoder
	if errors.As(err, &ec) || strings.HasPrefix(err.Error(), "Required flag") {
		return fault.Wrap(fault.Usage, err)
	}
	return err
}

// cliUsageError is a usage error with the command's short usage.
type cliUsageError struct {
	msg   string
	usage string
}

func (e *cliUsageError) Error() string { return e.msg + "\n" + e.usage }

// usageError turns a flag-parse or argument error of command c (nil: the
// app) into a usage error: what was wrong, a "did you mean" for a
// misspelt flag, and the command's one-line usage.
func usageError(c *cli.Command, path string, err error) error {
	msg := err.Error()
	var flags []cli.Flag
	if c != nil {
		flags = c.Flags
	}
	switch {
	case strings.HasPrefix(msg, "flag provided but not defined: "):
		name := strings.TrimLeft(strings.TrimPrefix(msg, "flag provided but not defined: "), "-")
		var names []string
		for _, f := range flags {
			names = append(names, f.Names()...)
		}
		msg = "unknown flag --" + name + didYouMean(name, names, "--")
	case strings.HasPrefix(msg, "flag needs an argument: "):
		name := strings.TrimLeft(strings.TrimPrefix(msg, "flag needs an argument: "), "-")
		msg = "--" + name + " needs a value"
	case strings.HasPrefix(msg, "invalid value "):
		msg = strings.Replace(msg, " for flag -", " for --", 1)
	}
	if where := strings.TrimPrefix(path, "povrisk "); where != "povrisk" {
		msg = where + ": " + msg
	}
	return fault.Wrap(fault.Usage, &cliUsageError{msg: msg, usage: shortUsage(c, path)})
}

// shortUsage is the one-line usage of c (nil: the app) and where to read more.
func shortUsage(c *cli.Command, path string) string {
	if c == nil {
		return "usage: povrisk COMMAND [flags]; commands: " + strings.Join(commandNames(commands), ", ") + " ('povrisk --help' says more)"
	}
	u := c.UsageText
	if u == "" {
		u = path
		if subs := commandNames(c.Subcommands); len(subs) > 0 {
			u += " " + strings.Join(subs, "|")
		}
		for _, f := range c.Flags {
			if r, ok := f.(interface{ IsRequired() bool }); ok && r.IsRequired() {
				u += " --" + f.Names()[0] + " VALUE"
			}
		}
		for _, name := range requiredOf(c) {
			u += " --" + name + " VALUE"
		}
		u += " [flags]"
		if c.ArgsUsage != "" {
			u += " " + c.ArgsUsage
		}
	}
	u = strings.ReplaceAll(u, "\n", "\n       ")
	return "usage: " + u + "\n('" + path + " --help' lists every flag)"
}

// didYouMean suggests the closest of names to a misspelt word, or "".
func didYouMean(word string, names []string, prefix string) string {
	best, bestD := "", 3
	for _, n := range names {
		if d := editDistance(word, n); d < bestD && d < len(n) {
			best, bestD = n, d
		}
	}
	if best == "" || len(word) < 2 {
		return ""
	}
	return "; did you mean " + prefix + best + "?"
}

// editDistance is the optimal-string-alignment distance: insertions,
// deletions, substitutions and swaps of two neighbours ("rnu" is 1 from "run").
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	d := make([][]int, len(ra)+1)
	for i := range d {
		d[i] = make([]int, len(rb)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(ra)][len(rb)]
}
