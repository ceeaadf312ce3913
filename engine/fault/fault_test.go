package fault

import (
	"context"
	"errors"
	"fmt"
	"os"
	"syscall"
	"testing"
)

func TestKindSurvivesWrapping(t *testing.T) {
	base := errors.New("persons.csv line 3 column 2: bad date")
	err := fmt.Errorf("ingest: %w", Wrap(BadInput, base))
	if got := Of(err); got != BadInput {
		t.Fatalf("Of = %v, want bad input", got)
	}
	if err.Error() != "ingest: persons.csv line 3 column 2: bad date" {
		t.Fatalf("message changed: %q", err)
	}
	if !errors.Is(err, base) {
		t.Fatal("the wrapped error is lost")
	}
	// The outermost kind wins: a write failure reported while handling bad input.
	outer := Wrap(Write, fmt.Errorf("write rejects: %w", err))
	if Of(outer) != Write {
		t.Fatalf("Of(outer) = %v, want could not write", Of(outer))
	}
}

func TestFileSystemErrorsAreWriteFailures(t *testing.T) {
	for _, e := range []error{syscall.ENOSPC, syscall.EIO, syscall.EROFS, syscall.EACCES, syscall.EDQUOT} {
		err := fmt.Errorf("commit: %w", &os.PathError{Op: "write", Path: "/w/x.parquet", Err: e})
		if Of(err) != Write {
			t.Errorf("%v: Of = %v, want could not write", e, Of(err))
		}
	}
	if Of(errors.New("plain")) != Internal {
		t.Error("an unmarked error must be internal")
	}
	if Of(nil) != OK || Wrap(BadInput, nil) != nil {
		t.Error("nil must stay nil and OK")
	}
	if Of(fmt.Errorf("x: %w", os.ErrNotExist)) != Internal {
		t.Error("a missing file is not a write failure")
	}
}

func TestTableIsComplete(t *testing.T) {
	for i, k := range Kinds() {
		if int(k) != i {
			t.Errorf("kind %v has code %d, want %d", k, int(k), i)
		}
		if k.String() == "unknown" {
			t.Errorf("kind %d has no name", int(k))
		}
	}
}

// TestOutputUnderAFileIsWriteFailure: creating a directory or a file below
// a regular file fails with ENOTDIR, which works the same as root (where
// permission tricks do not): it is a write failure, and an input reader
// that meets it can still mark its own error bad input.
func TestOutputUnderAFileIsWriteFailure(t *testing.T) {
	file := t.TempDir() + "/plain"
	if err := os.WriteFile(file, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	err := os.MkdirAll(file+"/runs/2025-12-31", 0o700)
	if !errors.Is(err, syscall.ENOTDIR) {
		t.Fatalf("MkdirAll below a file: %v, want ENOTDIR", err)
	}
	if Of(fmt.Errorf("create run directory: %w", err)) != Write {
		t.Errorf("Of(%v) = %v, want could not write", err, Of(err))
	}
	_, err = os.Create(file + "/brief.html")
	if Of(err) != Write {
		t.Errorf("Of(%v) = %v, want could not write", err, Of(err))
	}
	if Of(Wrap(BadInput, fmt.Errorf("read drop: %w", err))) != BadInput {
		t.Error("a reader's own mark must win over the errno")
	}
}

func TestInputKeepsDiskAndCancel(t *testing.T) {
	if Of(Input(errors.New("persons.csv line 2: bad date"))) != BadInput {
		t.Error("a plain input error must be bad input")
	}
	eio := fmt.Errorf("read manifest: %w", &os.PathError{Op: "read", Path: "m", Err: syscall.EIO})
	if Of(Input(eio)) != Write {
		t.Errorf("an I/O error under an input: kind %v, want could not write", Of(Input(eio)))
	}
	if Of(Input(fmt.Errorf("x: %w", context.Canceled))) == BadInput {
		t.Error("a cancelled context must not be bad input")
	}
	if Input(nil) != nil {
		t.Error("nil must stay nil")
	}
}
