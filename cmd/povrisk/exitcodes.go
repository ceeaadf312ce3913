package main

import (
	"fmt"
	"strings"

	"github.com/povrisk/povrisk/engine/fault"
)

// Exit codes that cron jobs and wrappers can act on: a thin layer over the
// error kinds of engine/fault, whose numbers they are. The process exits
// with int(fault.Of(err)).
const (
	ExitOK         = int(fault.OK)
	ExitFailure    = int(fault.Internal) // a bug or unexpected failure; a caught panic
	ExitUsage      = int(fault.Usage)    // unknown command or flag, missing or malformed flag value
	ExitBadInput   = int(fault.BadInput) // input data unreadable, invalid, stale, or a required table missing
	ExitNoModel    = int(fault.NoModel)  // no model in the registry, or it does not fit the catalog
	ExitPolicy     = int(fault.Policy)   // policy file missing or invalid
	ExitIncomplete = int(fault.Tampered) // a run directory or the audit log is incomplete or tampered with
	ExitBusy       = int(fault.Busy)     // another process holds the lock
	ExitWrite      = int(fault.Write)    // could not write: disk, permission, read-only
)

// withCode marks err with the fault kind of exit code code; nil stays nil.
// It is fault.Wrap under the name the command files use.
func withCode(code int, err error) error { return fault.Wrap(fault.Kind(code), err) }

// exitCodeOf is the process exit code of err.
func exitCodeOf(err error) int { return int(fault.Of(err)) }

// exitMeaning is what each exit code tells the operator, in the words of
// the README's table (a test keeps the two the same).
func exitMeaning(k fault.Kind) string {
	switch k {
	case fault.OK:
		return "ok"
	case fault.Internal:
		return "internal error: a bug or an unexpected failure (a caught panic too); report it"
	case fault.Usage:
		return "usage: unknown command or flag, missing or malformed flag value"
	case fault.BadInput:
		return "bad input: the drop or warehouse is unreadable, invalid, stale, or lacks a required table"
	case fault.NoModel:
		return "no usable model: none in the registry, or it does not fit the feature catalog"
	case fault.Policy:
		return "policy error: the policy file is missing or invalid"
	case fault.Tampered:
		return "incomplete or tampered run directory or audit log"
	case fault.Busy:
		return "busy: another run or ingest holds the lock (pid, command, since when); see --wait"
	case fault.Write:
		return "could not write: disk full, I/O error, permission, read-only file system"
	}
	return k.String()
}

// exitCodeTable is the exit-code table as printed by `povrisk --help` and
// copied into README.md: one line per code.
func exitCodeTable() string {
	var b strings.Builder
	for _, k := range fault.Kinds() {
		fmt.Fprintf(&b, "  %d  %s\n", int(k), exitMeaning(k))
	}
	return b.String()
}

// kindOr keeps the kind an engine package marked err with and marks an
// unmarked (internal) error with code: the command's guess never
// overrides what the engine knew (a busy lock, a failed write).
func kindOr(code int, err error) error {
	if err == nil {
		return nil
	}
	if fault.Of(err) != fault.Internal {
		return err
	}
	return withCode(code, err)
}
