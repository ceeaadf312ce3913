package registry

import (
	"context"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/povrisk/povrisk/models"
	"github.com/povrisk/povrisk/models/forest"
	"github.com/povrisk/povrisk/models/kmeans"
)

func fitSmall(t testing.TB, seed uint64) (*forest.Forest, *kmeans.Model, models.Matrix) {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 1))
	X := models.NewMatrix(200, []string{"income", "oop", "age"})
	y := make([]int, 200)
	for i := 0; i < 200; i++ {
		for j := range X.Cols {
			X.Cols[j][i] = rng.NormFloat64()
		}
		if X.Cols[1][i] > 0.5 {
			y[i] = 1
		}
	}
	o := forest.DefaultOptions()
	o.Trees, o.Seed = 10, seed
	f, err := forest.Fit(context.Background(), X, y, o)
	if err != nil {
		t.Fatal(err)
	}
	km, err := kmeans.Fit(context.Background(), X, kmeans.Options{K: 2, Seed: seed})
	if err != nil {
		t.Fatal(err)
	}
	return f, km, X
}

func card(asOf string) Card {
	return Card{CreatedBy: "povrisk test", AsOf: asOf, AsOfDates: []string{asOf}, HorizonMonths: 6,
		CatalogHash: "abc123", Seed: 1, Metrics: Metrics{AUC: 0.8, PrecisionAt: map[string]float64{"0.05": 0.3}}}
}

