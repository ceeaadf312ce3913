package ingest

import (
	"errors"
	"fmt"
)

// Sentinels for the reasons a row is rejected; a *RowError wraps one of them.
var (
	ErrType       = errors.New("wrong type")
	ErrCode       = errors.New("unknown code")
	ErrRange      = errors.New("out of range")
	ErrMissing    = errors.New("required field empty")
	ErrDuplicate  = errors.New("duplicate key")
	ErrOrphan     = errors.New("reference points nowhere")
	ErrDate       = errors.New("bad date")
	ErrFieldCount = errors.New("wrong number of fields")
	ErrQuote      = errors.New("bad quoting")
	ErrEncoding   = errors.New("invalid text encoding")
	ErrText       = errors.New("unacceptable text")
	ErrPersonal   = errors.New("personal data where it does not belong")
)

// RowError is a rejected row: the file, the physical line where the record
// starts (the header is line 1), the column at fault ("" when the row as a
// whole is malformed) and the reason, which wraps one of the sentinels.
type RowError struct {
	File   string
	Line   int
	Column string
	Err    error
}

func (e *RowError) Error() string {
	if e.Column == "" {
		return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err)
	}
	return fmt.Sprintf("%s:%d: column %s: %v", e.File, e.Line, e.Column, e.Err)
}

func (e *RowError) Unwrap() error { return e.Err }

// FileError is a problem with a whole file (unreadable, undecodable, a
// required column missing, a malformed header): the table is not loaded.
type FileError struct {
	File   string
	Column string // "" when no particular column is at fault
	Err    error
}

func (e *FileError) Error() string {
	if e.Column == "" {
		return fmt.Sprintf("%s: %v", e.File, e.Err)
	}
	return fmt.Sprintf("%s: column %s: %v", e.File, e.Column, e.Err)
}

func (e *FileError) Unwrap() error { return e.Err }

// ErrRequiredTable is wrapped by Run's error when households or persons is
// missing from the drop or could not be loaded.
var ErrRequiredTable = errors.New("required table missing or unreadable")

// ErrNoKey is returned when persons carries id_number and no key is given.
var ErrNoKey = errors.New("no pseudonymisation key: give --key-file, or set POVRISK_KEY_FILE or POVRISK_KEY")
