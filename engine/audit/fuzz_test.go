package audit

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzReadAuditLog: whatever the bytes of audit.log and audit.head, Read
// and Verify return lines, problems or an error, never panic; and bytes
// that are not what Append wrote never verify clean.
func FuzzReadAuditLog(f *testing.F) {
	runs := fixture(f)
	log, _ := os.ReadFile(filepath.Join(runs, LogName))
	head, _ := os.ReadFile(filepath.Join(runs, HeadName))
	f.Add(log, head)
	f.Add(log[:len(log)/2], head)
	f.Add([]byte(`{"seq":1,"mac":"00","hash":"x"}`+"\n"), []byte(`{"seq":1}`))
	f.Add([]byte("\n\n\n"), []byte("null"))
	f.Add([]byte{}, []byte{})
	key := testKey(f)
	f.Fuzz(func(t *testing.T, logBytes, headBytes []byte) {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, LogName), logBytes, 0o600)
		os.WriteFile(filepath.Join(dir, HeadName), headBytes, 0o600)
		Read(dir)
		rep, err := Verify(dir, key)
		if err == nil && rep.OK() && (string(logBytes) != string(log) || string(headBytes) != string(head)) && len(rep.Lines) > 0 {
			// Any other log that verifies must have been made with the key:
			// impossible for the fuzzer, short of a prefix of the log with
			// the head of that prefix, which it does not have.
			t.Errorf("a log not written by Append verified clean:\n%s\nhead %s", logBytes, headBytes)
		}
	})
}
