package forest

import (
	"os"
	"strconv"
	"strings"
)

// l2CacheBytes is the size of cpu0's second-level data (or unified)
// cache, from sysfs, or 0 if unknown.
func l2CacheBytes() int {
	const dir = "/sys/devices/system/cpu/cpu0/cache/"
	for i := range 8 {
		idx := dir + "index" + strconv.Itoa(i) + "/"
		level, err := os.ReadFile(idx + "level")
		if err != nil {
			return 0
		}
		kind, _ := os.ReadFile(idx + "type")
		if strings.TrimSpace(string(level)) != "2" || strings.TrimSpace(string(kind)) == "Instruction" {
			continue
		}
		size, _ := os.ReadFile(idx + "size")
		return parseCacheSize(strings.TrimSpace(string(size)))
	}
	return 0
}
