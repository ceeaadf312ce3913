package forest

import (
	"syscall"
	"unsafe"
)

// hugePage is the size of an x86-64 (and arm64 4K-granule) transparent
// huge page.
const hugePage = 2 << 20

// madvCollapse is Linux's MADV_COLLAPSE (6.1 and later; the syscall package
// predates it).
const madvCollapse = 25

// hugePages asks the kernel to back the whole 2 MB pages inside b with
// transparent huge pages, now (MADV_COLLAPSE) and if they are ever split
// (MADV_HUGEPAGE). The training codes are read at rows spread over
// megabytes (compaction, out-of-bag partitions, small nodes): with 4 KB
// pages nearly every such read misses the TLB. Contents are unchanged;
// errors (THP disabled, an older kernel) leave the pages as they were.
func hugePages(b []byte) {
	if len(b) < 2*hugePage {
		return
	}
	p := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	lo := (p + hugePage - 1) &^ (hugePage - 1)
	hi := (p + uintptr(len(b))) &^ (hugePage - 1)
	if hi <= lo {
		return
	}
	s := b[lo-p : hi-p]
	_ = syscall.Madvise(s, syscall.MADV_HUGEPAGE)
	_ = syscall.Madvise(s, madvCollapse)
}
