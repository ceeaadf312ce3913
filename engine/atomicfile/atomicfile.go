// Package atomicfile writes files so that a reader sees the old content or
// the new, never half of one: the bytes go to a temporary file beside the
// target, are synced, and the file is renamed into place and its directory
// synced. It is the one owner of that dance in povrisk.
//
// Errors of the file system (a full disk, an I/O error, a refused
// permission) are marked fault.Write, so that no caller reports them as
// bad input; a partial temporary file is always removed.
package atomicfile

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/povrisk/povrisk/engine/fault"
)

// Write creates or replaces path with what write puts into w, with
// permissions perm. write's own errors are returned as they are (wrapped
// with the path); errors creating, writing, syncing or renaming the file
// are marked fault.Write.
func Write(path string, perm os.FileMode, write func(w io.Writer) error) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fault.Wrap(fault.Write, fmt.Errorf("write %s: %w", path, err))
	}
	name := tmp.Name()
	done := false
	defer func() {
		if !done {
			tmp.Close()
			os.Remove(name)
		}
	}()
	bw := bufio.NewWriterSize(tmp, 256<<10)
	if err := write(bw); err != nil {
		if fault.IsWriteFailure(err) {
			err = fault.Wrap(fault.Write, err)
		}
		return fmt.Errorf("write %s: %w", path, err)
	}
	for _, step := range []func() error{bw.Flush, func() error { return tmp.Chmod(perm) }, tmp.Sync, tmp.Close} {
		if err := step(); err != nil {
			return fault.Wrap(fault.Write, fmt.Errorf("write %s: %w", path, err))
		}
	}
	if err := os.Rename(name, path); err != nil {
		os.Remove(name)
		done = true
		return fault.Wrap(fault.Write, fmt.Errorf("write %s: %w", path, err))
	}
	done = true
	if err := SyncDir(dir); err != nil {
		return err
	}
	return nil
}

// WriteFile is Write for bytes already in memory.
func WriteFile(path string, data []byte, perm os.FileMode) error {
	return Write(path, perm, func(w io.Writer) error { _, err := w.Write(data); return err })
}

// SyncDir syncs a directory, so that renames and creations in it survive
// a power cut.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fault.Wrap(fault.Write, fmt.Errorf("sync directory %s: %w", dir, err))
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fault.Wrap(fault.Write, fmt.Errorf("sync directory %s: %w", dir, err))
	}
	return nil
}

// SyncTree syncs every directory under dir, dir included (the files in it
// are synced as they are written), so that a tree written in place
// survives a power cut before it is renamed into place.
func SyncTree(dir string) error {
	return filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return fault.Wrap(fault.Write, fmt.Errorf("sync directory tree %s: %w", dir, err))
		}
		if d.IsDir() {
			return SyncDir(path)
		}
		return nil
	})
}
