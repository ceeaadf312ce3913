package warehouse

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

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
		{"table outside", "v000002\n", "want a file name inside the version directory"},
		{"ok", "v000001\n", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			w, err := Open(dir)
			if tc.name == "empty" {
				// An empty directory; versions without CURRENT are
				// TestOpenCurrentDeleted.
				if err == nil || !strings.Contains(err.Error(), tc.want) || !errors.Is(err, ErrNoVersion) {
					t.Fatalf("Open on empty dir: %v, want ErrNoVersion", err)
				}
				return
			}
			if err := os.Mkdir(filepath.Join(dir, "v000001"), 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "v000001", "manifest.json"),
				[]byte(`{"version":"v000001","tables":[{"name":"households","file":"households.parquet","rows":3}],"drops":["abc"]}`), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Mkdir(filepath.Join(dir, "v000002"), 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "v000002", "manifest.json"),
				[]byte(`{"version":"v000002","tables":[{"name":"households","file":"../v000001/households.parquet","rows":3}]}`), 0o600); err != nil {
				t.Fatal(err)
			}
			if tc.current != "" {
				if err := os.WriteFile(filepath.Join(dir, "CURRENT"), []byte(tc.current), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			w, err = Open(dir)
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

// commitOne begins a version in dir with options o, writes one table file
// and commits it.
func commitOne(t *testing.T, dir string, o Options, drop string) (string, error) {
	t.Helper()
	p, err := Begin(dir, o)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Abort()
	if err := os.WriteFile(filepath.Join(p.Dir(), "households.parquet"), []byte("rows of "+drop), 0o600); err != nil {
		t.Fatal(err)
	}
	m := Manifest{Tables: []TableState{{Name: "households", File: "households.parquet", Rows: 1}}, Drops: []string{drop}}
	if prev := p.Previous(); prev != nil {
		m.Drops = append(append([]string{}, prev.Drops...), drop)
	}
	return p.Commit(m, drop)
}

// TestCommitHooks: Commit calls CrashAt at every point in order, and a
// write failure of manifest.json or CURRENT is "could not write" and
// leaves the previous version current.
func TestCommitHooks(t *testing.T) {
	dir := t.TempDir()
	var seen []string
	v, err := commitOne(t, dir, Options{CrashAt: func(p string) { seen = append(seen, p) }}, "d1")
	if err != nil || v != "v000001" {
		t.Fatalf("commit: %s, %v", v, err)
	}
	if strings.Join(seen, ",") != strings.Join(CommitPoints(), ",") {
		t.Fatalf("crash points %v, want %v", seen, CommitPoints())
	}
	for _, file := range []string{"manifest.json", "CURRENT"} {
		t.Run(file, func(t *testing.T) {
			fail := func(path string, w io.Writer) io.Writer {
				if filepath.Base(path) == file {
					return failWriter{}
				}
				return w
			}
			_, err := commitOne(t, dir, Options{WrapWriter: fail}, "d2-"+file)
			if fault.Of(err) != fault.Write || !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("commit with %s failing: %v (kind %v), want could not write", file, err, fault.Of(err))
			}
			w, err := Open(dir)
			if err != nil || w.Version() != "v000001" || len(w.Manifest().Drops) != 1 {
				t.Fatalf("after a failed commit: %v %v", w, err)
			}
		})
	}
	v, err = commitOne(t, dir, Options{}, "d2")
	if err != nil || v != "v000002" {
		t.Fatalf("commit after failures: %s %v, want v000002", v, err)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".*tmp*")); len(left) != 0 {
		t.Errorf("leftovers: %v", left)
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) {
	return 0, &os.PathError{Op: "write", Path: "x", Err: syscall.ENOSPC}
}

// TestBeginWaits: with Options.Wait a second writer gets the lock once
// the first releases it.
func TestBeginWaits(t *testing.T) {
	dir := t.TempDir()
	p, err := Begin(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	released := make(chan struct{})
	go func() {
		time.Sleep(200 * time.Millisecond)
		close(released)
		p.Abort()
	}()
	p2, err := Begin(dir, Options{Wait: 10 * time.Second})
	if err != nil {
		t.Fatalf("waiting Begin: %v", err)
	}
	select {
	case <-released:
	default:
		t.Fatal("the second Begin did not wait for the first")
	}
	p2.Abort()
}

func TestCheckKey(t *testing.T) {
	a, b := []byte("key-a-0123456789abcdef"), []byte("key-b-0123456789abcdef")
	if KeyFingerprint(a) == KeyFingerprint(b) || len(KeyFingerprint(a)) != 64 || KeyFingerprint(nil) != "" {
		t.Fatalf("fingerprints %q %q", KeyFingerprint(a), KeyFingerprint(b))
	}
	if strings.Contains(KeyFingerprint(a), fmt.Sprintf("%x", a)) {
		t.Fatal("the fingerprint holds the key")
	}
	withA := &Manifest{KeyFingerprint: KeyFingerprint(a)}
	tests := []struct {
		name string
		prev *Manifest
		key  []byte
		ok   bool
	}{
		{"empty warehouse", nil, b, true},
		{"no fingerprint yet", &Manifest{}, b, true},
		{"same key", withA, a, true},
		{"no key", withA, nil, true},
		{"other key", withA, b, false},
	}
	for _, tc := range tests {
		err := CheckKey("w", tc.prev, tc.key)
		if tc.ok != (err == nil) || !tc.ok && (fault.Of(err) != fault.BadInput || !strings.Contains(err.Error(), "another pseudonymisation key")) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
}

// TestOpenChecksTables: a table file missing, cut, grown or with a byte
// changed is bad input naming the table, before any reader sees it
// (issue 11 review: a damaged persons.parquet made run exit 1 with DuckDB's
// "Snappy decompression failure" and ingest panic-recover as internal).
func TestOpenChecksTables(t *testing.T) {
	content := []byte("PAR1 rows of households PAR1")
	sum := sha256.Sum256(content)
	for _, tc := range []struct {
		name   string
		damage func(path string)
		want   string
	}{
		{"intact", func(string) {}, ""},
		{"missing", func(p string) { os.Remove(p) }, "table households: open"},
		{"cut", func(p string) { os.WriteFile(p, content[:10], 0o600) }, "does not match the manifest (10 bytes, recorded 28"},
		{"flipped", func(p string) { b := append([]byte{}, content...); b[7] ^= 1; os.WriteFile(p, b, 0o600) }, "does not match the manifest (28 bytes, recorded 28"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			vdir := filepath.Join(dir, "v000001")
			os.Mkdir(vdir, 0o700)
			man := fmt.Sprintf(`{"version":"v000001","tables":[{"name":"households","file":"households.parquet","rows":3,"bytes":%d,"sha256":"%s"}]}`, len(content), hex.EncodeToString(sum[:]))
			if err := os.WriteFile(filepath.Join(vdir, "manifest.json"), []byte(man), 0o600); err != nil {
				t.Fatal(err)
			}
			os.WriteFile(filepath.Join(vdir, "households.parquet"), content, 0o600)
			os.WriteFile(filepath.Join(dir, "CURRENT"), []byte("v000001\n"), 0o600)
			tc.damage(filepath.Join(vdir, "households.parquet"))
			_, err := Open(dir)
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if fault.Of(err) != fault.BadInput || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "restore it from a backup") {
				t.Errorf("Open: %v (kind %v), want bad input containing %q", err, fault.Of(err), tc.want)
			}
		})
	}
}

// TestOpenCurrentDeleted: versions without CURRENT are refused (bad input,
// naming the latest version), not taken for an empty warehouse that the
// next ingest would start over (issue 11 review).
func TestOpenCurrentDeleted(t *testing.T) {
	dir := t.TempDir()
	if _, err := commitOne(t, dir, Options{}, "d1"); err != nil {
		t.Fatal(err)
	}
	if _, err := commitOne(t, dir, Options{}, "d2"); err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(dir, "CURRENT"))
	_, err := Open(dir)
	if fault.Of(err) != fault.BadInput || errors.Is(err, ErrNoVersion) || !strings.Contains(err.Error(), "CURRENT is missing but 2 versions are there (the latest v000002)") {
		t.Fatalf("Open: %v (kind %v), want bad input naming v000002", err, fault.Of(err))
	}
	if _, err := Begin(dir, Options{}); fault.Of(err) != fault.BadInput {
		t.Errorf("Begin: %v (kind %v), want bad input: no new version over the old ones", err, fault.Of(err))
	}
}
