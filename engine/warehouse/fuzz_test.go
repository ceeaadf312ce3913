package warehouse

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzOpen: whatever CURRENT and manifest.json hold, Open returns a
// warehouse or an error, never panics, and an opened warehouse answers.
func FuzzOpen(f *testing.F) {
	f.Add([]byte("v000001\n"), []byte(`{"version":"v000001","tables":[{"name":"households","file":"households.parquet","rows":3}],"drops":["abc"],"key_fingerprint":"00"}`))
	f.Add([]byte("v000001"), []byte(`{"tables":null}`))
	f.Add([]byte("../x"), []byte(`{`))
	f.Add([]byte("v000001\n"), []byte(`{"tables":[{"name":"persons","file":"../../etc/passwd"}]}`))
	f.Fuzz(func(t *testing.T, current, manifest []byte) {
		dir := t.TempDir()
		if err := os.Mkdir(filepath.Join(dir, "v000001"), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "v000001", "manifest.json"), manifest, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "CURRENT"), current, 0o600); err != nil {
			t.Fatal(err)
		}
		w, err := Open(dir)
		if err != nil {
			return
		}
		w.TablePath("households")
		w.Manifest().HasDrop("abc")
		CheckKey(dir, w.Manifest(), []byte("0123456789abcdef"))
	})
}
