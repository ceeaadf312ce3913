package warehouse

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"github.com/povrisk/povrisk/engine/fault"
)

// fingerprintLabel is the fixed message whose HMAC under the operator's
// key is the key's fingerprint. It is not an ID number (they are 18
// characters of digits and X), so the fingerprint is never the pseudonym
// of anyone.
const fingerprintLabel = "povrisk warehouse key fingerprint v1"

// KeyFingerprint identifies the pseudonymisation key a warehouse was built
// with: hex HMAC-SHA-256(key, "povrisk warehouse key fingerprint v1"). It
// tells whether two keys are the same without storing the key; it is not
// a plain hash of the key (which a table of hashes of common keys would
// undo), and checking a guessed key against it costs as much as checking
// it against any pseudonym in the warehouse. It is "" for a nil key.
func KeyFingerprint(key []byte) string {
	if key == nil {
		return ""
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte(fingerprintLabel))
	return hex.EncodeToString(m.Sum(nil))
}

// CheckKey refuses to add to a warehouse built with another key: the same
// person would get a second pseudonym. It accepts any key for an empty
// warehouse, for one made before fingerprints were recorded (the next
// commit records it), and a nil key (nothing is pseudonymised then). The
// refusal is fault.BadInput.
func CheckKey(dir string, prev *Manifest, key []byte) error {
	if prev == nil || prev.KeyFingerprint == "" || key == nil {
		return nil
	}
	got := KeyFingerprint(key)
	if hmac.Equal([]byte(got), []byte(prev.KeyFingerprint)) {
		return nil
	}
	return fault.Wrap(fault.BadInput, fmt.Errorf(
		"warehouse %s was built with another pseudonymisation key (key fingerprint %s…, this key's %s…): "+
			"the same person would get two pseudonyms; give the warehouse's own key file (--key-file), "+
			"or start a new warehouse and ingest every drop into it with the new key",
		dir, prev.KeyFingerprint[:min(12, len(prev.KeyFingerprint))], got[:12]))
}
