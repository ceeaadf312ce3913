package run

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/povrisk/povrisk/engine/audit"
)

// perms are the modes of what a run writes: 0600/0700 by default, set
// explicitly after creation so that the umask does not matter.
type perms struct{ file, dir os.FileMode }

func permsFor(shared bool) perms {
	if shared {
		return perms{file: 0o640, dir: 0o750}
	}
	return perms{file: 0o600, dir: 0o700}
}

// mkdir creates dir (and parents) with mode p.dir.
func (p perms) mkdir(dir string) error {
	if err := os.MkdirAll(dir, p.dir); err != nil {
		return fmt.Errorf("create directory %s: %w", dir, err)
	}
	if err := os.Chmod(dir, p.dir); err != nil {
		return fmt.Errorf("set mode of %s: %w", dir, err)
	}
	return nil
}

// writeFile creates path (which must not exist) with mode p.file, lets fn
// write it through a buffer, and syncs and closes it.
func (p perms) writeFile(path string, fn func(w io.Writer) error) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, p.file)
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	if err := f.Chmod(p.file); err != nil {
		f.Close()
		return fmt.Errorf("set mode of %s: %w", path, err)
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	if err := fn(bw); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := bw.Flush(); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("sync %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close %s: %w", path, err)
	}
	return nil
}

// syncDir fsyncs a directory so that renames and creations in it persist.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("open directory %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	return nil
}

// partialName and oldName are the names of a run in progress and of the
// run being replaced; neither is ever read as a result.
func partialName(asOf string) string { return "." + asOf + ".partial" }
func oldName(asOf string) string     { return "." + asOf + ".old" }

// startPartial removes a stale RUNS/.<as_of>.partial (and .old) left by a
// killed run and creates a fresh, empty one.
func startPartial(runs, asOf string, p perms) (string, error) {
	if err := p.mkdir(runs); err != nil {
		return "", err
	}
	dir := filepath.Join(runs, partialName(asOf))
	for _, stale := range []string{dir, filepath.Join(runs, oldName(asOf))} {
		if err := os.RemoveAll(stale); err != nil {
			return "", fmt.Errorf("remove stale %s: %w", stale, err)
		}
	}
	if err := p.mkdir(dir); err != nil {
		return "", err
	}
	return dir, nil
}

// writeChecksums writes checksums.sha256 ("sha256  path", sorted by path)
// for every file under dir and returns the map of every file, itself
// included.
func writeChecksums(dir string, p perms) (map[string]string, error) {
	sums, err := audit.HashTree(dir)
	if err != nil {
		return nil, err
	}
	delete(sums, "checksums.sha256")
	paths := make([]string, 0, len(sums))
	for k := range sums {
		paths = append(paths, k)
	}
	sort.Strings(paths)
	path := filepath.Join(dir, "checksums.sha256")
	err = p.writeFile(path, func(w io.Writer) error {
		for _, k := range paths {
			if _, err := fmt.Fprintf(w, "%s  %s\n", sums[k], k); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	h, err := audit.HashFile(path)
	if err != nil {
		return nil, err
	}
	sums["checksums.sha256"] = h
	return sums, nil
}

// syncTree fsyncs every directory under dir (files are synced as written).
func syncTree(dir string) error {
	return filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return syncDir(path)
		}
		return nil
	})
}

// commitPartial makes RUNS/.<as_of>.partial the run directory RUNS/<as_of>,
// replacing an earlier run of the same night: the old one is first renamed
// aside, so that at every instant RUNS/<as_of> is either the old complete
// run, absent, or the new complete run.
func commitPartial(runs, asOf string) (string, error) {
	partial := filepath.Join(runs, partialName(asOf))
	final := filepath.Join(runs, asOf)
	old := filepath.Join(runs, oldName(asOf))
	if err := syncTree(partial); err != nil {
		return "", err
	}
	replaced := false
	if _, err := os.Stat(final); err == nil {
		if err := os.Rename(final, old); err != nil {
			return "", fmt.Errorf("move the earlier run %s aside: %w", final, err)
		}
		replaced = true
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("stat %s: %w", final, err)
	}
	if err := os.Rename(partial, final); err != nil {
		return "", fmt.Errorf("rename %s to %s: %w", partial, final, err)
	}
	if err := syncDir(runs); err != nil {
		return "", err
	}
	if replaced {
		if err := os.RemoveAll(old); err != nil {
			return "", fmt.Errorf("remove the replaced run %s: %w", old, err)
		}
	}
	return final, nil
}

// previousRun returns the name of the latest complete run directory in runs
// before asOf ("" when none). Complete: its name is a date and it holds
// checksums.sha256.
func previousRun(runs, asOf string) (string, error) {
	ents, err := os.ReadDir(runs)
	if errors.Is(err, os.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("list runs directory %s: %w", runs, err)
	}
	best := ""
	for _, e := range ents {
		n := e.Name()
		if !e.IsDir() || len(n) != 10 || strings.HasPrefix(n, ".") || n >= asOf {
			continue
		}
		if _, err := os.Stat(filepath.Join(runs, n, "checksums.sha256")); err != nil {
			continue
		}
		if n > best {
			best = n
		}
	}
	return best, nil
}
