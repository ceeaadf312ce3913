package ingest

import (
	"bytes"
	"hash/maphash"
)

// strTable interns byte strings: each distinct string gets a dense index
// (0, 1, 2, ... in order of first insertion). It holds no pointers but its
// three slices, so that the garbage collector never scans its millions of
// keys (a map[string]int32 of the persons or claim ids costs a GC mark of
// every key in every cycle), and it stores the key bytes back to back.
//
// Open addressing with linear probing; a slot holds the entry index + 1
// in its low 32 bits (0: empty) and the high 32 bits of the key's hash (the
// tag), so that most probes of another key end without comparing bytes.
// The home slot of a key is its tag modulo the table size, so that growing
// the table needs no hashing again (at most 2^31 entries).
type strTable struct {
	seed  maphash.Seed
	slots []uint64
	ends  []uint64 // ends[i]: end of entry i in data (its start is ends[i-1])
	data  []byte
}

func newStrTable() *strTable {
	return &strTable{seed: maphash.MakeSeed(), slots: make([]uint64, 1<<10)}
}

// Len is the number of entries.
func (t *strTable) Len() int { return len(t.ends) }

func (t *strTable) key(i uint32) []byte {
	s := uint64(0)
	if i > 0 {
		s = t.ends[i-1]
	}
	return t.data[s:t.ends[i]]
}

// find returns the slot of b: its entry index and true, or the empty slot
// where b would go and false.
func (t *strTable) find(b []byte, h uint64) (slot int, idx int32, ok bool) {
	mask := uint64(len(t.slots) - 1)
	tag := h >> 32
	for p := tag & mask; ; p = (p + 1) & mask {
		s := t.slots[p]
		if s == 0 {
			return int(p), -1, false
		}
		if s>>32 == tag {
			i := uint32(s) - 1
			if string(t.key(i)) == string(b) {
				return int(p), int32(i), true
			}
		}
	}
}

// get returns the index of b.
func (t *strTable) get(b []byte) (int32, bool) {
	_, i, ok := t.find(b, maphash.Bytes(t.seed, b))
	return i, ok
}

// after looks for b among the few entries following entry i (i < 0: the
// first entries), in order of insertion: the next key of a file sorted
// like the one the table was filled from, found without hashing.
func (t *strTable) after(i int32, b []byte) (int32, bool) {
	const window = 4
	for j := int(i) + 1; j <= int(i)+window && j < len(t.ends); j++ {
		if j >= 0 && string(t.key(uint32(j))) == string(b) {
			return int32(j), true
		}
	}
	return -1, false
}

// insert adds b unless present; it returns b's index and whether b was
// already there.
func (t *strTable) insert(b []byte) (int32, bool) {
	h := maphash.Bytes(t.seed, b)
	p, i, ok := t.find(b, h)
	if ok {
		return i, true
	}
	i = int32(len(t.ends))
	t.data = append(t.data, b...)
	t.ends = append(t.ends, uint64(len(t.data)))
	t.slots[p] = h>>32<<32 | uint64(i+1)
	if 2*len(t.ends) > len(t.slots) {
		t.grow()
	}
	return i, false
}

// grow doubles the slots and places every entry again.
func (t *strTable) grow() {
	old := t.slots
	t.slots = make([]uint64, 2*len(old))
	mask := uint64(len(t.slots) - 1)
	for _, s := range old {
		if s == 0 {
			continue
		}
		p := s >> 32 & mask
		for t.slots[p] != 0 {
			p = (p + 1) & mask
		}
		t.slots[p] = s
	}
}

// dupSet records the keys of a table to find duplicates. Drops list their
// rows by key (claim ids ascending), so it keeps the keys that arrive in
// strictly ascending byte order in a sorted run, appended without hashing:
// a key above the run's last cannot be in the set (every key held is at
// most that last one). Any other key is searched in the run (binary
// search) and then in a strTable holding the keys out of order. The
// answer is the same as one strTable's, whatever the order of the keys.
type dupSet struct {
	data []byte
	ends []uint64 // ends[i]: end of run entry i in data
	rest *strTable
}

func newDupSet() *dupSet { return &dupSet{rest: newStrTable()} }

func (s *dupSet) runKey(i int) []byte {
	st := uint64(0)
	if i > 0 {
		st = s.ends[i-1]
	}
	return s.data[st:s.ends[i]]
}

// insert adds b; it reports whether b was already there.
func (s *dupSet) insert(b []byte) bool {
	n := len(s.ends)
	if n == 0 || bytes.Compare(b, s.runKey(n-1)) > 0 {
		s.data = append(s.data, b...)
		s.ends = append(s.ends, uint64(len(s.data)))
		return false
	}
	lo, hi := 0, n
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if bytes.Compare(s.runKey(m), b) < 0 {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo < n && bytes.Equal(s.runKey(lo), b) {
		return true
	}
	_, had := s.rest.insert(b)
	return had
}
