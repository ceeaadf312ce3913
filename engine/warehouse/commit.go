package warehouse

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
)

// Pending is a warehouse version being written under W/.tmp-*. Nothing in it
// is visible to readers until Commit; Abort (or a crash) leaves the
// warehouse as it was. Only one Pending may exist per warehouse at a time:
// Begin takes an exclusive lock on W/LOCK that Commit and Abort release.
type Pending struct {
	root string
	tmp  string
	lock *os.File
	prev *Manifest // nil when the warehouse is empty
}

// Begin starts a new version of the warehouse at dir (created if missing).
func Begin(dir string) (*Pending, error) {
	root, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("warehouse %s: %w", dir, err)
	}
	if err := os.MkdirAll(root, 0o700); err != nil {
		return nil, fmt.Errorf("create warehouse %s: %w", dir, err)
	}
	lock, err := os.OpenFile(filepath.Join(root, "LOCK"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock warehouse %s: %w", dir, err)
	}
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		lock.Close()
		return nil, fmt.Errorf("lock warehouse %s: another ingest is running (%w)", dir, err)
	}
	p := &Pending{root: root, lock: lock}
	if w, err := Open(root); err == nil {
		p.prev = w.man
	} else if !errors.Is(err, ErrNoVersion) {
		p.release()
		return nil, err
	}
	// Leftovers of crashed ingests are never read; remove them now.
	olds, _ := filepath.Glob(filepath.Join(root, ".tmp-*"))
	for _, o := range olds {
		os.RemoveAll(o)
	}
	p.tmp, err = os.MkdirTemp(root, ".tmp-")
	if err != nil {
		p.release()
		return nil, fmt.Errorf("warehouse %s: %w", dir, err)
	}
	for _, d := range []string{"version", "drop"} {
		if err := os.Mkdir(filepath.Join(p.tmp, d), 0o700); err != nil {
			p.Abort()
			return nil, fmt.Errorf("warehouse %s: %w", dir, err)
		}
	}
	return p, nil
}

// Previous is the manifest of the current version (nil for an empty warehouse).
func (p *Pending) Previous() *Manifest { return p.prev }

// PreviousDir is the directory of the current version ("" for an empty warehouse).
func (p *Pending) PreviousDir() string {
	if p.prev == nil {
		return ""
	}
	return filepath.Join(p.root, p.prev.Version)
}

// Dir is the directory where the new version's table files are written.
func (p *Pending) Dir() string { return filepath.Join(p.tmp, "version") }

// DropDir is the directory where the drop's manifest and rejects are written;
// it becomes W/drops/<drop-id>.
func (p *Pending) DropDir() string { return filepath.Join(p.tmp, "drop") }

func (p *Pending) release() {
	if p.lock != nil {
		syscall.Flock(int(p.lock.Fd()), syscall.LOCK_UN)
		p.lock.Close()
		p.lock = nil
	}
}

// Abort discards the pending version.
func (p *Pending) Abort() {
	if p.tmp != "" {
		os.RemoveAll(p.tmp)
	}
	p.release()
}

// crashPoint kills the process when POVRISK_TEST_CRASH_AT names the point:
// the crash-safety tests use it to stop an ingest between its steps.
func crashPoint(name string) {
	if os.Getenv("POVRISK_TEST_CRASH_AT") == name {
		syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {}
	}
}

// Commit publishes the pending version: m lists the tables written to Dir
// (its Version and Previous are filled in here), dropID names the drop whose
// files are in DropDir. It writes manifest.json, fsyncs everything, renames
// the version into place, moves the drop directory to W/drops/<dropID>, and
// replaces CURRENT by rename. Versions older than the previous one are then
// pruned. It returns the new version name.
func (p *Pending) Commit(m Manifest, dropID string) (string, error) {
	defer p.release()
	n := 1
	if p.prev != nil {
		k, err := strconv.Atoi(strings.TrimPrefix(p.prev.Version, "v"))
		if err != nil {
			return "", fmt.Errorf("commit: bad current version %q", p.prev.Version)
		}
		n = k + 1
		m.Previous = p.prev.Version
	}
	m.Version = fmt.Sprintf("v%06d", n)
	sort.Slice(m.Tables, func(i, j int) bool { return m.Tables[i].Name < m.Tables[j].Name })
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return "", fmt.Errorf("commit: %w", err)
	}
	if err := WriteFileSync(filepath.Join(p.Dir(), "manifest.json"), append(b, '\n')); err != nil {
		return "", fmt.Errorf("commit: %w", err)
	}
	crashPoint("before-sync")
	if err := syncTree(p.tmp); err != nil {
		return "", fmt.Errorf("commit: sync %s: %w", p.tmp, err)
	}
	crashPoint("before-version-rename")
	final := filepath.Join(p.root, m.Version)
	os.RemoveAll(final) // a leftover of a crash after this rename, never current
	if err := os.Rename(p.Dir(), final); err != nil {
		return "", fmt.Errorf("commit: %w", err)
	}
	drops := filepath.Join(p.root, "drops")
	if err := os.MkdirAll(drops, 0o700); err != nil {
		return "", fmt.Errorf("commit: %w", err)
	}
	dd := filepath.Join(drops, dropID)
	os.RemoveAll(dd)
	if err := os.Rename(p.DropDir(), dd); err != nil {
		return "", fmt.Errorf("commit: %w", err)
	}
	if err := syncDir(drops); err != nil {
		return "", fmt.Errorf("commit: %w", err)
	}
	crashPoint("before-current")
	cur := filepath.Join(p.root, "CURRENT")
	if err := WriteFileSync(cur+".tmp", []byte(m.Version+"\n")); err != nil {
		return "", fmt.Errorf("commit: %w", err)
	}
	crashPoint("before-current-rename")
	if err := os.Rename(cur+".tmp", cur); err != nil {
		return "", fmt.Errorf("commit: replace CURRENT: %w", err)
	}
	if err := syncDir(p.root); err != nil {
		return "", fmt.Errorf("commit: %w", err)
	}
	crashPoint("after-current")
	os.RemoveAll(p.tmp)
	p.prune(m.Version, m.Previous)
	return m.Version, nil
}

// prune removes version directories other than keep (the new and previous
// versions). Errors are ignored: a leftover version is never read.
func (p *Pending) prune(keep ...string) {
	ents, err := os.ReadDir(p.root)
	if err != nil {
		return
	}
	for _, e := range ents {
		name := e.Name()
		if !e.IsDir() || !versionName.MatchString(name) {
			continue
		}
		kept := false
		for _, k := range keep {
			kept = kept || k == name
		}
		if !kept {
			os.RemoveAll(filepath.Join(p.root, name))
		}
	}
}

// WriteFileSync writes data to path (mode 0600) and fsyncs it.
func WriteFileSync(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if _, err := bytes.NewReader(data).WriteTo(f); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("sync %s: %w", path, err)
	}
	return f.Close()
}

func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}

// syncTree fsyncs every file and directory under dir.
func syncTree(dir string) error {
	return filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		return f.Sync()
	})
}
