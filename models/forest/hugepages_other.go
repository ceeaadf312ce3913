//go:build !linux

package forest

// hugePages does nothing outside Linux.
func hugePages([]byte) {}
