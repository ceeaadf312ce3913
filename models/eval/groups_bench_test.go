package eval

import (
	"fmt"
	"testing"
)

// benchGroups: n rows in 120 counties (a prefecture's worth), each
// county selecting its top 5% and reporting its error rates.
func benchGroups(b *testing.B, n int) {
	y, s := benchData(n)
	g := make([]string, n)
	for i := range g {
		g[i] = fmt.Sprintf("%06d", 530100+i%120)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		GroupRates(y, TopKByGroup(s, g, 0.05), g)
	}
}

func BenchmarkGroups10k(b *testing.B)  { benchGroups(b, 10_000) }
func BenchmarkGroups100k(b *testing.B) { benchGroups(b, 100_000) }
func BenchmarkGroups1M(b *testing.B)   { benchGroups(b, 1_000_000) }
