package forest

import "testing"

// TestParseCacheSize: sysfs sizes in bytes, kilobytes and megabytes; junk is 0.
func TestParseCacheSize(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int
	}{{"2048K", 2 << 20}, {"1M", 1 << 20}, {"512", 512}, {"48K", 48 << 10}, {"", 0}, {"K", 0}, {"x12K", 0}, {"-4K", 0}} {
		if got := parseCacheSize(c.in); got != c.want {
			t.Errorf("parseCacheSize(%q) = %d, want %d", c.in, got, c.want)
		}
	}
}
