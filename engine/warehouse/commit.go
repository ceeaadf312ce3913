package warehouse

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/povrisk/povrisk/engine/atomicfile"
	"github.com/povrisk/povrisk/engine/fault"
	"github.com/povrisk/povrisk/engine/lock"
)

// Options configure Begin. The zero value locks without waiting and has
// no test hooks.
type Options struct {
	// Command names the lock holder in a busy message ("povrisk ingest"
	// when empty).
	Command string
	// Wait is how long Begin waits for a warehouse locked by another
	// writer; 0 fails at once with fault.Busy naming the holder.
	Wait time.Duration
	// CrashAt, when set, is called at each step of Commit with the step's
	// name (see CommitPoints); crash-safety tests kill the process there.
	CrashAt func(point string)
	// WrapWriter, when set, wraps the writer of every file the warehouse
	// itself writes (manifest.json, CURRENT); tests inject failing writers.
	WrapWriter func(path string, w io.Writer) io.Writer
}

// CommitPoints are the names Options.CrashAt is called with, in order.
func CommitPoints() []string {
	return []string{"before-sync", "before-version-rename", "before-current", "before-current-rename", "after-current"}
}

// Pending is a warehouse version being written under W/.tmp-*. Nothing in it
// is visible to readers until Commit; Abort (or a crash) leaves the
// warehouse as it was. Only one Pending may exist per warehouse at a time:
// Begin takes the writer's lock W/LOCK (engine/lock) that Commit and Abort
// release; the kernel releases it if the process dies.
type Pending struct {
	root string
	tmp  string
	lk   *lock.Lock
	prev *Manifest // nil when the warehouse is empty
	o    Options
}

// Begin starts a new version of the warehouse at dir (created if missing).
// A warehouse locked by another writer is fault.Busy (after o.Wait); a
// directory that cannot be created or written is fault.Write.
func Begin(dir string, o Options) (*Pending, error) {
	root, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("warehouse %s: %w", dir, err)
	}
	if err := os.MkdirAll(root, 0o700); err != nil {
		return nil, fault.Wrap(fault.Write, fmt.Errorf("create warehouse %s: %w", dir, err))
	}
	cmd := o.Command
	if cmd == "" {
		cmd = "povrisk ingest"
	}
	lk, err := lock.Acquire(root, lock.Options{Command: cmd, Wait: o.Wait})
	if err != nil {
		return nil, err
	}
	p := &Pending{root: root, lk: lk, o: o}
	if w, err := Open(root); err == nil {
		p.prev = w.man
	} else if !errors.Is(err, ErrNoVersion) {
		p.release()
		return nil, err
	}
	// Leftovers of crashed ingests are never read; remove them now.
	for _, pat := range []string{".tmp-*", ".CURRENT.tmp-*", "CURRENT.tmp"} {
		olds, _ := filepath.Glob(filepath.Join(root, pat))
		for _, o := range olds {
			os.RemoveAll(o)
		}
	}
	p.tmp, err = os.MkdirTemp(root, ".tmp-")
	if err != nil {
		p.release()
		return nil, fault.Wrap(fault.Write, fmt.Errorf("warehouse %s: %w", dir, err))
	}
	for _, d := range []string{"version", "drop"} {
		if err := os.Mkdir(filepath.Join(p.tmp, d), 0o700); err != nil {
			p.Abort()
			return nil, fault.Wrap(fault.Write, fmt.Errorf("warehouse %s: %w", dir, err))
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
	p.lk.Release()
	p.lk = nil
}

// Abort discards the pending version. It may be called after Commit (it
// then does nothing).
func (p *Pending) Abort() {
	if p.tmp != "" {
		os.RemoveAll(p.tmp)
	}
	p.release()
}

func (p *Pending) crash(point string) {
	if p.o.CrashAt != nil {
		p.o.CrashAt(point)
	}
}

// writeFile writes a file of the warehouse atomically and fsync'd,
// through Options.WrapWriter.
func (p *Pending) writeFile(path string, data []byte, before func()) error {
	return atomicfile.Write(path, 0o600, func(w io.Writer) error {
		if p.o.WrapWriter != nil {
			w = p.o.WrapWriter(path, w)
		}
		if _, err := w.Write(data); err != nil {
			return err
		}
		if before != nil {
			before()
		}
		return nil
	})
}

// writeFailed marks a failure of the warehouse's own file system.
func writeFailed(err error) error {
	return fault.Wrap(fault.Write, fmt.Errorf("commit: %w", err))
}

// Commit publishes the pending version: m lists the tables written to Dir
// (its Version and Previous are filled in here), dropID names the drop whose
// files are in DropDir. It writes manifest.json, fsyncs everything, renames
// the version into place, moves the drop directory to W/drops/<dropID>, and
// replaces CURRENT by rename. Versions older than the previous one are then
// pruned. It returns the new version name. Until CURRENT is replaced a
// failure leaves the previous version current; file-system failures are
// fault.Write.
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
	if err := p.writeFile(filepath.Join(p.Dir(), "manifest.json"), append(b, '\n'), nil); err != nil {
		return "", writeFailed(err)
	}
	p.crash("before-sync")
	if err := syncTree(p.tmp); err != nil {
		return "", writeFailed(fmt.Errorf("sync %s: %w", p.tmp, err))
	}
	p.crash("before-version-rename")
	if err := p.publish(m.Version, dropID); err != nil {
		return "", writeFailed(err)
	}
	p.crash("before-current")
	cur := filepath.Join(p.root, "CURRENT")
	err = p.writeFile(cur, []byte(m.Version+"\n"), func() { p.crash("before-current-rename") })
	if err != nil {
		return "", writeFailed(fmt.Errorf("replace CURRENT: %w", err))
	}
	p.crash("after-current")
	os.RemoveAll(p.tmp)
	p.prune(m.Version, m.Previous)
	return m.Version, nil
}

// publish moves the version directory and the drop directory into place
// (neither is read before CURRENT names the version).
func (p *Pending) publish(version, dropID string) error {
	final := filepath.Join(p.root, version)
	os.RemoveAll(final) // a leftover of a crash after this rename, never current
	if err := os.Rename(p.Dir(), final); err != nil {
		return err
	}
	drops := filepath.Join(p.root, "drops")
	if err := os.MkdirAll(drops, 0o700); err != nil {
		return err
	}
	dd := filepath.Join(drops, dropID)
	os.RemoveAll(dd)
	if err := os.Rename(p.DropDir(), dd); err != nil {
		return err
	}
	if err := atomicfile.SyncDir(drops); err != nil {
		return err
	}
	return atomicfile.SyncDir(p.root)
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
