// Package fault classifies errors by what the operator should do about
// them. Every povrisk command exits with the code of its error's kind
// (the table in README.md and `povrisk --help`); a package that knows
// what went wrong wraps its error with that kind, and everything above it
// keeps wrapping with %w so that the kind survives to the command line.
//
// It is a leaf: it imports nothing of povrisk, so every package may use it.
package fault

import (
	"context"
	"errors"
	"io/fs"
	"syscall"
)

// Kind is what went wrong, as the process exit code that reports it.
type Kind int

// The exit-code table. Keep README.md and the `povrisk --help` text in step.
const (
	OK       Kind = 0
	Internal Kind = 1 // a bug or an unexpected failure (a caught panic too)
	Usage    Kind = 2 // unknown command or flag, missing or malformed flag value
	BadInput Kind = 3 // input data unreadable, invalid, stale or rejected as a whole
	NoModel  Kind = 4 // no usable model in the registry, or it does not fit the catalog
	Policy   Kind = 5 // the policy file (or another settings file) is missing or invalid
	Tampered Kind = 6 // a run directory or the audit log is incomplete or tampered with
	Busy     Kind = 7 // another process holds the lock on the warehouse or runs directory
	Write    Kind = 8 // could not write: disk full, I/O error, permission, read-only
)

var names = map[Kind]string{
	OK: "ok", Internal: "internal error", Usage: "usage", BadInput: "bad input",
	NoModel: "no usable model", Policy: "policy error", Tampered: "incomplete or tampered run directory",
	Busy: "busy", Write: "could not write",
}

// String is the kind's short name, as in the exit-code table.
func (k Kind) String() string {
	if s, ok := names[k]; ok {
		return s
	}
	return "unknown"
}

// Kinds lists every kind in exit-code order, for tables and tests.
func Kinds() []Kind {
	return []Kind{OK, Internal, Usage, BadInput, NoModel, Policy, Tampered, Busy, Write}
}

type kindError struct {
	kind Kind
	err  error
}

func (e *kindError) Error() string { return e.err.Error() }
func (e *kindError) Unwrap() error { return e.err }

// Wrap marks err as of kind k; nil stays nil. The message is err's own.
func Wrap(k Kind, err error) error {
	if err == nil {
		return nil
	}
	return &kindError{kind: k, err: err}
}

// Of returns the kind of err: the outermost kind marked with Wrap; failing
// that, Write for an error of the file system that means the disk or the
// permissions failed (so that no caller can report it as bad input);
// Internal for anything else, and OK for nil.
func Of(err error) Kind {
	if err == nil {
		return OK
	}
	var ke *kindError
	if errors.As(err, &ke) {
		return ke.kind
	}
	if IsWriteFailure(err) {
		return Write
	}
	return Internal
}

// Input marks err as bad input, unless it comes from the disk (a read or
// write failure: fault.Write, as Of tells) or from a cancelled context:
// those keep their own kind, so that a failing disk under an input file
// is never reported as the input's fault.
func Input(err error) error {
	if err == nil || IsWriteFailure(err) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return Wrap(BadInput, err)
}

// Is reports whether err is of kind k.
func Is(err error, k Kind) bool { return Of(err) == k }

// IsWriteFailure reports whether err comes from a failing disk or refused
// permission: ENOSPC, EDQUOT, EIO, EROFS, EACCES, EPERM, EFBIG, and
// ENOTDIR (an output path runs through a regular file, so nothing can be
// created there). A reader that meets ENOTDIR on an input path marks its
// error BadInput itself; the outermost kind wins.
func IsWriteFailure(err error) bool {
	for _, e := range []error{syscall.ENOSPC, syscall.EDQUOT, syscall.EIO, syscall.EROFS, syscall.EFBIG, syscall.ENOTDIR} {
		if errors.Is(err, e) {
			return true
		}
	}
	return errors.Is(err, fs.ErrPermission)
}
