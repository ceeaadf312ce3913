package feedback

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/povrisk/povrisk/datasets"
	"github.com/povrisk/povrisk/engine/atomicfile"
	"github.com/povrisk/povrisk/engine/fault"
	"github.com/povrisk/povrisk/engine/pqfile"
	"github.com/povrisk/povrisk/engine/warehouse"
)

const table = "visit_outcomes"

// writeRejects writes the reject file (nothing when no row was
// rejected): to o.Rejects, else into the import's drop directory, which
// Commit moves to W/drops/<id>/; when the import will not commit (too
// many rejects), straight to W/drops/<id>/rejects.csv so that it is there
// to read.
func (c *checker) writeRejects(o Options, pend *warehouse.Pending, rep *Report, share float64) error {
	if len(c.rejects) == 0 {
		return nil
	}
	final := filepath.Join(o.Warehouse, "drops", rep.ImportID, "rejects.csv")
	path := final
	fails := float64(rep.Rejected) > share*float64(rep.Accepted+rep.Rejected)
	switch {
	case o.Rejects != "":
		path, final = o.Rejects, o.Rejects
	case !fails && !pend.Previous().HasDrop(rep.ImportID) && rep.Accepted > 0:
		path = filepath.Join(pend.DropDir(), "rejects.csv")
	default:
		if err := os.MkdirAll(filepath.Dir(final), 0o700); err != nil {
			return fault.Wrap(fault.Write, err)
		}
	}
	err := atomicfile.Write(path, 0o600, func(w io.Writer) error {
		if o.WrapWriter != nil {
			w = o.WrapWriter(path, w)
		}
		if _, err := w.Write([]byte{0xEF, 0xBB, 0xBF}); err != nil {
			return err
		}
		cw := csv.NewWriter(w)
		cw.Write([]string{"file", "sheet", "row", "column", "reason", "reason_code", "original"})
		for _, r := range c.rejects {
			cw.Write([]string{maskCell(r.file), maskCell(r.sheet), strconv.Itoa(r.row), r.column, maskCell(r.reason), r.code, r.original})
		}
		cw.Flush()
		return cw.Error()
	})
	if err != nil {
		return fault.Wrap(fault.Write, fmt.Errorf("write the reject file %s: %w", path, err))
	}
	rep.RejectFile = final
	return nil
}

// store writes the new warehouse version: visit_outcomes merged with the
// accepted rows (a later row replaces a stored one of the same key), the
// other tables carried over, the import's accepted rows and manifest in
// its drop directory. It returns the new version and how many stored
// rows were replaced.
func store(ctx context.Context, o Options, pend *warehouse.Pending, rep *Report, accepted []visit) (string, int64, error) {
	prev, prevDir := pend.Previous(), pend.PreviousDir()
	var old []visit
	if ts, ok := prev.Table(table); ok {
		var err error
		if old, err = readVisits(ctx, filepath.Join(prevDir, ts.File)); err != nil {
			return "", 0, fault.Input(fmt.Errorf("read the warehouse's %s: %w", table, err))
		}
	}
	merged, replaced := mergeVisits(old, accepted)
	man := warehouse.Manifest{SchemaVersion: datasets.SchemaVersion, KeyFingerprint: prev.KeyFingerprint,
		Drops: append(append([]string{}, prev.Drops...), rep.ImportID)}
	for _, ts := range prev.Tables {
		if ts.Name == table {
			continue
		}
		if err := linkOrCopy(filepath.Join(prevDir, ts.File), filepath.Join(pend.Dir(), ts.File)); err != nil {
			return "", 0, fmt.Errorf("carry %s over: %w", ts.Name, err)
		}
		man.Tables = append(man.Tables, ts)
	}
	ts, err := writeVisits(filepath.Join(pend.Dir(), table+".parquet"), merged, o.WrapWriter)
	if err != nil {
		return "", 0, err
	}
	man.Tables = append(man.Tables, ts)
	own := append([]visit(nil), accepted...)
	sortVisits(own)
	if _, err := writeVisits(filepath.Join(pend.DropDir(), table+".parquet"), own, o.WrapWriter); err != nil {
		return "", 0, err
	}
	if err := writeManifest(pend.DropDir(), rep, o.WrapWriter); err != nil {
		return "", 0, err
	}
	v, err := pend.Commit(man, rep.ImportID)
	return v, replaced, err
}

