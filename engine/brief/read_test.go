package brief

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// TestReadRankedCorruptNeverPanics flips bytes through a real ranked.parquet
// (as a tamperer who also rewrote checksums.sha256 would leave it): the
// reader returns an error or rows, never panics.
func TestReadRankedCorruptNeverPanics(t *testing.T) {
	src, err := os.ReadFile(filepath.Join(fixtureRun("2025-12-31"), "ranked.parquet"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	errs := 0
	for off := 4; off < len(src)-8; off += max(1, len(src)/97) {
		b := append([]byte(nil), src...)
		for k := off; k < min(off+16, len(b)-8); k++ {
			b[k] ^= 0xA5
		}
		if err := os.WriteFile(filepath.Join(dir, "ranked.parquet"), b, 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := readRanked(context.Background(), dir, ""); err != nil {
			errs++
		}
	}
	if errs == 0 {
		t.Error("no corrupted file was refused: the corruption did not reach the reader")
	}
}
