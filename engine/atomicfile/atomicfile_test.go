package atomicfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/povrisk/povrisk/engine/fault"
)

func TestWriteReplacesWhole(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "summary.json")
	if err := WriteFile(p, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("encoder failed")
	err := Write(p, 0o644, func(w io.Writer) error {
		w.Write([]byte("half of the new"))
		return boom
	})
	if !errors.Is(err, boom) || fault.Of(err) == fault.Write {
		t.Fatalf("err = %v (kind %v), want the encoder's error, not a write failure", err, fault.Of(err))
	}
	got, _ := os.ReadFile(p)
	if string(got) != "old" {
		t.Fatalf("content = %q, want the old content kept", got)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Fatalf("%d entries left, want only the target (no temporary file)", len(ents))
	}
	if err := WriteFile(p, []byte("new"), 0o600); err != nil {
		t.Fatal(err)
	}
	got, _ = os.ReadFile(p)
	st, _ := os.Stat(p)
	if string(got) != "new" || st.Mode().Perm() != 0o600 {
		t.Fatalf("content %q mode %v, want new 0600", got, st.Mode().Perm())
	}
}

func TestWriteFailureIsMarked(t *testing.T) {
	err := WriteFile(filepath.Join(t.TempDir(), "no-such-dir", "x"), []byte("x"), 0o644)
	if err == nil {
		t.Fatal("writing into a missing directory succeeded")
	}
	// A missing directory is still the disk's side, not the input's.
	if fault.Of(err) != fault.Write {
		t.Fatalf("kind = %v, want could not write", fault.Of(err))
	}
	err = Write(filepath.Join(t.TempDir(), "y"), 0o644, func(io.Writer) error {
		return &os.PathError{Op: "write", Path: "y", Err: syscall.ENOSPC}
	})
	if fault.Of(err) != fault.Write {
		t.Fatalf("ENOSPC from the writer: kind = %v, want could not write", fault.Of(err))
	}
}

// TestSyncTreeFailureIsWrite: a tree that cannot be walked (gone before
// its sync) fails as a write failure naming it, never as bad input; a
// nested tree is walked to its leaves (a file where a directory was
// expected is skipped, not opened as one).
func TestSyncTreeFailureIsWrite(t *testing.T) {
	gone := filepath.Join(t.TempDir(), "gone")
	err := SyncTree(gone)
	if err == nil || fault.Of(err) != fault.Write || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("SyncTree(missing) = %v (kind %v), want a write failure wrapping ErrNotExist", err, fault.Of(err))
	}
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "a", "b"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "a", "f"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := SyncTree(dir); err != nil {
		t.Errorf("SyncTree of a tree with a file: %v", err)
	}
}
