package main

// Exit codes that cron jobs and wrappers can act on.
const (
	ExitOK         = 0
	ExitFailure    = 1 // anything not listed below
	ExitUsage      = 2 // bad flags or arguments
	ExitBadInput   = 3 // input data unreadable or a required table/column missing
	ExitNoModel    = 4 // no model in the registry, or the model does not fit the catalog
	ExitPolicy     = 5 // policy file missing or invalid
	ExitIncomplete = 6 // a run directory is incomplete or does not match its audit record
)

// codedError attaches an exit code to an error.
type codedError struct {
	code int
	err  error
}

func (e codedError) Error() string { return e.err.Error() }
func (e codedError) Unwrap() error { return e.err }
func (e codedError) ExitCode() int { return e.code }

// withCode wraps err so that the process exits with code; nil stays nil.
func withCode(code int, err error) error {
	if err == nil {
		return nil
	}
	return codedError{code: code, err: err}
}
