package boost

import (
	"bytes"
	"context"
	"errors"
	"testing"
)

// FuzzReadBoost: Read returns a model or an error wrapping ErrFormat,
// never panics, whatever the bytes; a model it accepts can predict,
// explain and be written again.
func FuzzReadBoost(f *testing.F) {
	X, y := synth(200, 3, 5)
	for _, o := range []Options{{Trees: 2}, {Trees: 1, MaxLeaves: 3, ValidationShare: 0.2}} {
		m, err := Fit(context.Background(), X, y, o)
		if err != nil {
			f.Fatal(err)
		}
		var b bytes.Buffer
		if _, err := m.WriteTo(&b); err != nil {
			f.Fatal(err)
		}
		f.Add(b.Bytes())
	}
	f.Add([]byte("PVRB\x01\x00\x00\x00\x02\x00\x00\x00{}"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		g, err := Read(bytes.NewReader(b))
		if err != nil {
			if !errors.Is(err, ErrFormat) {
				t.Errorf("error %v does not wrap ErrFormat", err)
			}
			return
		}
		q := X.Subset([]int{0, 1, 2})
		if len(g.FeatureNames()) != q.NumCols() {
			return
		}
		p := make([]float64, q.Rows)
		g.PredictProba(q, p)
		contrib := make([]float64, q.NumCols())
		g.Explain(q, 0, contrib)
		var out bytes.Buffer
		if _, err := g.WriteTo(&out); err != nil {
			t.Errorf("write back: %v", err)
		}
	})
}
