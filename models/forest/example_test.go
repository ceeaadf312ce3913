package forest_test

import (
	"bytes"
	"context"
	"fmt"

	"github.com/povrisk/povrisk/models"
	"github.com/povrisk/povrisk/models/forest"
)

// One stump on six rows: the best split is x <= 1.5 (two class-0 rows
// left; three of four right rows are class 1), so P(x=3) = 0.75, the root
// share is 3/6 = 0.5 and the split on x explains the remaining +0.25.
func Example() {
	X := models.Matrix{Rows: 6, Cols: [][]float64{{1, 1, 2, 2, 2, 3}}, Names: []string{"x"}}
	y := []int{0, 0, 0, 1, 1, 1}
	f, err := forest.Fit(context.Background(), X, y, forest.Options{Trees: 1, MaxDepth: 1, MinLeaf: 1, NoBootstrap: true})
	if err != nil {
		panic(err)
	}
	q := models.Matrix{Rows: 1, Cols: [][]float64{{3}}}
	p := make([]float64, 1)
	f.PredictProba(q, p)
	contrib := make([]float64, 1)
	base := f.Explain(q, 0, contrib)
	fmt.Printf("P = %.2f = base %.2f + %s %+.2f\n", p[0], base, f.FeatureNames()[0], contrib[0])

	var file bytes.Buffer
	if _, err := f.WriteTo(&file); err != nil {
		panic(err)
	}
	g, err := forest.Read(&file)
	if err != nil {
		panic(err)
	}
	g.PredictProba(q, p)
	fmt.Printf("after reading: P = %.2f\n", p[0])
	// Output:
	// P = 0.75 = base 0.50 + x +0.25
	// after reading: P = 0.75
}
