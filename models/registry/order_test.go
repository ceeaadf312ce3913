package registry

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/povrisk/povrisk/engine/fault"
	"github.com/povrisk/povrisk/models/forest"
)

func latestID(t *testing.T, dir string) string {
	t.Helper()
	c, err := Latest(dir)
	if err != nil {
		t.Fatal(err)
	}
	return c.ID
}

// TestLatestIsLastSaved: the newest model is the one saved last, not the
// one with the latest as-of date or the largest hash (issue 11).
func TestLatestIsLastSaved(t *testing.T) {
	dir := t.TempDir()
	fa, _, _ := fitSmall(t, 21)
	fb, _, _ := fitSmall(t, 22)
	a, err := Save(dir, fa, nil, card("2025-06-30"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := Save(dir, fb, nil, card("2025-03-31")) // earlier as-of, saved later
	if err != nil {
		t.Fatal(err)
	}
	if got := latestID(t, dir); got != b {
		t.Errorf("train A (as-of later), then B (as-of earlier): latest %s, want B %s (A is %s)", got, b, a)
	}
	// Saving A again makes it the newest.
	if _, err := Save(dir, fa, nil, card("2025-06-30")); err != nil {
		t.Fatal(err)
	}
	if got := latestID(t, dir); got != a {
		t.Errorf("A saved again: latest %s, want %s", got, a)
	}
	idx, err := ReadIndex(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(idx) != 2 || idx[0] != (IndexEntry{Seq: 2, ID: b}) || idx[1] != (IndexEntry{Seq: 3, ID: a}) {
		t.Errorf("index %+v, want [{2 %s} {3 %s}]", idx, b, a)
	}
}

// TestLatestSameAsOf: two models of the same as-of date; whichever hash
// is larger, the one saved last wins.
func TestLatestSameAsOf(t *testing.T) {
	fa, _, _ := fitSmall(t, 31)
	fb, _, _ := fitSmall(t, 32)
	for _, order := range [][2]int{{0, 1}, {1, 0}} {
		dir := t.TempDir()
		forests := []*forest.Forest{fa, fb}
		var ids [2]string
		for k, i := range order {
			id, err := Save(dir, forests[i], nil, card("2025-06-30"))
			if err != nil {
				t.Fatal(err)
			}
			ids[k] = id
		}
		if ids[0] == ids[1] {
			t.Fatalf("two forests share id %s", ids[0])
		}
		if got := latestID(t, dir); got != ids[1] {
			t.Errorf("saved %s then %s (same as-of): latest %s", ids[0], ids[1], got)
		}
	}
}

func TestProfilesCovered(t *testing.T) {
	f, km, _ := fitSmall(t, 41)
	setup := func(t *testing.T) (string, string) {
		dir := t.TempDir()
		id, err := Save(dir, f, km, card("2025-06-30"))
		if err != nil {
			t.Fatal(err)
		}
		return dir, id
	}
	t.Run("card records the checksum", func(t *testing.T) {
		dir, id := setup(t)
		c, err := ReadCard(dir, id)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := os.ReadFile(filepath.Join(dir, id, profilesFile))
		if c.ProfilesSHA256 == "" || c.ProfilesSHA256 != sha256Hex(b) {
			t.Errorf("card profiles_sha256 %q, file hashes to %s", c.ProfilesSHA256, sha256Hex(b))
		}
	})
	for _, tc := range []struct {
		name, file string
		edit       func(path string) error
		want       string
	}{
		{"profiles changed", profilesFile, func(p string) error {
			b, _ := os.ReadFile(p)
			return os.WriteFile(p, []byte(strings.Replace(string(b), "1", "2", 1)), 0o644)
		}, "profiles.json does not match the checksum"},
		{"profiles removed", profilesFile, os.Remove, "profiles.json: no such file"},
		{"forest changed", forestFile, func(p string) error {
			b, _ := os.ReadFile(p)
			b[20] ^= 1
			return os.WriteFile(p, b, 0o644)
		}, "forest.bin does not match the checksum"},
		{"card garbled", cardFile, func(p string) error { return os.WriteFile(p, []byte("{\"id\": 3"), 0o644) }, "card.json"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir, id := setup(t)
			if err := tc.edit(filepath.Join(dir, id, tc.file)); err != nil {
				t.Fatal(err)
			}
			_, _, _, err := Load(dir, id)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !errors.Is(err, ErrNoModel) || fault.Of(err) != fault.NoModel {
				t.Errorf("Load: %v (kind %v); want fault.NoModel containing %q", err, fault.Of(err), tc.want)
			}
		})
	}
	t.Run("profiles not covered", func(t *testing.T) {
		// A model saved without profiles, then given a profiles.json.
		dir := t.TempDir()
		id, err := Save(dir, f, nil, card("2025-06-30"))
		if err != nil {
			t.Fatal(err)
		}
		src, _ := setup(t)
		b, _ := os.ReadFile(filepath.Join(src, id, profilesFile))
		os.WriteFile(filepath.Join(dir, id, profilesFile), b, 0o644)
		_, _, _, err = Load(dir, id)
		if err == nil || !strings.Contains(err.Error(), "profiles.json is not covered by the checksums") || fault.Of(err) != fault.NoModel {
			t.Errorf("Load: %v, want profiles.json not covered (fault.NoModel)", err)
		}
	})
}

func TestIndexEdited(t *testing.T) {
	dir := t.TempDir()
	f, _, _ := fitSmall(t, 51)
	if _, err := Save(dir, f, nil, card("2025-06-30")); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, text, want string }{
		{"garbage", "not json\n", "line 1 is not an index entry"},
		{"seq backwards", `{"seq":2,"id":"rf-a"}` + "\n" + `{"seq":1,"id":"rf-b"}` + "\n", "seq 1 after 2"},
		{"path id", `{"seq":1,"id":"../x"}` + "\n", "line 1 is not an index entry"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			os.WriteFile(filepath.Join(dir, indexFile), []byte(tc.text), 0o644)
			_, err := Latest(dir)
			if err == nil || !strings.Contains(err.Error(), tc.want) || fault.Of(err) != fault.NoModel {
				t.Errorf("Latest: %v, want fault.NoModel containing %q", err, tc.want)
			}
		})
	}
}
