package brief

import (
	"context"
	"io"
	"testing"
)

// BenchmarkHTML measures a brief of the fixed run (about 280 households, six
// runs read for the trend), checksums and audit included.
func BenchmarkHTML(b *testing.B) {
	for _, region := range []string{"", "520123"} {
		b.Run("region="+region, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := HTML(context.Background(), io.Discard, Options{Run: fixtureRun("2025-12-31"), Region: region}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
