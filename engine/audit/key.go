package audit

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/povrisk/povrisk/engine/atomicfile"
	"github.com/povrisk/povrisk/engine/fault"
)

// KeyEnv names the environment variable holding the audit key file's path
// when no path is given.
const KeyEnv = "POVRISK_AUDIT_KEY_FILE"

// minKeyLen is the shortest accepted audit key, in bytes.
const minKeyLen = 32

// Key is the audit key: the HMAC-SHA-256 key that makes every record, and
// the head of the log, impossible to forge without it. It is separate from
// the pseudonymisation (ID) key and must be kept outside the runs
// directory, readable by the account that runs povrisk only.
type Key struct{ k []byte }

// NewKey makes a key of b (at least 32 bytes, surrounding whitespace
// trimmed).
func NewKey(b []byte) (*Key, error) {
	b = bytes.TrimSpace(b)
	if len(b) < minKeyLen {
		return nil, fault.Wrap(fault.Usage, fmt.Errorf("audit key has %d bytes, want at least %d (make one with povrisk audit --new-key FILE)", len(b), minKeyLen))
	}
	return &Key{k: bytes.Clone(b)}, nil
}

// DefaultKeyPath is where the audit key is looked for when neither a path
// nor POVRISK_AUDIT_KEY_FILE is given: $XDG_CONFIG_HOME/povrisk/audit.key,
// by default ~/.config/povrisk/audit.key.
func DefaultKeyPath() string {
	dir, err := os.UserConfigDir()
	if err != nil {
		return filepath.Join(".povrisk", "audit.key")
	}
	return filepath.Join(dir, "povrisk", "audit.key")
}

// KeyPath is the audit key file to use: path, else $POVRISK_AUDIT_KEY_FILE,
// else DefaultKeyPath().
func KeyPath(path string) string {
	if path != "" {
		return path
	}
	if p := os.Getenv(KeyEnv); p != "" {
		return p
	}
	return DefaultKeyPath()
}

// LoadKey reads the audit key from KeyPath(path). It refuses a missing
// file, a file that group or others can access (fix: chmod 600 FILE) and
// a key shorter than 32 bytes; these errors are fault.Usage.
func LoadKey(path string) (*Key, error) {
	path = KeyPath(path)
	st, err := os.Stat(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fault.Wrap(fault.Usage, fmt.Errorf("no audit key at %s: create one with `povrisk audit --new-key %s`, or give --audit-key-file (or set %s); keep it outside the runs directory", path, path, KeyEnv))
	}
	if err != nil {
		return nil, fault.Wrap(fault.Usage, fmt.Errorf("audit key file: %w", err))
	}
	if st.Mode().Perm()&0o077 != 0 {
		return nil, fault.Wrap(fault.Usage, fmt.Errorf("audit key file %s is accessible by group or others (mode %v); run: chmod 600 %s", path, st.Mode().Perm(), path))
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fault.Wrap(fault.Usage, fmt.Errorf("audit key file: %w", err))
	}
	k, err := NewKey(b)
	if err != nil {
		return nil, fmt.Errorf("audit key file %s: %w", path, err)
	}
	return k, nil
}

// NewKeyFile writes a fresh random key (32 bytes, hex) to path with mode
// 0600, creating its directory (0700); it refuses to replace a file.
func NewKeyFile(path string) error {
	if _, err := os.Stat(path); err == nil {
		return fault.Wrap(fault.Usage, fmt.Errorf("audit key file %s exists: not replaced (a new key cannot verify the records of the old one)", path))
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fault.Wrap(fault.Write, fmt.Errorf("create directory of %s: %w", path, err))
	}
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return fmt.Errorf("draw an audit key: %w", err)
	}
	return atomicfile.WriteFile(path, []byte(hex.EncodeToString(b[:])+"\n"), 0o600)
}

// mac is the hex HMAC-SHA-256 of the parts, each preceded by its length
// so that no two lists of parts give the same input.
func (k *Key) mac(parts ...[]byte) string {
	h := hmac.New(sha256.New, k.k)
	for _, p := range parts {
		fmt.Fprintf(h, "%d:", len(p))
		h.Write(p)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// verify reports whether want is the MAC of the parts (in constant time).
func (k *Key) verify(want string, parts ...[]byte) bool {
	return hmac.Equal([]byte(want), []byte(k.mac(parts...)))
}