// mergeVisits: the stored rows, each replaced by an accepted row of the
// same key, plus the accepted rows of new keys; sorted by key.
func mergeVisits(old, accepted []visit) ([]visit, int64) {
	byKey := make(map[visitKey]int, len(old)+len(accepted))
	out := make([]visit, 0, len(old)+len(accepted))
	for _, v := range old {
		byKey[visitKey{v.household, v.date}] = len(out)
		out = append(out, v)
	}
	var replaced int64
	for _, v := range accepted {
		k := visitKey{v.household, v.date}
		if i, ok := byKey[k]; ok {
			out[i] = v
			replaced++
			continue
		}
		byKey[k] = len(out)
		out = append(out, v)
	}
	sortVisits(out)
	return out, replaced
}

func sortVisits(v []visit) {
	sort.Slice(v, func(i, j int) bool {
		if v[i].household != v[j].household {
			return v[i].household < v[j].household
		}
		return v[i].date < v[j].date
	})
}

// writeVisits writes rows as a visit_outcomes Parquet file with the
// settings of ingest (pqfile; string columns without a dictionary) and
// returns its table state.
func writeVisits(path string, rows []visit, wrap func(string, io.Writer) io.Writer) (warehouse.TableState, error) {
	t, _ := datasets.Lookup(table)
	schema := t.ArrowSchema()
	var noDict []string
	for _, c := range t.Columns {
		if c.Kind == datasets.String {
			noDict = append(noDict, c.StoredName())
		}
	}
	h := sha256.New()
	var n int64
	err := atomicfile.Write(path, 0o600, func(w io.Writer) error {
		if wrap != nil {
			w = wrap(path, w)
		}
		cw := &countWriter{w: io.MultiWriter(w, h), n: &n}
		bw := bufio.NewWriterSize(cw, 1<<20)
		props := pqfile.Props(schema, pqfile.Settings{CreatedBy: "povrisk feedback", RowGroup: pqfile.RowGroup, NoDict: noDict})
		fw, err := pqarrow.NewFileWriter(schema, bw, props, pqfile.ArrowProps())
		if err != nil {
			return err
		}
		b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
		defer b.Release()
		for start := 0; start == 0 || start < len(rows); start += pqfile.RowGroup {
			for _, v := range rows[start:min(len(rows), start+pqfile.RowGroup)] {
				appendVisit(b, v)
			}
			rec := b.NewRecordBatch()
			err := fw.Write(rec)
			rec.Release()
			if err != nil {
				return err
			}
			if len(rows) == 0 {
				break
			}
		}
		if err := fw.Close(); err != nil {
			return err
		}
		return bw.Flush()
	})
	if err != nil {
		return warehouse.TableState{}, fault.Wrap(fault.Write, fmt.Errorf("write %s: %w", path, err))
	}
	return warehouse.TableState{Name: table, File: filepath.Base(path), Rows: int64(len(rows)), Bytes: n, SHA256: hex.EncodeToString(h.Sum(nil))}, nil
}

func appendVisit(b *array.RecordBuilder, v visit) {
	str := func(i int, s string, null bool) {
		sb := b.Field(i).(*array.StringBuilder)
		if null {
			sb.AppendNull()
		} else {
			sb.Append(s)
		}
	}
	str(0, v.household, false)
	b.Field(1).(*array.Date32Builder).Append(arrow.Date32(v.date))
	str(2, v.outcome, false)
	str(3, v.source, v.source == "")
	str(4, v.visitor, v.visitor == "")
	str(5, v.note, v.note == "")
}

type countWriter struct {
	w io.Writer
	n *int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	*c.n += int64(n)
	return n, err
}

