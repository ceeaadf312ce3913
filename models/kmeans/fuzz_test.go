package kmeans

import (
	"bytes"
	"context"
	"testing"
)

// FuzzReadKMeans: Read (profiles.json) returns a model or an error, never
// panics, whatever the bytes; a model it accepts can assign rows of its
// own width and name its clusters' traits.
func FuzzReadKMeans(f *testing.F) {
	X, _ := planted(60, 3, 2, 1)
	m, err := Fit(context.Background(), X, Options{K: 3, Seed: 1})
	if err != nil {
		f.Fatal(err)
	}
	var b bytes.Buffer
	if _, err := m.WriteTo(&b); err != nil {
		f.Fatal(err)
	}
	f.Add(b.Bytes())
	f.Add([]byte(`{"format":"povrisk-kmeans-1","features":["a"],"mean":[0],"sd":[0],"centers":[[1]],"sizes":[1]}`))
	f.Add([]byte(`{"format":"povrisk-kmeans-1","features":[],"mean":[],"sd":[],"centers":[[]],"sizes":[-1]}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, b []byte) {
		g, err := Read(bytes.NewReader(b))
		if err != nil {
			return
		}
		if len(g.FeatureNames()) != X.NumCols() {
			return
		}
		out := make([]int, X.Rows)
		g.Assign(X, out)
		for _, c := range out {
			if c < 0 || c >= g.K() {
				t.Fatalf("row assigned to cluster %d of %d", c, g.K())
			}
		}
		for c := 0; c < g.K(); c++ {
			g.Distinguishing(c, 2)
		}
	})
}
