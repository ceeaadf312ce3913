package rundir

import (
	"fmt"
	"os"
	"path/filepath"
)

// Run is a verified run directory.
type Run struct {
	Dir     string
	Summary *Summary
	// Sums are the checksums of every file, checksums.sha256's included
	// (the "outputs" of its audit record).
	Sums map[string]string
}

// Read verifies the run directory dir against its checksums.sha256
// (Verify) and decodes its summary.json. Whatever the bytes of its files,
// it returns an error rather than panicking; an incomplete or altered
// directory is an error of kind fault.Tampered.
func Read(dir string) (*Run, error) {
	sums, err := Verify(dir)
	if err != nil {
		return nil, err
	}
	if _, ok := sums[SummaryFile]; !ok {
		return nil, incomplete(dir, "%s is not in %s", SummaryFile, ChecksumsFile)
	}
	s, err := ReadSummary(dir)
	if err != nil {
		return nil, err
	}
	return &Run{Dir: dir, Summary: s, Sums: sums}, nil
}

// ReadSummary decodes dir/summary.json without verifying the directory
// (Read does both). A summary that does not decode is of kind
// fault.Tampered: the night wrote a valid one.
func ReadSummary(dir string) (*Summary, error) {
	path := filepath.Join(dir, SummaryFile)
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	s, err := DecodeSummary(b)
	if err != nil {
		return nil, incomplete(dir, "%v", err)
	}
	return s, nil
}
