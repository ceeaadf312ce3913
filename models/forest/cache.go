package forest

import "strconv"

// parseCacheSize reads a sysfs cache size ("2048K", "1M", "512"), 0 if
// malformed.
func parseCacheSize(s string) int {
	mul := 1
	switch {
	case len(s) > 1 && s[len(s)-1] == 'K':
		mul, s = 1<<10, s[:len(s)-1]
	case len(s) > 1 && s[len(s)-1] == 'M':
		mul, s = 1<<20, s[:len(s)-1]
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0
	}
	return n * mul
}
