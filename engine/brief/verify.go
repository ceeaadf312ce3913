package brief

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/povrisk/povrisk/engine/audit"
	"github.com/povrisk/povrisk/engine/fault"
	"github.com/povrisk/povrisk/engine/rundir"
)

// ErrIncomplete is wrapped by every error saying that a run directory is
// incomplete, altered, or does not match its audit record.
var ErrIncomplete = errors.New("run directory incomplete or altered")

// incomplete returns an error wrapping ErrIncomplete, marked fault.Tampered.
func incomplete(dir, format string, args ...any) error {
	return fault.Wrap(fault.Tampered, fmt.Errorf("%w: %s: %s", ErrIncomplete, dir, fmt.Sprintf(format, args...)))
}

// incompleteErr marks err as ErrIncomplete and fault.Tampered.
func incompleteErr(err error) error {
	return fault.Wrap(fault.Tampered, fmt.Errorf("%w: %w", ErrIncomplete, err))
}

// Verify checks that dir is a complete run directory: not a .partial
// directory, checksums.sha256 present and matching every other file (and no
// file missing from it: rundir.Verify, the run directory's own check), and the last record for the run in ../audit.log
// intact and naming the same files with the same checksums. It returns the
// SHA-256 of checksums.sha256, which identifies the run's content.
func Verify(dir string) (string, error) {
	dir = filepath.Clean(dir)
	name := filepath.Base(dir)
	if strings.HasPrefix(name, ".") || strings.HasSuffix(name, ".partial") {
		return "", incomplete(dir, "a run in progress (.partial); wait for it to finish")
	}
	st, err := os.Stat(dir)
	if err != nil {
		return "", fmt.Errorf("open run directory: %w", err)
	}
	if !st.IsDir() {
		return "", fmt.Errorf("open run directory %s: not a directory", dir)
	}
	got, err := rundir.Verify(dir)
	if rundir.IsIncomplete(err) {
		return "", incompleteErr(err)
	}
	if err != nil {
		return "", err
	}
	sumsHash := got[rundir.ChecksumsFile]
	if err := checkAudit(dir, name, got); err != nil {
		return "", err
	}
	return sumsHash, nil
}

// checkAudit compares the files of the run with the last audit record for it.
func checkAudit(dir, run string, got map[string]string) error {
	runs := filepath.Dir(dir)
	lines, err := audit.Read(runs)
	if err != nil {
		return err // a log that cannot be read (disk, permission) is not a tampered run
	}
	var rec *audit.Record
	for i := range lines {
		if lines[i].Err == nil && lines[i].Record.Run == run {
			rec = &lines[i].Record
		}
	}
	if rec == nil {
		return incomplete(dir, "no record for run %s in %s; verify with `povrisk audit`", run, filepath.Join(runs, audit.LogName))
	}
	if rec.ComputeHash() != rec.Hash {
		return incomplete(dir, "audit record seq %d was altered (its hash does not match); verify with `povrisk audit`", rec.Seq)
	}
	for _, p := range slices.Sorted(maps.Keys(got)) {
		want, ok := rec.Outputs[p]
		switch {
		case !ok && p == "checksums.sha256":
			// A writer may record the files it lists, not the list itself.
		case !ok:
			return incomplete(dir, "file %s is not in audit record seq %d", p, rec.Seq)
		case want != got[p]:
			return incomplete(dir, "file %s does not match audit record seq %d", p, rec.Seq)
		}
	}
	for _, p := range slices.Sorted(maps.Keys(rec.Outputs)) {
		if _, ok := got[p]; !ok {
			return incomplete(dir, "file %s of audit record seq %d is missing", p, rec.Seq)
		}
	}
	return nil
}
