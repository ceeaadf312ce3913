package ingest

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestStrTable checks the interning table against a Go map, the reference:
// same indices (dense, in order of first insertion), same presence, across
// several growths, with keys of every length including the empty key.
func TestStrTable(t *testing.T) {
	tests := []struct {
		name     string
		n, space int
	}{
		{"few", 10, 5},
		{"growths", 20000, 8000},
		{"mostly new", 50000, 1 << 30},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(7, uint64(tc.n)))
			tab := newStrTable()
			ref := map[string]int32{}
			for k := 0; k < tc.n; k++ {
				key := fmt.Sprintf("P%0*d", rng.IntN(12), rng.IntN(tc.space))
				if k%1000 == 0 {
					key = ""
				}
				wantI, had := ref[key]
				if g, ok := tab.get([]byte(key)); ok != had || (had && g != wantI) {
					t.Fatalf("get(%q) = %d, %v; want %d, %v", key, g, ok, wantI, had)
				}
				if !had {
					wantI = int32(len(ref))
					ref[key] = wantI
				}
				i, dup := tab.insert([]byte(key))
				if i != wantI || dup != had {
					t.Fatalf("insert(%q) = %d, %v; want %d, %v", key, i, dup, wantI, had)
				}
			}
			if tab.Len() != len(ref) {
				t.Fatalf("Len = %d, want %d", tab.Len(), len(ref))
			}
			for key, want := range ref {
				if i, ok := tab.get([]byte(key)); !ok || i != want || string(tab.key(uint32(i))) != key {
					t.Fatalf("get(%q) = %d, %v; want %d", key, i, ok, want)
				}
			}
			if _, ok := tab.get([]byte("absent-key")); ok {
				t.Fatal("absent key found")
			}
		})
	}
}

// TestDupSet checks the duplicate set against a Go map, the reference, on
// keys in ascending order with repeats and stragglers, in random order,
// and in descending order, including the empty key.
func TestDupSet(t *testing.T) {
	orders := map[string]func(rng *rand.Rand, k int) string{
		"ascending with repeats and stragglers": func(rng *rand.Rand, k int) string {
			switch rng.IntN(10) {
			case 0:
				return fmt.Sprintf("C%08d", rng.IntN(k+1)) // an earlier key, or a straggler
			case 1:
				return ""
			}
			return fmt.Sprintf("C%08d", k)
		},
		"random":     func(rng *rand.Rand, k int) string { return fmt.Sprintf("C%0*d", rng.IntN(9), rng.IntN(30000)) },
		"descending": func(rng *rand.Rand, k int) string { return fmt.Sprintf("C%08d", 50000-k/2) },
	}
	for name, key := range orders {
		t.Run(name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(11, 3))
			s := newDupSet()
			ref := map[string]bool{}
			for k := 0; k < 50000; k++ {
				b := key(rng, k)
				if dup := s.insert([]byte(b)); dup != ref[b] {
					t.Fatalf("insert %d (%q) = %v, want %v", k, b, dup, ref[b])
				}
				ref[b] = true
			}
			if len(s.ends) == 0 {
				t.Fatal("the sorted run is empty")
			}
		})
	}
}

// TestRefCache checks the cache of recent references against the last
// four distinct keys put, worked by hand.
func TestRefCache(t *testing.T) {
	var c refCache
	if _, ok := c.get([]byte("a")); ok {
		t.Fatal("empty cache found a key")
	}
	for i, k := range []string{"a", "b", "c", "d", "e"} {
		c.put([]byte(k), int32(i))
	}
	// "a" was replaced by "e"; the others remain with their indices.
	if _, ok := c.get([]byte("a")); ok {
		t.Fatal("the oldest key was not replaced")
	}
	for i, k := range []string{"b", "c", "d", "e"} {
		if r, ok := c.get([]byte(k)); !ok || r != int32(i+1) {
			t.Fatalf("get(%q) = %d, %v; want %d", k, r, ok, i+1)
		}
	}
	// The cache copies the key: changing the caller's bytes changes nothing.
	b := []byte("f")
	c.put(b, 9)
	b[0] = 'g'
	if r, ok := c.get([]byte("f")); !ok || r != 9 {
		t.Fatalf("get(f) = %d, %v; want 9", r, ok)
	}
}

// TestStrTableAfter: after finds a key among the four entries following
// the given one, with get's index, and nothing beyond or before them.
func TestStrTableAfter(t *testing.T) {
	tab := newStrTable()
	for i := 0; i < 20; i++ {
		tab.insert([]byte(fmt.Sprintf("P%03d", i)))
	}
	for from := int32(-1); from < 20; from++ {
		for k := 0; k < 20; k++ {
			key := []byte(fmt.Sprintf("P%03d", k))
			got, ok := tab.after(from, key)
			want := int32(k) > from && int32(k) <= from+4
			if ok != want || (ok && got != int32(k)) {
				t.Fatalf("after(%d, %s) = %d, %v; want found=%v at %d", from, key, got, ok, want, k)
			}
		}
	}
	if _, ok := tab.after(17, []byte("P999")); ok {
		t.Fatal("after found an absent key")
	}
}
