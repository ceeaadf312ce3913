package warehouse

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/povrisk/povrisk/engine/fault"
)

// ErrNoVersion is returned by Open when nothing has been ingested yet.
var ErrNoVersion = errors.New("warehouse has no current version (run povrisk ingest first)")

// TableState is one table of a warehouse version.
type TableState struct {
	Name   string `json:"name"`
	File   string `json:"file"` // file name inside the version directory
	Rows   int64  `json:"rows"`
	Bytes  int64  `json:"bytes"`
	SHA256 string `json:"sha256"`
}

// Manifest is the cumulative state of a warehouse version (manifest.json).
type Manifest struct {
	SchemaVersion string       `json:"schema_version"` // datasets.SchemaVersion of the stored tables
	Version       string       `json:"version"`        // e.g. "v000003"
	Previous      string       `json:"previous"`       // version this one was built from ("" for the first)
	Tables        []TableState `json:"tables"`         // sorted by name
	Drops         []string     `json:"drops"`          // drop ids merged, oldest first
	// KeyFingerprint identifies the pseudonymisation key of the stored
	// hashes (KeyFingerprint); "" in warehouses made before it was recorded.
	KeyFingerprint string `json:"key_fingerprint,omitempty"`
}

// Table returns the state of the named table and whether it is stored.
func (m *Manifest) Table(name string) (TableState, bool) {
	for _, t := range m.Tables {
		if t.Name == name {
			return t, true
		}
	}
	return TableState{}, false
}

// HasDrop reports whether the drop id has been merged into this version.
func (m *Manifest) HasDrop(id string) bool {
	for _, d := range m.Drops {
		if d == id {
			return true
		}
	}
	return false
}

// Warehouse is an opened warehouse version; it is read-only.
type Warehouse struct {
	root    string
	version string
	man     *Manifest
}

var versionName = regexp.MustCompile(`^v[0-9]{6}$`)

// Open opens the current version of the warehouse at dir. It returns an error
// wrapping ErrNoVersion when nothing has been ingested yet.
func Open(dir string) (*Warehouse, error) {
	root, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("open warehouse %s: %w", dir, err)
	}
	b, err := os.ReadFile(filepath.Join(root, "CURRENT"))
	if errors.Is(err, os.ErrNotExist) {
		// Versions without CURRENT: the file was deleted. Treating the
		// warehouse as new would let the next ingest start over (under any
		// key) and silently drop every earlier drop.
		if vs, _ := filepath.Glob(filepath.Join(root, "v[0-9][0-9][0-9][0-9][0-9][0-9]", "manifest.json")); len(vs) > 0 {
			last := filepath.Base(filepath.Dir(vs[len(vs)-1]))
			return nil, fault.Wrap(fault.BadInput, fmt.Errorf("open warehouse %s: CURRENT is missing but %d versions are there (the latest %s): write the name of the version to use into %s",
				dir, len(vs), last, filepath.Join(dir, "CURRENT")))
		}
		return nil, fmt.Errorf("open warehouse %s: %w", dir, ErrNoVersion)
	}
	if err != nil {
		return nil, fmt.Errorf("open warehouse %s: %w", dir, err)
	}
	v := strings.TrimSpace(string(b))
	if !versionName.MatchString(v) {
		return nil, fault.Wrap(fault.BadInput, fmt.Errorf("open warehouse %s: CURRENT holds %q, want a version name like v000001", dir, v))
	}
	man, err := readManifest(filepath.Join(root, v, "manifest.json"))
	if err != nil {
		return nil, fault.Input(fmt.Errorf("open warehouse %s: %w", dir, err))
	}
	if err := checkTables(filepath.Join(root, v), man); err != nil {
		return nil, fault.Input(fmt.Errorf("open warehouse %s: %w: the warehouse was damaged; restore it from a backup, or write an earlier version's name into %s (the ingests after it are then lost and must be run again)",
			dir, err, filepath.Join(dir, "CURRENT")))
	}
	return &Warehouse{root: root, version: v, man: man}, nil
}

// checkTables checks that every table file of the manifest is there with
// the size and SHA-256 the manifest recorded (entries without a checksum,
// written by tests of this package, are not checked: ingest records one
// for every table). A
// missing, cut or damaged table file would otherwise reach the Parquet
// reader of DuckDB and fail the night as an internal error.
func checkTables(vdir string, m *Manifest) error {
	for _, t := range m.Tables {
		if t.SHA256 == "" {
			continue
		}
		path := filepath.Join(vdir, t.File)
		f, err := os.Open(path)
		if err != nil {
			return fmt.Errorf("table %s: %w", t.Name, err)
		}
		h := sha256.New()
		n, err := io.Copy(h, f)
		f.Close()
		if err != nil {
			return fmt.Errorf("table %s: read %s: %w", t.Name, path, err)
		}
		if n != t.Bytes || hex.EncodeToString(h.Sum(nil)) != t.SHA256 {
			return fmt.Errorf("table %s: %s does not match the manifest (%d bytes, recorded %d; or its SHA-256 differs)", t.Name, path, n, t.Bytes)
		}
	}
	return nil
}

func readManifest(path string) (*Manifest, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read manifest: %w", err)
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("parse %s: %w", path, err)
	}
	for _, t := range m.Tables {
		// A table file is a plain name inside the version directory: a
		// manifest pointing elsewhere has been tampered with.
		if t.File == "" || t.File != filepath.Base(t.File) || t.File == ".." || strings.ContainsRune(t.File, 0) {
			return nil, fmt.Errorf("%s: table %q has file %q, want a file name inside the version directory", path, t.Name, t.File)
		}
	}
	return &m, nil
}

// Root is the absolute warehouse directory (W).
func (w *Warehouse) Root() string { return w.root }

// Version is the name of the current version, e.g. "v000003".
func (w *Warehouse) Version() string { return w.version }

// Dir is the absolute path of the current version directory.
func (w *Warehouse) Dir() string { return filepath.Join(w.root, w.version) }

// TablePath returns the absolute path of the table's Parquet file in the
// current version, and false when the table is not stored (never ingested).
func (w *Warehouse) TablePath(table string) (string, bool) {
	t, ok := w.man.Table(table)
	if !ok {
		return "", false
	}
	return filepath.Join(w.Dir(), t.File), true
}

// Manifest returns the cumulative manifest of the current version.
func (w *Warehouse) Manifest() *Manifest { return w.man }
