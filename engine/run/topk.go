package run

import (
	"bytes"
	"fmt"
	"maps"
	"math"
	"os"
	"slices"

	"github.com/BurntSushi/toml"

	"github.com/povrisk/povrisk/engine/fault"
)

// TopKFile is the --top-k-file format: a default share and per-county
// sizes ([county."520123"] share = 0.03 or k = 150).
type TopKFile struct {
	Share  float64         `toml:"share"`
	County map[string]TopK `toml:"county"`
}

// maxTopKBytes bounds a top-k file: a province has a few hundred counties.
const maxTopKBytes = 1 << 20

// LoadTopK reads a top-k file. Errors are of kind fault.Policy and name
// the file and the key at fault.
func LoadTopK(path string) (*TopKFile, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fault.Wrap(fault.Policy, fmt.Errorf("read top-k file: %w", err))
	}
	return ParseTopK(path, b)
}

// ParseTopK decodes a top-k file's bytes (name is used in messages). A
// share must be a number in (0, 1] (0 or absent: the default), k a count
// of at least 0, and a county a 6-digit code. It never panics.
func ParseTopK(name string, b []byte) (tk *TopKFile, err error) {
	bad := func(format string, args ...any) error {
		return fault.Wrap(fault.Policy, fmt.Errorf("top-k file %s: %s", name, fmt.Sprintf(format, args...)))
	}
	if len(b) > maxTopKBytes {
		return nil, bad("%d bytes, more than a top-k file can be", len(b))
	}
	defer func() { // the TOML decoder is not ours: a panic in it is a bad file
		if r := recover(); r != nil {
			tk, err = nil, bad("cannot be read: %v", r)
		}
	}()
	var f TopKFile
	md, err := toml.NewDecoder(bytes.NewReader(b)).Decode(&f)
	if err != nil {
		return nil, bad("%v", err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		return nil, bad("unknown key %s", und[0])
	}
	if !validShare(f.Share) {
		return nil, bad("share = %v: want a number in (0, 1]", f.Share)
	}
	if err := checkTopK(f.County, "top-k file "+name); err != nil {
		return nil, err
	}
	return &f, nil
}

// validShare: 0 (unset) or a number in (0, 1].
func validShare(s float64) bool { return !math.IsNaN(s) && s >= 0 && s <= 1 }

// checkTopK checks per-county sizes (from where: for the message).
func checkTopK(counties map[string]TopK, where string) error {
	for _, c := range slices.Sorted(maps.Keys(counties)) {
		t := counties[c]
		key := fmt.Sprintf("county %q", c)
		switch {
		case len(c) != 6 || !allDigits(c):
			return fault.Wrap(fault.Policy, fmt.Errorf("%s: %s: a county is a 6-digit code", where, key))
		case t.K < 0:
			return fault.Wrap(fault.Policy, fmt.Errorf("%s: %s: k = %d: want a count of at least 0", where, key, t.K))
		case !validShare(t.Share):
			return fault.Wrap(fault.Policy, fmt.Errorf("%s: %s: share = %v: want a number in (0, 1]", where, key, t.Share))
		case t.K > 0 && t.Share > 0:
			return fault.Wrap(fault.Policy, fmt.Errorf("%s: %s: both k = %d and share = %v: give one of them", where, key, t.K, t.Share))
		}
	}
	return nil
}

func allDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
