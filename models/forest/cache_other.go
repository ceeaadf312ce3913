//go:build !linux

package forest

// l2CacheBytes is 0 (unknown) outside Linux.
func l2CacheBytes() int { return 0 }
