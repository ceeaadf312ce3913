package main

import (
	"bufio"
	"context"
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/povrisk/povrisk/engine"
	"github.com/povrisk/povrisk/engine/train"
	"github.com/povrisk/povrisk/engine/warehouse"
)

// engineTable writes train/test CSVs of the engine's own model columns at
// asOf, labelled by identification within horizon months; households
// already monitored on asOf are left out (train.BuildSnapshot, as in training).
func engineTable(ctx context.Context, dir, asOf string, horizon int, out string, share float64, seed int) error {
	d, err := time.Parse("2006-01-02", asOf)
	if err != nil {
		return fmt.Errorf("-as-of %q: want YYYY-MM-DD", asOf)
	}
	w, err := warehouse.Open(dir)
	if err != nil {
		return err
	}
	db, err := engine.OpenDB("")
	if err != nil {
		return err
	}
	defer db.Close()
	// The same snapshot training uses: model columns, labels, households
	// monitored on asOf left out.
	snap, err := train.BuildSnapshot(ctx, db, w, d, horizon, nil, nil)
	if err != nil {
		return err
	}
	cols, X, ids := snap.X.Names, snap.X, snap.IDs
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	files := map[bool]*bufio.Writer{}
	for _, test := range []bool{false, true} {
		name := "train.csv"
		if test {
			name = "test.csv"
		}
		fh, err := os.Create(filepath.Join(out, name))
		if err != nil {
			return err
		}
		defer fh.Close()
		bw := bufio.NewWriter(fh)
		defer bw.Flush()
		for _, c := range cols {
			bw.WriteString(c + ",")
		}
		bw.WriteString("label\n")
		files[test] = bw
	}
	var n, pos, ntest int
	buf := []byte{}
	for i, id := range ids {
		h := fnv.New64a()
		fmt.Fprintf(h, "%d/%s", seed, id)
		test := float64(h.Sum64()%10000) < share*10000
		buf = buf[:0]
		for j := range cols {
			if v := X.Cols[j][i]; v == v {
				buf = strconv.AppendFloat(buf, v, 'g', -1, 64)
			}
			buf = append(buf, ',')
		}
		y := snap.Y[i]
		buf = strconv.AppendInt(buf, int64(y), 10)
		buf = append(buf, '\n')
		files[test].Write(buf)
		n++
		pos += y
		if test {
			ntest++
		}
	}
	fmt.Fprintf(os.Stderr, "forestprep: engine table as of %s: %d households (%d test), %d features, %.2f%% positive\n", asOf, n, ntest, len(cols), 100*float64(pos)/float64(max(n, 1)))
	return nil
}