// readVisits reads a stored visit_outcomes table.
func readVisits(ctx context.Context, path string) ([]visit, error) {
	var out []visit
	cols := []string{"household_id", "visit_date", "outcome", "source", "visitor_code", "note"}
	err := scanParquet(ctx, path, cols, func(rec arrow.RecordBatch) error {
		var s [6]*array.String
		for _, i := range []int{0, 2, 3, 4, 5} {
			a, ok := rec.Column(i).(*array.String)
			if !ok {
				return fmt.Errorf("column %s is not a string", cols[i])
			}
			s[i] = a
		}
		d, ok := rec.Column(1).(*array.Date32)
		if !ok {
			return errors.New("column visit_date is not a date")
		}
		val := func(a *array.String, i int) string {
			if a.IsNull(i) {
				return ""
			}
			return a.Value(i)
		}
		for i := 0; i < int(rec.NumRows()); i++ {
			out = append(out, visit{household: val(s[0], i), date: int32(d.Value(i)), outcome: val(s[2], i),
				source: val(s[3], i), visitor: val(s[4], i), note: val(s[5], i)})
		}
		return nil
	})
	return out, err
}

// scanParquet calls fn with each record batch of the named columns of a
// Parquet file (in the order named); a file that does not read is an
// error, never a panic.
func scanParquet(ctx context.Context, path string, cols []string, fn func(arrow.RecordBatch) error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%s: damaged Parquet file (%v)", path, r)
		}
	}()
	rdr, err := file.OpenParquetFile(path, false)
	if err != nil {
		return err
	}
	defer rdr.Close()
	fr, err := pqarrow.NewFileReader(rdr, pqarrow.ArrowReadProperties{BatchSize: pqfile.RowGroup}, memory.DefaultAllocator)
	if err != nil {
		return err
	}
	sc, err := fr.Schema()
	if err != nil {
		return err
	}
	var idx []int
	for _, c := range cols {
		i := sc.FieldIndices(c)
		if len(i) != 1 {
			return fmt.Errorf("%s: no column %s", path, c)
		}
		idx = append(idx, i[0])
	}
	// GetRecordReader returns the columns in the order of the file's schema:
	// sort the indices and map back.
	order := append([]int(nil), idx...)
	sort.Ints(order)
	rr, err := fr.GetRecordReader(ctx, order, nil)
	if err != nil {
		return err
	}
	defer rr.Release()
	for rr.Next() {
		rec := rr.RecordBatch()
		arrs := make([]arrow.Array, len(idx))
		for k, want := range idx {
			for j, got := range order {
				if got == want {
					arrs[k] = rec.Column(j)
				}
			}
		}
		fields := make([]arrow.Field, len(idx))
		for k := range idx {
			fields[k] = sc.Field(idx[k])
		}
		sub := array.NewRecordBatch(arrow.NewSchema(fields, nil), arrs, rec.NumRows())
		err := fn(sub)
		sub.Release()
		if err != nil {
			return err
		}
	}
	return rr.Err()
}

// writeManifest writes the import's manifest.json into its drop directory.
func writeManifest(dir string, rep *Report, wrap func(string, io.Writer) io.Writer) error {
	m := struct {
		SchemaVersion string       `json:"schema_version"`
		ImportID      string       `json:"import_id"`
		Kind          string       `json:"kind"`
		Files         []FileReport `json:"files"`
		Counts
	}{datasets.SchemaVersion, rep.ImportID, "feedback", rep.Files, rep.Counts}
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	path := filepath.Join(dir, "manifest.json")
	err = atomicfile.Write(path, 0o600, func(w io.Writer) error {
		if wrap != nil {
			w = wrap(path, w)
		}
		_, err := w.Write(append(b, '\n'))
		return err
	})
	if err != nil {
		return fault.Wrap(fault.Write, fmt.Errorf("write %s: %w", path, err))
	}
	return nil
}

func linkOrCopy(src, dst string) error {
	if err := os.Link(src, dst); err == nil {
		return nil
	}
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	return atomicfile.Write(dst, 0o600, func(w io.Writer) error { // a failure is fault.Write
		_, err := io.Copy(w, in)
		return err
	})
}
