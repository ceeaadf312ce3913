package boost

import (
	"crypto/sha256"
	"encoding/hex"
	"testing"
)

// pinnedBytes is the SHA-256 of the model TestPinnedBytes trains. A change
// of training that changes it must say why in its commit message.
const pinnedBytes = "ccf9489ca187e20e2412f40239067ccd9951c39a0855ce566b0e7ed103cb61bd"

// TestPinnedBytes: the same data and options give these bytes, whatever the
// internal organisation of the work (chunked histograms, worker sets).
func TestPinnedBytes(t *testing.T) {
	X, y := synth(30000, 8, 13)
	for _, w := range []int{1, 2, 5} {
		b := fitBytes(t, X, y, Options{Trees: 20, ValidationShare: 0.1, Seed: 2, Workers: w})
		sum := sha256.Sum256(b)
		if got := hex.EncodeToString(sum[:]); got != pinnedBytes {
			t.Errorf("workers %d: model bytes hash to %s, pinned %s", w, got, pinnedBytes)
		}
	}
}