func TestSaveLoadRoundTrip(t *testing.T) {
	dir := t.TempDir()
	f, km, X := fitSmall(t, 1)
	id, err := Save(dir, f, km, card("2025-06-30"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(id, "rf-2025-06-30-") || len(id) != len("rf-2025-06-30-")+8 {
		t.Errorf("id %q, want rf-2025-06-30-<8 hex>", id)
	}
	f2, km2, c2, err := Load(dir, id)
	if err != nil {
		t.Fatal(err)
	}
	if c2.ID != id || !reflect.DeepEqual(c2.Features, []string{"income", "oop", "age"}) || c2.HorizonMonths != 6 {
		t.Errorf("card read back: %+v", c2)
	}
	a, b := make([]float64, X.Rows), make([]float64, X.Rows)
	f.PredictProba(X, a)
	f2.PredictProba(X, b)
	if !reflect.DeepEqual(a, b) {
		t.Errorf("loaded forest predicts differently")
	}
	if km2 == nil || km2.Inertia() != km.Inertia() {
		t.Errorf("profiles not read back")
	}
	md, err := os.ReadFile(filepath.Join(dir, id, "card.md"))
	if err != nil || !strings.Contains(string(md), "| auc | 0.8000 |") || !strings.Contains(string(md), "1. income") {
		t.Errorf("card.md lacks the metrics or features:\n%s", md)
	}
}

func TestSaveDeterministic(t *testing.T) {
	f, km, _ := fitSmall(t, 2)
	var ids []string
	var cards [][]byte
	for i := 0; i < 2; i++ {
		dir := t.TempDir()
		id, err := Save(dir, f, km, card("2025-06-30"))
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(dir, id, "card.json"))
		if err != nil {
			t.Fatal(err)
		}
		ids, cards = append(ids, id), append(cards, b)
	}
	if ids[0] != ids[1] || string(cards[0]) != string(cards[1]) {
		t.Errorf("two saves differ: %s %s", ids[0], ids[1])
	}
	// Another forest gets another id.
	g, _, _ := fitSmall(t, 3)
	id, err := Save(t.TempDir(), g, nil, card("2025-06-30"))
	if err != nil {
		t.Fatal(err)
	}
	if id == ids[0] {
		t.Errorf("different forests share id %s", id)
	}
}

func TestListLatest(t *testing.T) {
	dir := t.TempDir()
	if _, err := Latest(dir); !errors.Is(err, ErrNoModel) {
		t.Fatalf("Latest of empty dir: %v, want ErrNoModel", err)
	}
	var want []string
	for i, asOf := range []string{"2025-06-30", "2024-12-31", "2025-03-31"} {
		f, _, _ := fitSmall(t, uint64(10+i))
		id, err := Save(dir, f, nil, card(asOf))
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, id)
	}
	cards, err := List(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range cards {
		got = append(got, c.ID)
	}
	// Saving order, whatever the as-of dates (issue 11).
	if !reflect.DeepEqual(got, want) {
		t.Errorf("List order %v, want saving order %v", got, want)
	}
	l, err := Latest(dir)
	if err != nil || l.ID != want[2] {
		t.Errorf("Latest = %s, %v; want %s (saved last)", l.ID, err, want[2])
	}
	if _, _, c, err := Load(dir, ""); err != nil || c.ID != want[2] {
		t.Errorf("Load latest = %s, %v", c.ID, err)
	}
	// Models saved before the index existed are ordered by as-of date,
	// then id, as before.
	if err := os.Remove(filepath.Join(dir, indexFile)); err != nil {
		t.Fatal(err)
	}
	cards, err = List(dir)
	if err != nil {
		t.Fatal(err)
	}
	got = got[:0]
	for _, c := range cards {
		got = append(got, c.ID)
	}
	if !reflect.DeepEqual(got, []string{want[1], want[2], want[0]}) {
		t.Errorf("List order without index %v, want by as-of", got)
	}
	if l, err := Latest(dir); err != nil || l.ID != want[0] {
		t.Errorf("Latest without index = %s, %v; want %s", l.ID, err, want[0])
	}
	if _, _, _, err := Load(dir, "rf-nope"); !errors.Is(err, ErrNoModel) {
		t.Errorf("Load unknown id: %v, want ErrNoModel", err)
	}
	// A tampered forest is refused.
	p := filepath.Join(dir, want[0], "forest.bin")
	b, _ := os.ReadFile(p)
	b[len(b)-1] ^= 1
	os.WriteFile(p, b, 0o644)
	if _, _, _, err := Load(dir, want[0]); err == nil || !strings.Contains(err.Error(), "checksum") {
		t.Errorf("Load of an altered forest: %v", err)
	}
}

func TestCheckFeatures(t *testing.T) {
	c := Card{ID: "rf-x", Features: []string{"a", "b", "c"}, CatalogHash: "h1"}
	tests := []struct {
		name    string
		cat     []string
		hash    string
		wantErr []string // substrings of the message; nil means no error
	}{
		{"same", []string{"a", "b", "c"}, "h1", nil},
		{"missing", []string{"a", "c"}, "h1", []string{"missing from the current catalog: b"}},
		{"extra", []string{"a", "b", "c", "d"}, "h1", []string{"new in the catalog: d"}},
		{"reordered", []string{"a", "c", "b"}, "h1", []string{"reordered: position 2 is b in the model, c in the catalog"}},
		{"hash", []string{"a", "b", "c"}, "h2", []string{"catalog hash h1 in the model, h2 now"}},
		{"several", []string{"c", "a", "e"}, "h2", []string{"missing from the current catalog: b", "new in the catalog: e", "position 1 is a in the model, c", "hash"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckFeatures(c, tc.cat, tc.hash)
			if tc.wantErr == nil {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			if !errors.Is(err, ErrFeatureMismatch) {
				t.Fatalf("error %v does not wrap ErrFeatureMismatch", err)
			}
			for _, w := range tc.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestRefusesPathIDs(t *testing.T) {
	dir := t.TempDir()
	for _, id := range []string{"../rf-x", `a\b`, ".tmp-rf-x", "a/b"} {
		if _, _, _, err := Load(dir, id); err == nil || !strings.Contains(err.Error(), "is not a plain name") {
			t.Errorf("Load(%q): %v, want a not-a-plain-name error", id, err)
		}
		if _, err := ReadCard(dir, id); err == nil || !strings.Contains(err.Error(), "is not a plain name") {
			t.Errorf("ReadCard(%q): %v, want a not-a-plain-name error", id, err)
		}
	}
	f, _, _ := fitSmall(t, 4)
	if _, err := Save(dir, f, nil, card("../../etc")); err == nil || !strings.Contains(err.Error(), "is not a plain name") {
		t.Errorf("Save with as-of ../../etc: %v, want a not-a-plain-name error", err)
	}
	if _, err := ReadCard(dir, ""); err == nil || !strings.Contains(err.Error(), "is not a plain name") {
		t.Errorf("ReadCard(\"\"): %v, want a not-a-plain-name error", err)
	}
}
