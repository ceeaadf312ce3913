package ingest

import (
	"bytes"
	"errors"
	"fmt"
	"os"
)

// minKeyLen is the shortest accepted pseudonymisation key, in bytes.
const minKeyLen = 16

// LoadKey reads the HMAC-SHA-256 key for pseudonymised columns from path;
// with path "" from the file named by POVRISK_KEY_FILE, or else from the
// value of POVRISK_KEY. Surrounding whitespace is trimmed. It refuses a key
// file that group or others can access (fix: chmod 600 FILE) and a key
// shorter than 16 bytes. With nothing configured it returns nil, nil: the
// caller then refuses to ingest ID numbers.
func LoadKey(path string) ([]byte, error) {
	if path == "" {
		path = os.Getenv("POVRISK_KEY_FILE")
	}
	var key []byte
	if path != "" {
		st, err := os.Stat(path)
		if err != nil {
			return nil, fmt.Errorf("key file: %w", err)
		}
		if st.Mode().Perm()&0o077 != 0 {
			return nil, fmt.Errorf("key file %s is accessible by group or others (mode %v); run: chmod 600 %s", path, st.Mode().Perm(), path)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("key file: %w", err)
		}
		key = bytes.TrimSpace(b)
		if len(key) < minKeyLen {
			return nil, fmt.Errorf("key file %s: key has %d bytes, want at least %d", path, len(key), minKeyLen)
		}
		return key, nil
	}
	if v := os.Getenv("POVRISK_KEY"); v != "" {
		key = bytes.TrimSpace([]byte(v))
		if len(key) < minKeyLen {
			return nil, errors.New("POVRISK_KEY: key too short, want at least 16 bytes")
		}
		return key, nil
	}
	return nil, nil
}
