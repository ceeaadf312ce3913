package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestAuditNothingToVerify: a missing (mistyped) or empty runs directory
// exits 6 instead of "ok: 0 records, chain intact" (issue 12).
func TestAuditNothingToVerify(t *testing.T) {
	empty := t.TempDir()
	for _, tc := range []struct{ name, runs, want string }{
		{"missing", filepath.Join(empty, "runs-typo"), "does not exist"},
		{"empty", empty, "no audit records in"},
	} {
		for _, verify := range []bool{false, true} {
			args := []string{"povrisk", "audit", "--runs", tc.runs}
			if verify {
				args = append(args, "--verify")
			}
			var out, errb bytes.Buffer
			code := run(args, nil, &out, &errb)
			if code != ExitIncomplete || !strings.Contains(out.String(), tc.want) || strings.Contains(out.String(), "ok:") {
				t.Errorf("%s %v: exit %d, stdout %q; want exit %d naming %q", tc.name, args[2:], code, out.String(), ExitIncomplete, tc.want)
			}
		}
	}
}

func TestAuditKeyFlags(t *testing.T) {
	dir := t.TempDir()
	key := filepath.Join(dir, "keys", "audit.key")
	var out, errb bytes.Buffer
	if code := run([]string{"povrisk", "audit", "--new-key", key}, nil, &out, &errb); code != 0 {
		t.Fatalf("--new-key: exit %d: %s", code, errb.String())
	}
	st, err := os.Stat(key)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("new key file: %v, mode %v", err, st.Mode().Perm())
	}
	if code := run([]string{"povrisk", "audit", "--new-key", key}, nil, &out, &errb); code != ExitUsage {
		t.Errorf("--new-key over an existing key: exit %d, want %d", code, ExitUsage)
	}
	os.Chmod(key, 0o644)
	errb.Reset()
	if code := run([]string{"povrisk", "audit", "--runs", dir, "--audit-key-file", key}, nil, &out, &errb); code != ExitUsage || !strings.Contains(errb.String(), "chmod 600") {
		t.Errorf("group-readable key: exit %d, stderr %q; want %d and a chmod hint", code, errb.String(), ExitUsage)
	}
}
