package warehouse

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/povrisk/povrisk/engine/fault"
)

func TestOpen(t *testing.T) {
	tests := []struct {
		name    string
		current string // "" = no CURRENT file
		want    string // error substring, "" = ok
	}{
		{"empty", "", "no current version"},
		{"bad name", "../etc\n", "want a version name"},
		{"missing version", "v000009\n", "read manifest"},
		{"ok", "v000001\n", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.Mkdir(filepath.Join(dir, "v000001"), 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "v000001", "manifest.json"),
				[]byte(`{"version":"v000001","tables":[{"name":"households","file":"households.parquet","rows":3}],"drops":["abc"]}`), 0o600); err != nil {
				t.Fatal(err)
			}
			if tc.current != "" {
				if err := os.WriteFile(filepath.Join(dir, "CURRENT"), []byte(tc.current), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			w, err := Open(dir)
			if tc.want != "" {
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("Open: %v, want error with %q", err, tc.want)
				}
				if tc.name == "empty" && !errors.Is(err, ErrNoVersion) {
					t.Errorf("Open on empty dir: %v, want ErrNoVersion", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			p, ok := w.TablePath("households")
			if !ok || p != filepath.Join(dir, "v000001", "households.parquet") {
				t.Errorf("TablePath(households) = %q, %v", p, ok)
			}
			if _, ok := w.TablePath("assets"); ok {
				t.Error("TablePath(assets) found a table never stored")
			}
			if !w.Manifest().HasDrop("abc") || w.Manifest().HasDrop("abd") {
				t.Error("HasDrop wrong")
			}
		})
	}
}

// TestBeginLock: a second ingest on the same warehouse is refused while
// one is pending (busy, naming the holder), and allowed after Abort.
func TestBeginLock(t *testing.T) {
	dir := t.TempDir()
	p, err := Begin(dir, Options{Command: "povrisk ingest --drop first"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = Begin(dir, Options{})
	if fault.Of(err) != fault.Busy || !strings.Contains(err.Error(), "povrisk ingest --drop first") ||
		!strings.Contains(err.Error(), fmt.Sprintf("pid %d", os.Getpid())) {
		t.Fatalf("second Begin: %v (kind %v), want busy naming the holder", err, fault.Of(err))
	}
	p.Abort()
	p2, err := Begin(dir, Options{})
	if err != nil {
		t.Fatalf("Begin after Abort: %v", err)
	}
	p2.Abort()
	if tmps, _ := filepath.Glob(filepath.Join(dir, ".tmp-*")); len(tmps) != 0 {
		t.Errorf("Abort left %v", tmps)
	}
}
