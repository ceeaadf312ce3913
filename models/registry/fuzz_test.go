package registry

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzReadCard: whatever the bytes of card.json (and of forest.bin and
// profiles.json beside it), reading and loading the model returns a card
// or an error, never panics; a model that loads has files matching its
// card's checksums.
func FuzzReadCard(f *testing.F) {
	fo, km, _ := fitSmall(f, 61)
	seed := f.TempDir()
	id, err := Save(seed, fo, km, card("2025-06-30"))
	if err != nil {
		f.Fatal(err)
	}
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(seed, id, name))
		if err != nil {
			f.Fatal(err)
		}
		return b
	}
	cj, fb, pj := read(cardFile), read(forestFile), read(profilesFile)
	f.Add(cj, fb, pj)
	f.Add([]byte(`{"id":"`+id+`","metrics":{"auc":"x"}}`), fb, pj)
	f.Add([]byte(`{"id":"`+id+`","model_sha256":"`+sha256Hex(fb)+`"}`), fb, []byte("{}"))
	f.Add([]byte("null"), []byte("PVRF"), []byte(""))
	f.Fuzz(func(t *testing.T, cardBytes, forestBytes, profBytes []byte) {
		dir := t.TempDir()
		mdir := filepath.Join(dir, id)
		if err := os.Mkdir(mdir, 0o755); err != nil {
			t.Fatal(err)
		}
		for name, b := range map[string][]byte{cardFile: cardBytes, forestFile: forestBytes, profilesFile: profBytes} {
			if err := os.WriteFile(filepath.Join(mdir, name), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		ReadCard(dir, id)
		List(dir)
		_, _, c, err := Load(dir, id)
		if err == nil && (c.ModelSHA256 != sha256Hex(forestBytes) || c.ProfilesSHA256 != sha256Hex(profBytes)) {
			t.Errorf("model loaded with files that do not match its card")
		}
	})
}

// FuzzReadIndex: the registry's index never panics its reader.
func FuzzReadIndex(f *testing.F) {
	f.Add([]byte(`{"seq":1,"id":"rf-2025-06-30-abcdef12"}` + "\n"))
	f.Add([]byte(`{"seq":2,"id":"a"}` + "\n" + `{"seq":1,"id":"b"}`))
	f.Add([]byte("\n\n{\"seq\":1e400}"))
	f.Fuzz(func(t *testing.T, b []byte) {
		idx, err := parseIndex(b, "index.jsonl")
		for i := 1; err == nil && i < len(idx); i++ {
			if idx[i].Seq <= idx[i-1].Seq {
				t.Errorf("accepted an index whose seq does not increase: %+v", idx)
			}
		}
	})
}
