package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/povrisk/povrisk/models"
	"github.com/povrisk/povrisk/models/forest"
	"github.com/povrisk/povrisk/models/registry"
)

// writeTable writes a CSV with a signal column, a noise column, a text
// column and a 0/1 label that follows the signal.
func writeTable(t *testing.T) string {
	t.Helper()
	rng := rand.New(rand.NewPCG(1, 1))
	var b strings.Builder
	b.WriteString("signal,noise,county,y\n")
	for i := 0; i < 400; i++ {
		s := rng.NormFloat64()
		y := 0
		if s > 0.5 {
			y = 1
		}
		fmt.Fprintf(&b, "%.4f,%.4f,c%d,%d\n", s, rng.NormFloat64(), i%3, y)
	}
	p := filepath.Join(t.TempDir(), "t.csv")
	if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestTrainTableCommand(t *testing.T) {
	table := writeTable(t)
	tests := []struct {
		name   string
		args   []string
		code   int
		stdout []string // substrings expected on stdout
		stderr []string
	}{
		{"text column refused", []string{"train", "--table", table, "--label", "y"}, ExitBadInput, nil, []string{"non-numeric columns county (VARCHAR)", "--ignore"}},
		{"no label", []string{"train", "--table", table}, ExitUsage, nil, []string{"--label"}},
		{"missing file", []string{"train", "--table", table + ".nope", "--label", "y"}, ExitBadInput, nil, []string{"no such file"}},
		{"folds", []string{"train", "--table", table, "--label", "y", "--ignore", "county", "--folds", "3", "--trees", "20"}, 0,
			[]string{"400 rows, 2 features, 3 folds", "fold 3: AUC", "mean AUC"}, nil},
		{"no models dir", []string{"train", "--warehouse", "w"}, ExitUsage, nil, []string{"--models is required"}},
		{"bad as-of", []string{"train", "--warehouse", "w", "--models", "m", "--as-of", "2025/06/30"}, ExitUsage, nil, []string{"--as-of"}},
		{"bad policy", []string{"evaluate", "--warehouse", "w", "--policy", "/nonexistent.toml"}, ExitPolicy, nil, []string{"policy"}},
		{"missing grid", []string{"train", "--warehouse", "w", "--models", "m", "--policy", "sample", "--grid", table + ".nope.toml"}, ExitUsage, nil, []string{"grid", "no such file"}},
		{"bad grid", []string{"train", "--warehouse", "w", "--models", "m", "--policy", "sample", "--grid", badGrid(t)}, ExitUsage, nil, []string{"family \"svm\""}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := run(append([]string{"povrisk"}, tc.args...), strings.NewReader(""), &out, &errb)
			if code != tc.code {
				t.Fatalf("exit %d, want %d; stderr %s", code, tc.code, errb.String())
			}
			for _, s := range tc.stdout {
				if !strings.Contains(out.String(), s) {
					t.Errorf("stdout lacks %q:\n%s", s, out.String())
				}
			}
			for _, s := range tc.stderr {
				if !strings.Contains(errb.String(), s) {
					t.Errorf("stderr lacks %q:\n%s", s, errb.String())
				}
			}
		})
	}
	// --json: the mean AUC of a clean signal is high and the folds are listed.
	var out, errb bytes.Buffer
	if code := run([]string{"povrisk", "train", "--table", table, "--label", "y", "--ignore", "county", "--folds", "4", "--trees", "20", "--json"},
		strings.NewReader(""), &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	var res struct {
		AUC   float64           `json:"auc"`
		Folds []json.RawMessage `json:"folds"`
	}
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		t.Fatalf("stdout is not JSON: %v\n%s", err, out.String())
	}
	if len(res.Folds) != 4 || res.AUC < 0.95 {
		t.Errorf("JSON: %d folds, AUC %.3f; want 4 folds and AUC >= 0.95", len(res.Folds), res.AUC)
	}
}

func TestModelsCommands(t *testing.T) {
	dir := t.TempDir()
	var out, errb bytes.Buffer
	if code := run([]string{"povrisk", "models", "list", "--models", dir}, strings.NewReader(""), &out, &errb); code != ExitNoModel {
		t.Errorf("list of an empty registry: exit %d, want %d", code, ExitNoModel)
	}
	X := models.NewMatrix(50, []string{"a", "b"})
	y := make([]int, 50)
	for i := range y {
		X.Cols[0][i], X.Cols[1][i] = float64(i), float64(i%7)
		if i > 30 {
			y[i] = 1
		}
	}
	o := forest.DefaultOptions()
	o.Trees = 5
	f, err := forest.Fit(context.Background(), X, y, o)
	if err != nil {
		t.Fatal(err)
	}
	id, err := registry.Save(dir, f, nil, registry.Card{AsOf: "2025-06-30", HorizonMonths: 6, CatalogHash: "h",
		Metrics: registry.Metrics{AUC: 0.8123, RulesAUC: 0.7, PrecisionAt: map[string]float64{"0.05": 0.25}}})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"models", "list", "--models", dir}, 0, id + "  2025-06-30  6        0     0.812  0.700      0.250"},
		{[]string{"models", "show", id, "--models", dir}, 0, "# Model " + id},
		{[]string{"models", "show", "--models", dir, "latest"}, 0, "| auc | 0.8123 |"},
		{[]string{"models", "show", id, "--models", dir, "--json"}, 0, `"id": "` + id + `"`},
		{[]string{"models", "show", "rf-nope", "--models", dir}, ExitNoModel, ""},
		{[]string{"models", "show", "--models", dir}, ExitUsage, ""},
	}
	for _, tc := range tests {
		out.Reset()
		errb.Reset()
		code := run(append([]string{"povrisk"}, tc.args...), strings.NewReader(""), &out, &errb)
		if code != tc.code || !strings.Contains(out.String(), tc.want) {
			t.Errorf("%v: exit %d (want %d), stdout:\n%s\nwant it to contain %q; stderr %s", tc.args, code, tc.code, out.String(), tc.want, errb.String())
		}
	}
}

// badGrid writes a grid file with an unknown family.
func badGrid(t *testing.T) string {
	p := filepath.Join(t.TempDir(), "grid.json")
	if err := os.WriteFile(p, []byte(`{"configs":[{"family":"svm"}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
