// The boosted-trees family of the registry.

package registry

import (
	"bytes"

	"github.com/povrisk/povrisk/models"
	"github.com/povrisk/povrisk/models/boost"
)

func init() {
	codecs[FamilyBoost] = codec{file: "boost.bin", prefix: "gb-",
		encode: func(m models.Classifier) ([]byte, bool) {
			g, ok := m.(*boost.Model)
			if !ok {
				return nil, false
			}
			var b bytes.Buffer
			if _, err := g.WriteTo(&b); err != nil {
				return nil, false
			}
			return b.Bytes(), true
		},
		decode: func(b []byte) (models.Classifier, error) { return boost.Read(bytes.NewReader(b)) },
	}
}
