package rundir

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/povrisk/povrisk/engine/atomicfile"
	"github.com/povrisk/povrisk/engine/civil"
	"github.com/povrisk/povrisk/engine/fault"
)

// Perms are the modes of what a run writes: 0600/0700 by default, set
// explicitly after creation so that the umask does not matter.
type Perms struct{ File, Dir os.FileMode }

// PermsFor returns the private modes, or 0640/0750 when shared.
func PermsFor(shared bool) Perms {
	if shared {
		return Perms{File: 0o640, Dir: 0o750}
	}
	return Perms{File: 0o600, Dir: 0o700}
}

// Mkdir creates dir (and parents) with mode p.Dir.
func (p Perms) Mkdir(dir string) error {
	if err := os.MkdirAll(dir, p.Dir); err != nil {
		return fault.Wrap(fault.Write, fmt.Errorf("create directory %s: %w", dir, err))
	}
	if err := os.Chmod(dir, p.Dir); err != nil {
		return fault.Wrap(fault.Write, fmt.Errorf("set mode of %s: %w", dir, err))
	}
	return nil
}

// PartialName and oldName are the names of a run in progress and of the
// run being replaced; neither is ever read as a result.
func PartialName(asOf string) string { return "." + asOf + ".partial" }
func oldName(asOf string) string     { return "." + asOf + ".old" }

// Writer writes one run directory: every file goes to
// RUNS/.<as_of>.partial, and Commit renames it to RUNS/<as_of> once
// checksums.sha256 is written. The caller holds the runs directory's lock
// (engine/lock) for the Writer's whole life.
type Writer struct {
	runs, asOf, dir string
	perm            Perms
	done            bool
	mu              sync.Mutex
	sums            map[string]string // file -> sha256, computed as Create writes it
}

// Begin removes a stale RUNS/.<as_of>.partial (and .old) left by a killed
// run and creates a fresh, empty one.
func Begin(runs, asOf string, p Perms) (*Writer, error) {
	if _, err := civil.Parse(asOf); err != nil {
		return nil, fmt.Errorf("run directory name %q is not a date", asOf)
	}
	if err := p.Mkdir(runs); err != nil {
		return nil, err
	}
	dir := filepath.Join(runs, PartialName(asOf))
	for _, stale := range []string{dir, filepath.Join(runs, oldName(asOf))} {
		if err := os.RemoveAll(stale); err != nil {
			return nil, fault.Wrap(fault.Write, fmt.Errorf("remove stale %s: %w", stale, err))
		}
	}
	if err := p.Mkdir(dir); err != nil {
		return nil, err
	}
	return &Writer{runs: runs, asOf: asOf, dir: dir, perm: p, sums: map[string]string{}}, nil
}

// Dir is the partial directory being written.
func (w *Writer) Dir() string { return w.dir }

// Create writes the file rel (slash-separated) of the run directory with
// what fn writes; safe to call from several goroutines for different files.
func (w *Writer) Create(rel string, fn func(io.Writer) error) error {
	if !fs.ValidPath(rel) || rel == ChecksumsFile {
		return fmt.Errorf("rundir: %q is not a file a night writes", rel)
	}
	h := sha256.New()
	err := atomicfile.Write(filepath.Join(w.dir, filepath.FromSlash(rel)), w.perm.File, func(out io.Writer) error {
		return fn(io.MultiWriter(out, h))
	})
	if err != nil {
		return err
	}
	w.mu.Lock()
	w.sums[rel] = hex.EncodeToString(h.Sum(nil))
	w.mu.Unlock()
	return nil
}

// Mkdir creates the subdirectory rel of the run directory.
func (w *Writer) Mkdir(rel string) error {
	return w.perm.Mkdir(filepath.Join(w.dir, filepath.FromSlash(rel)))
}

// Summary writes summary.json: the one place it is written.
func (w *Writer) Summary(s *Summary) error {
	if s.Schema == 0 {
		s.Schema = SchemaVersion
	}
	if s.Warnings == nil {
		s.Warnings = []Warning{}
	}
	return w.Create(SummaryFile, func(out io.Writer) error { return encodeSummary(out, s) })
}

// Seal writes checksums.sha256 for every file written so far and returns
// the checksum of every file, its own included.
func (w *Writer) Seal() (map[string]string, error) {
	files, err := Files(w.dir)
	if err != nil {
		return nil, err
	}
	// A file Create wrote was hashed as it was written; any other file
	// is read.
	sums := make(map[string]string, len(files))
	for _, f := range files {
		if f == ChecksumsFile {
			continue
		}
		if s, ok := w.sums[f]; ok {
			sums[f] = s
		} else if sums[f], err = HashFile(filepath.Join(w.dir, filepath.FromSlash(f))); err != nil {
			return nil, err
		}
	}
	path := filepath.Join(w.dir, ChecksumsFile)
	if err := atomicfile.Write(path, w.perm.File, func(out io.Writer) error { return encodeChecksums(out, sums) }); err != nil {
		return nil, err
	}
	h, err := HashFile(path)
	if err != nil {
		return nil, err
	}
	sums[ChecksumsFile] = h
	return sums, nil
}

// Commit makes the partial directory the run directory RUNS/<as_of>,
// replacing an earlier run of the same night: the old one is first renamed
// aside, so that at every instant RUNS/<as_of> is either the old complete
// run, absent, or the new complete run. It returns RUNS/<as_of>.
func (w *Writer) Commit() (string, error) {
	final := filepath.Join(w.runs, w.asOf)
	old := filepath.Join(w.runs, oldName(w.asOf))
	if err := atomicfile.SyncTree(w.dir); err != nil {
		return "", err
	}
	replaced := false
	if _, err := os.Stat(final); err == nil {
		if err := os.Rename(final, old); err != nil {
			return "", fault.Wrap(fault.Write, fmt.Errorf("move the earlier run %s aside: %w", final, err))
		}
		replaced = true
	} else if !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("stat %s: %w", final, err)
	}
	if err := os.Rename(w.dir, final); err != nil {
		return "", fault.Wrap(fault.Write, fmt.Errorf("rename %s to %s: %w", w.dir, final, err))
	}
	w.done = true
	if err := atomicfile.SyncDir(w.runs); err != nil {
		return "", err
	}
	if replaced {
		if err := os.RemoveAll(old); err != nil {
			return "", fault.Wrap(fault.Write, fmt.Errorf("remove the replaced run %s: %w", old, err))
		}
	}
	return final, nil
}

// Abort removes the partial directory unless Commit renamed it; a no-op
// after Commit, so it can be deferred.
func (w *Writer) Abort() {
	if w != nil && !w.done {
		os.RemoveAll(w.dir)
	}
}

// Previous returns the latest complete month-end run in runs before
// asOf ("" when none): "the previous run" of the night. Complete: its name
// is a month-end date and it holds checksums.sha256. Runs of other days
// (`run --any-day`) are never anyone's previous run.
func Previous(runs, asOf string) (string, error) {
	ents, err := os.ReadDir(runs)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("list runs directory %s: %w", runs, err)
	}
	best := ""
	for _, e := range ents {
		n := e.Name()
		if !e.IsDir() || strings.HasPrefix(n, ".") || n >= asOf {
			continue
		}
		d, err := civil.Parse(n)
		if err != nil || civil.Format(d) != n || !civil.IsMonthEnd(d) {
			continue
		}
		if _, err := os.Stat(filepath.Join(runs, n, ChecksumsFile)); err != nil {
			continue
		}
		if n > best {
			best = n
		}
	}
	return best, nil
}
