package calib

import (
	"bytes"
	"errors"
	"math"
	"testing"
)

// FuzzReadCalib: any bytes give a calibrator or an error wrapping
// ErrFormat, never a panic; a calibrator read applies to any score
// without panicking and gives a value in [0, 1] for a score in [0, 1].
func FuzzReadCalib(f *testing.F) {
	var b bytes.Buffer
	c, _ := FitIsotonic([]int{0, 1, 0, 1, 1}, []float64{0.1, 0.2, 0.3, 0.4, 0.5})
	c.WriteTo(&b)
	f.Add(b.Bytes())
	f.Add([]byte(`{"method":"platt","a":-3,"b":1,"rows":5}`))
	f.Add([]byte(`{"method":"isotonic","x":[0.1],"y":[0.5],"rows":1}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Read(bytes.NewReader(data))
		if err != nil {
			if !errors.Is(err, ErrFormat) {
				t.Fatalf("error %v does not wrap ErrFormat", err)
			}
			return
		}
		for _, s := range []float64{0, 0.25, 0.5, 1} {
			v := c.Apply(s)
			if c.Method == Isotonic && (v < 0 || v > 1 || math.IsNaN(v)) {
				t.Fatalf("isotonic Apply(%v) = %v", s, v)
			}
		}
	})
}
