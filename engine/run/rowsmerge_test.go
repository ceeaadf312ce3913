package run

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/gob"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/povrisk/povrisk/engine"
	"github.com/povrisk/povrisk/engine/civil"
	"github.com/povrisk/povrisk/engine/fault"
	"github.com/povrisk/povrisk/engine/rundir"
)

// TestMergeStreamsRows merges a night of 3 shards cut into county groups
// of about 300 households, with the rows read 8 at a time and handed on
// 8 at a time, and checks:
//   - ranked.parquet, ranked.csv, changes.csv, elimination.parquet and
//     .csv and summary.json's counts and top k are the bytes (the values)
//     of the merge before streaming: every part's rows in one slice
//     ranked by rankRows, written whole, changes computed in memory
//     (refChanges, the code of the merge before streaming), counted by
//     countRows, the elimination rows sorted whole;
//   - the merge held at most one batch per part and a few chunks at once
//     (rows decoded and not yet written), fewer rows than its largest part;
//   - the same for a single run in county groups (its own parts).
func TestMergeStreamsRows(t *testing.T) {
	f := setupE2E(t)
	day, prevDay := civil.Format(f.asOf), civil.Format(f.prevAsOf)
	db, err := engine.OpenDB("")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	defer func(rb, cr int) { rowsBatch, mergeChunkRows, mergeHook = rb, cr, nil }(rowsBatch, mergeChunkRows)
	rowsBatch, mergeChunkRows = 8, 8
	var peak, merged int64
	mergeHook = func(p, n int64) { peak, merged = p, n }

	runs := filepath.Join(t.TempDir(), "runs")
	copyTree(t, filepath.Join(f.runs, prevDay), filepath.Join(runs, prevDay))
	const n = 3
	for k := range n {
		o := f.options(runs)
		o.AsOf, o.Shard, o.ShardHouseholds = f.asOf, &Shard{K: k, N: n}, 300
		if _, err := Run(ctx, db, o); err != nil {
			t.Fatal(err)
		}
	}
	// The parts' rows, read whole (as the merge did before streaming).
	var all []rundir.Row
	var elim []rundir.ElimRow
	households, largest, parts := 0, 0, 0
	for k := range n {
		s, err := readShard(ShardsDir(runs, day, Shard{K: k, N: n}), true)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range s.meta.Parts {
			dir := filepath.Join(s.dir, filepath.FromSlash(p))
			rows := readAllRows(t, filepath.Join(dir, rowsFile))
			elim = append(elim, readAllElim(t, filepath.Join(dir, elimRowsFile))...)
			largest = max(largest, len(rows))
			all = append(all, rows...)
			vals, err := readPartValues(filepath.Join(dir, partFile))
			if err != nil {
				t.Fatal(err)
			}
			var hh int
			fmt.Sscan(string(vals["households"]), &hh)
			households += hh
			parts++
		}
	}
	if parts < 4 || largest < 100 {
		t.Fatalf("%d parts, the largest of %d rows: the fixture cannot test a merge of parts", parts, largest)
	}
	res, err := Merge(ctx, db, MergeOptions{Runs: runs, AsOf: day, Shards: n})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d rows in %d parts (largest %d): the merge held at most %d at once", len(all), parts, largest, peak)
	checkBounded(t, "merge of shards", peak, merged, len(all), largest, parts)

	meta := f.metaOf(t, runs, day, n)
	topK := rankRows(all, meta.TopShare, meta.TopK)
	want := map[string][]byte{}
	want["ranked.parquet"] = bytesOf(t, func(w io.Writer) error { return rundir.WriteRankedParquet(w, all) })
	want["ranked.csv"] = bytesOf(t, func(w io.Writer) error { return rundir.WriteRankedCSV(w, all) })
	ch, err := refChanges(ctx, db, runs, prevDay, all)
	if err != nil {
		t.Fatal(err)
	}
	if len(ch) == 0 {
		t.Fatalf("no changes against the previous night: the fixture cannot test changes.csv")
	}
	want["changes.csv"] = bytesOf(t, func(w io.Writer) error { return rundir.WriteChanges(w, ch) })
	if len(elim) <= rowsBatch {
		t.Fatalf("%d elimination rows: the fixture cannot test their merge", len(elim))
	}
	sort.Slice(elim, func(a, b int) bool { return elim[a].HouseholdID < elim[b].HouseholdID })
	want["elimination.parquet"] = bytesOf(t, func(w io.Writer) error { return rundir.WriteEliminationParquet(w, elim) })
	want["elimination.csv"] = bytesOf(t, func(w io.Writer) error { return rundir.WriteEliminationCSV(w, elim) })
	for name, b := range want {
		got, err := os.ReadFile(filepath.Join(res.Dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, b) {
			t.Errorf("%s: %d bytes differ from the in-memory merge's %d", name, len(got), len(b))
		}
	}
	s, err := rundir.ReadSummary(res.Dir)
	if err != nil {
		t.Fatal(err)
	}
	if wc := countRows(all, households); !reflect.DeepEqual(s.Counts, wc) {
		t.Errorf("summary counts:\n got %+v\nwant %+v", s.Counts, wc)
	}
	if !maps.Equal(s.TopK, topK) {
		t.Errorf("summary top k %v, want %v", s.TopK, topK)
	}
	if res.Top != all[0].HouseholdID {
		t.Errorf("result top %s, want %s", res.Top, all[0].HouseholdID)
	}
	// The whole run directory is the fixture's single run's.
	sameTree(t, readTree(t, res.Dir), readTree(t, filepath.Join(f.runs, day)))

	t.Run("single run in county groups", func(t *testing.T) {
		peak, merged = 0, 0
		runs := filepath.Join(t.TempDir(), "runs")
		copyTree(t, filepath.Join(f.runs, prevDay), filepath.Join(runs, prevDay))
		o := f.options(runs)
		o.AsOf, o.ShardHouseholds = f.asOf, 300
		res, err := Run(ctx, db, o)
		if err != nil {
			t.Fatal(err)
		}
		checkBounded(t, "single run", peak, merged, len(all), largest, parts)
		sameTree(t, readTree(t, res.Dir), readTree(t, filepath.Join(f.runs, day)))
	})
}

// checkBounded: the rows merge merged every row, holding at most a batch
// per part and the chunks in flight (the producer's, two per writer's
// queue, one per writer at work), fewer than the largest part's rows.
func checkBounded(t *testing.T, what string, peak, merged int64, rows, largest, parts int) {
	t.Helper()
	if merged != int64(rows) {
		t.Errorf("%s: the rows merge merged %d rows, want %d", what, merged, rows)
	}
	bound := int64(parts*rowsBatch + 7*mergeChunkRows)
	if peak <= 0 || peak > bound || peak >= int64(largest) {
		t.Errorf("%s: the rows merge held %d rows at once; want at most %d (%d parts of batches of %d, 7 chunks of %d) and fewer than the largest part's %d",
			what, peak, bound, parts, rowsBatch, mergeChunkRows, largest)
	}
}

// metaOf is the night metadata of shard 0 of n.
func (f *e2eFixture) metaOf(t *testing.T, runs, day string, n int) nightMeta {
	t.Helper()
	s, err := readShard(ShardsDir(runs, day, Shard{K: 0, N: n}), false)
	if err != nil {
		t.Fatal(err)
	}
	return s.meta.Night
}

func readAllRows(t *testing.T, path string) []rundir.Row {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dec := newRowDecoder(f)
	var out []rundir.Row
	for {
		b, err := dec.next()
		if errors.Is(err, io.EOF) {
			return out
		} else if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if len(b) > rowsBatch {
			t.Fatalf("%s: a batch of %d rows, more than %d", path, len(b), rowsBatch)
		}
		out = append(out, b...)
	}
}

func bytesOf(t *testing.T, fn func(io.Writer) error) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := fn(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// refChanges is the merge's changes before streaming (kept as the
// reference): rows (ranked) against the previous run's list held in
// memory: entered and left the county top k, and the MaxRises largest
// score rises among households in both runs.
func refChanges(ctx context.Context, db *sql.DB, runs, prev string, rows []rundir.Row) ([]rundir.Change, error) {
	path := filepath.Join(runs, prev, "ranked.parquet")
	q, err := db.QueryContext(ctx, `SELECT household_id, region_code, score, in_top_k, rank FROM read_parquet(?) ORDER BY rank`, path)
	if err != nil {
		return nil, err
	}
	defer q.Close()
	type prevRow struct {
		region string
		score  float64
		top    bool
	}
	before := map[string]prevRow{}
	var order []string
	for q.Next() {
		var id string
		var p prevRow
		var rank int
		if err := q.Scan(&id, &p.region, &p.score, &p.top, &rank); err != nil {
			return nil, err
		}
		before[id] = p
		order = append(order, id)
	}
	if err := q.Err(); err != nil {
		return nil, err
	}
	now := make(map[string]*rundir.Row, len(rows))
	for i := range rows {
		now[rows[i].HouseholdID] = &rows[i]
	}
	nan := func() float64 { var z float64; return z / z }()
	var entered, left, rose []rundir.Change
	for i := range rows {
		r := &rows[i]
		p, ok := before[r.HouseholdID]
		if r.InTopK && (!ok || !p.top) {
			ps := nan
			if ok {
				ps = p.score
			}
			entered = append(entered, rundir.Change{HouseholdID: r.HouseholdID, RegionCode: r.RegionCode, Change: "entered", Score: r.Score, PreviousScore: ps})
		}
		if ok && r.Score > p.score {
			rose = append(rose, rundir.Change{HouseholdID: r.HouseholdID, RegionCode: r.RegionCode, Change: "rose", Score: r.Score, PreviousScore: p.score})
		}
	}
	for _, id := range order {
		p := before[id]
		if !p.top {
			continue
		}
		if r, ok := now[id]; !ok {
			left = append(left, rundir.Change{HouseholdID: id, RegionCode: p.region, Change: "left", Score: nan, PreviousScore: p.score})
		} else if !r.InTopK {
			left = append(left, rundir.Change{HouseholdID: id, RegionCode: r.RegionCode, Change: "left", Score: r.Score, PreviousScore: p.score})
		}
	}
	sort.SliceStable(rose, func(a, b int) bool {
		da, db := rose[a].Score-rose[a].PreviousScore, rose[b].Score-rose[b].PreviousScore
		if da != db {
			return da > db
		}
		return rose[a].HouseholdID < rose[b].HouseholdID
	})
	if len(rose) > MaxRises {
		rose = rose[:MaxRises]
	}
	return append(append(entered, left...), rose...), nil
}

// readAllElim reads a part's elimination rows whole (none when the part
// has no file), checking its batches are of at most rowsBatch rows.
func readAllElim(t *testing.T, path string) []rundir.ElimRow {
	t.Helper()
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dec := gob.NewDecoder(f)
	var out []rundir.ElimRow
	for {
		var b []rundir.ElimRow
		if err := dec.Decode(&b); errors.Is(err, io.EOF) {
			return out
		} else if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if len(b) > rowsBatch {
			t.Fatalf("%s: a batch of %d rows, more than %d", path, len(b), rowsBatch)
		}
		out = append(out, b...)
	}
}

// TestStreamRows merges three hand-made parts (chunks of 2 rows, batches
// of 2): the rows come in the night's order (score descending, ties by
// household_id) with ranks 1..n, each tagged with its part; a part out of
// order is refused as bad input.
func TestStreamRows(t *testing.T) {
	defer func(rb, cr int) { rowsBatch, mergeChunkRows = rb, cr }(rowsBatch, mergeChunkRows)
	rowsBatch, mergeChunkRows = 2, 2
	dir := t.TempDir()
	row := func(id string, score float64, top bool) rundir.Row {
		return rundir.Row{HouseholdID: id, Score: score, CountyCode: id[:1] + "00000", TownshipCode: id[:1] + "00000000", Tier: "low", InTopK: top}
	}
	parts := [][]rundir.Row{
		{row("a1", 0.9, true), row("a2", 0.5, false), row("a3", 0.1, false)},
		{},
		{row("c1", 0.5, true), row("c2", 0.5, false), row("c3", 0.05, false)},
	}
	var paths []string
	for i, rows := range parts {
		p := filepath.Join(dir, fmt.Sprintf("%d.gob", i))
		f, err := os.Create(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := encodeRows(f, rows); err != nil {
			t.Fatal(err)
		}
		f.Close()
		paths = append(paths, p)
	}
	var held heldRows
	var got []string
	var ranks []int32
	var tags []int32
	res, err := streamRows(context.Background(), paths, 10, &nightMeta{TopShare: 0.5}, &held, func(c *rowChunk) error {
		if len(c.rows) > 2 {
			t.Errorf("a chunk of %d rows, want at most 2", len(c.rows))
		}
		for i, r := range c.rows {
			got, ranks, tags = append(got, r.HouseholdID), append(ranks, r.Rank), append(tags, c.parts[i])
		}
		c.refs.Store(1)
		c.done()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// 0.9 a1; 0.5 a2 c1 c2 (by id); 0.1 a3; 0.05 c3.
	if want := []string{"a1", "a2", "c1", "c2", "a3", "c3"}; !slices.Equal(got, want) {
		t.Errorf("order %v, want %v", got, want)
	}
	if want := []int32{1, 2, 3, 4, 5, 6}; !slices.Equal(ranks, want) {
		t.Errorf("ranks %v, want %v", ranks, want)
	}
	if want := []int32{0, 0, 2, 2, 0, 2}; !slices.Equal(tags, want) {
		t.Errorf("parts %v, want %v", tags, want)
	}
	// Counties a00000 and c00000, 3 eligible each: ceil(0.5 × 3) = 2.
	if res.top != "a1" || res.counts.Eligible != 6 || res.counts.Households != 10 || res.counts.MonitoredExcluded != 4 ||
		res.counts.TopKTotal != 2 || res.topK["a00000"] != 2 || res.topK["c00000"] != 2 {
		t.Errorf("merged: top %s, counts %+v, top k %v", res.top, res.counts, res.topK)
	}
	if held.n.Load() != 0 || held.peak.Load() > 3*2+2 {
		t.Errorf("held %d at the end (want 0), peak %d (want at most 3 batches of 2 and a chunk)", held.n.Load(), held.peak.Load())
	}

	// A part out of the rank order.
	bad := filepath.Join(dir, "bad.gob")
	f, err := os.Create(bad)
	if err != nil {
		t.Fatal(err)
	}
	encodeRows(f, []rundir.Row{row("b1", 0.2, false), row("b2", 0.3, false)})
	f.Close()
	_, err = streamRows(context.Background(), []string{bad}, 2, &nightMeta{TopShare: 0.5}, &heldRows{}, func(c *rowChunk) error { return nil })
	if fault.Of(err) != fault.BadInput || !strings.Contains(err.Error(), "b2") {
		t.Errorf("a part out of order: %v, want bad input naming b2", err)
	}
}
