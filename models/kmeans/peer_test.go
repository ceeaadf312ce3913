package kmeans

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/povrisk/povrisk/models"
)

// TestPeerCSV is the povrisk side of bench/kmeans.sh: it runs only when
// KMEANS_PEER_CSV names a CSV of numbers with a header, fits K clusters with
// KMEANS_PEER_NINIT starts and prints one JSON line (seconds, inertia).
func TestPeerCSV(t *testing.T) {
	path := os.Getenv("KMEANS_PEER_CSV")
	if path == "" {
		t.Skip("KMEANS_PEER_CSV not set (see bench/kmeans.sh)")
	}
	atoi := func(k string, def int) int {
		if v, err := strconv.Atoi(os.Getenv(k)); err == nil {
			return v
		}
		return def
	}
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	recs, err := csv.NewReader(fh).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	X := models.NewMatrix(len(recs)-1, recs[0])
	for i, r := range recs[1:] {
		for j, s := range r {
			if X.Cols[j][i], err = strconv.ParseFloat(s, 64); err != nil {
				t.Fatalf("line %d column %d: %v", i+2, j+1, err)
			}
		}
	}
	t0 := time.Now()
	m, err := Fit(context.Background(), X, Options{K: atoi("KMEANS_PEER_K", 8), Restarts: atoi("KMEANS_PEER_NINIT", 4), Seed: uint64(atoi("KMEANS_PEER_SEED", 1))})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(map[string]any{"tool": "povrisk", "seconds": time.Since(t0).Seconds(), "inertia": m.Inertia(), "iterations": m.Iterations()})
	fmt.Println(string(b))
}
