package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/povrisk/povrisk/engine/audit"
)

// TestMain gives every command run by the tests an audit key outside
// their runs directories (POVRISK_AUDIT_KEY_FILE), as an operator would.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "povrisk-cmd-audit-key-")
	if err != nil {
		panic(err)
	}
	path := filepath.Join(dir, "audit.key")
	if err := audit.NewKeyFile(path); err != nil {
		panic(err)
	}
	os.Setenv(audit.KeyEnv, path)
	code := m.Run()
	os.RemoveAll(dir)
	if fixtureRoot != "" {
		os.RemoveAll(fixtureRoot)
	}
	os.Exit(code)
}
