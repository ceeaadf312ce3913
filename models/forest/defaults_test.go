package forest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/povrisk/povrisk/models"
)

// defaultsData is a fixed synthetic problem: 1,500 rows, 6 columns (one
// with missing values), a logistic outcome.
func defaultsData() (models.Matrix, []int) {
	rng := rand.New(rand.NewPCG(1, 1))
	X := models.NewMatrix(1500, []string{"a", "b", "c", "d", "e", "f"})
	y := make([]int, X.Rows)
	for i := 0; i < X.Rows; i++ {
		for j := range X.Cols {
			X.Cols[j][i] = math.Round(rng.NormFloat64()*100) / 100
		}
		if i%7 == 0 {
			X.Cols[5][i] = math.NaN()
		}
		z := 1.5*X.Cols[0][i] - X.Cols[1][i] + 0.5*X.Cols[2][i]*X.Cols[3][i] - 2
		if rng.Float64() < 1/(1+math.Exp(-z)) {
			y[i] = 1
		}
	}
	return X, y
}

func forestSHA(t *testing.T, o Options) string {
	t.Helper()
	X, y := defaultsData()
	f, err := Fit(context.Background(), X, y, o)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if _, err := f.WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	s := sha256.Sum256(b.Bytes())
	return hex.EncodeToString(s[:])
}

// TestDefaultForestBytes pins the model file of the default forest (and of
// train's household forest, MinLeaf 20) on a fixed problem: a change of
// option handling must not change what the defaults train. The sums were
// taken before the options were reworked (zero value = the defaults).
func TestDefaultForestBytes(t *testing.T) {
	def := DefaultOptions()
	def.Trees, def.Seed = 20, 3
	leaf20 := def
	leaf20.MinLeaf = 20
	for _, tc := range []struct {
		name string
		o    Options
		want string
	}{
		{"DefaultOptions", def, "6a5042629a556d6c301340f87bd855997a6893d5051ae7419bd503473510ecf4"},
		{"MinLeaf 20", leaf20, "e06db98a1d48b12bd8a54a15d0906b7e2c67a02451429187dad7a6f766bc9a9b"},
	} {
		if got := forestSHA(t, tc.o); got != tc.want {
			t.Errorf("%s: forest.bin sha256 %s, want %s", tc.name, got, tc.want)
		}
	}
}
