package ingest

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/povrisk/povrisk/datasets"
	"github.com/povrisk/povrisk/engine/warehouse"
)

// Options configure Run. The zero value of every field but Drop (and
// Warehouse, unless ValidateOnly) means something sensible.
type Options struct {
	Drop, Warehouse string
	// Key is the HMAC-SHA-256 key for pseudonymised columns (see LoadKey);
	// a persons file with id_number is refused without one (unless ValidateOnly).
	Key []byte
	// Encoding of the CSV files: "" detects UTF-8 (with or without BOM) or
	// GB18030 per file; "utf-8" or "gb18030" (also "gbk") forces one.
	Encoding string
	// ValidateOnly checks the drop and writes nothing but the report; the
	// warehouse, when given, supplies the previous state for references.
	ValidateOnly bool
	// Rejects, when ValidateOnly, receives every rejected row as CSV:
	// table,file,line,column,reason,original (personal columns masked).
	Rejects io.Writer
	// Workers is the number of tables loaded at once (0: GOMAXPROCS+1:
	// a table keeps a core and a half busy, checking rows and, in another
	// goroutine, encoding Parquet).
	Workers int
	// Progress receives progress lines; nil is quiet.
	Progress io.Writer
}

// TableReport is the outcome of one table of the drop.
type TableReport struct {
	Table      string   `json:"table"`
	File       string   `json:"file"`
	Format     string   `json:"format,omitempty"`   // csv, csv.gz, parquet
	Encoding   string   `json:"encoding,omitempty"` // utf-8, utf-8-bom, gb18030 (CSV)
	SHA256     string   `json:"sha256,omitempty"`
	Read       int64    `json:"read"`
	Accepted   int64    `json:"accepted"`
	Rejected   int64    `json:"rejected"`
	RejectFile string   `json:"reject_file"` // relative to the warehouse ("" when no row was rejected)
	Extra      []string `json:"extra_columns,omitempty"`
	Error      string   `json:"error"` // a whole-file problem: the table was not loaded
	// Seconds is the wall time spent loading the table (for logs and
	// benchmarks; never written to the warehouse).
	Seconds float64 `json:"-"`
	// Personal lists the extra columns found to hold personal data (table.go).
	Personal []PersonalColumn `json:"personal_columns,omitempty"`
}

// Report is the outcome of an ingest or validation.
type Report struct {
	DropID    string        `json:"drop_id"`
	Drop      string        `json:"drop"`
	Tables    []TableReport `json:"tables"`
	Missing   []string      `json:"missing"`
	Unknown   []string      `json:"unknown_files,omitempty"`
	Warehouse string        `json:"warehouse,omitempty"`
	Version   string        `json:"version,omitempty"` // the warehouse version now current
	// Unchanged is set when the drop (same files, same checksums) was
	// already merged: nothing was written.
	Unchanged bool `json:"unchanged"`
}

// Rejected is the total number of rejected rows.
func (r *Report) Rejected() int64 {
	var n int64
	for _, t := range r.Tables {
		n += t.Rejected
	}
	return n
}

// dropFile is one table's file in the drop.
type dropFile struct {
	table  datasets.Table
	path   string
	format string
	sha    string
}

// checksum fills f.sha for every file, two at a time.
func checksum(ctx context.Context, files []*dropFile) error {
	var wg sync.WaitGroup
	errs := make([]error, len(files))
	sem := make(chan struct{}, 2)
	for i, f := range files {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			if ctx.Err() != nil {
				errs[i] = ctx.Err()
				return
			}
			h := sha256.New()
			fh, err := os.Open(f.path)
			if err != nil {
				errs[i] = fmt.Errorf("read %s: %w", f.path, err)
				return
			}
			defer fh.Close()
			if _, err := io.Copy(h, fh); err != nil {
				errs[i] = fmt.Errorf("read %s: %w", f.path, err)
				return
			}
			f.sha = hex.EncodeToString(h.Sum(nil))
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// dropID is derived from the file names and checksums: the same files give
// the same id, whatever the directory is called.
func dropID(files []*dropFile) string {
	h := sha256.New()
	for _, f := range files {
		fmt.Fprintf(h, "%s %s\n", filepath.Base(f.path), f.sha)
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// Run checks the drop o.Drop against the data standard and, unless
// o.ValidateOnly, merges the accepted rows into a new version of the
// warehouse o.Warehouse. Row problems are rejected and counted, never
// fatal; a whole-file problem fails that table only. Run returns an error
// (with the report so far) when households or persons is missing or fails,
// or when the warehouse cannot be written.
func Run(ctx context.Context, db *sql.DB, o Options) (*Report, error) {
	rep := &Report{Drop: o.Drop}
	files, missing, unknown, err := findFiles(o.Drop)
	if err != nil {
		return rep, err
	}
	rep.Missing, rep.Unknown = missing, unknown
	for _, m := range missing {
		if t, _ := datasets.Lookup(m); t.Required {
			return rep, fmt.Errorf("drop %s: %w: no %s.csv, %s.csv.gz or %s.parquet", o.Drop, ErrRequiredTable, m, m, m)
		}
	}
	if err := checksum(ctx, files); err != nil {
		return rep, err
	}
	rep.DropID = dropID(files)

	var pend *warehouse.Pending
	var prevDir string
	var prev *warehouse.Manifest
	if !o.ValidateOnly {
		if o.Warehouse == "" {
			return rep, errors.New("ingest: no warehouse directory given")
		}
		pend, err = warehouse.Begin(o.Warehouse)
		if err != nil {
			return rep, err
		}
		defer pend.Abort()
		prev, prevDir = pend.Previous(), pend.PreviousDir()
		rep.Warehouse = o.Warehouse
		if prev != nil && prev.HasDrop(rep.DropID) {
			rep.Unchanged = true
			rep.Version = prev.Version
			return rep, nil
		}
	} else if o.Warehouse != "" {
		w, err := warehouse.Open(o.Warehouse)
		if err == nil {
			prev, prevDir = w.Manifest(), w.Dir()
		} else if !errors.Is(err, warehouse.ErrNoVersion) {
			return rep, err
		}
	}

	r := &refs{households: newKeySet(), persons: newKeySet()}
	if prev != nil {
		for _, k := range []struct {
			table, col string
			set        *keySet
		}{{"households", "household_id", r.households}, {"persons", "person_id", r.persons}} {
			if t, ok := prev.Table(k.table); ok {
				if err := loadKeys(ctx, filepath.Join(prevDir, t.File), k.col, k.set); err != nil {
					return rep, fmt.Errorf("read previous %s keys: %w", k.table, err)
				}
			}
		}
	}

	outDir, rejDir := "", ""
	if pend != nil {
		outDir = filepath.Join(pend.Dir(), ".new")
		rejDir = filepath.Join(pend.DropDir(), "rejects")
		for _, d := range []string{outDir, rejDir} {
			if err := os.MkdirAll(d, 0o700); err != nil {
				return rep, err
			}
		}
	}
	reports := make([]TableReport, len(files))
	ferrs := make([]error, len(files))
	rejBufs := make([]*tempBuffer, len(files))
	workers := o.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0) + 1
	}
	if err := loadAll(ctx, files, workers, func(ctx context.Context, i int) {
		reports[i], rejBufs[i], ferrs[i] = loadTable(ctx, files[i], r, o, outDir, rejDir)
	}, func(i int) error {
		if reports[i].Error != "" {
			return fmt.Errorf("%w: %s: %w", ErrRequiredTable, files[i].table.Name, ferrs[i])
		}
		return nil
	}); err != nil {
		// households or persons failed: the other tables count as not loaded.
		for i, f := range files {
			if f.table.Name != "households" && f.table.Name != "persons" {
				reports[i], rejBufs[i] = TableReport{}, nil
			}
		}
		writeRejects(o.Rejects, files, rejBufs)
		rep.Tables = reports
		return rep, err
	}
	// Validation rejects go out in the order of the standard's tables,
	// whatever order the tables finished in.
	writeRejects(o.Rejects, files, rejBufs)
	rep.Tables = reports
	if err := ctx.Err(); err != nil {
		return rep, err
	}
	if pend == nil {
		return rep, nil
	}

	crashPoint("after-tables")
	// Build the new version: merge with the previous one table by table.
	man := warehouse.Manifest{SchemaVersion: datasets.SchemaVersion}
	if prev != nil {
		man.Drops = append(man.Drops, prev.Drops...)
	}
	man.Drops = append(man.Drops, rep.DropID)
	loaded := map[string]bool{}
	for _, tr := range reports {
		if tr.Error == "" {
			loaded[tr.Table] = true
		}
	}
	for _, t := range datasets.Tables {
		name := t.Name + ".parquet"
		dst := filepath.Join(pend.Dir(), name)
		var old string
		if prev != nil {
			if ts, ok := prev.Table(t.Name); ok {
				old = filepath.Join(prevDir, ts.File)
			}
		}
		newRows := filepath.Join(outDir, name)
		switch {
		case loaded[t.Name] && old == "":
			err = os.Rename(newRows, dst)
		case loaded[t.Name]:
			err = merge(ctx, db, t, old, newRows, dst)
		case old != "":
			err = linkOrCopy(old, dst)
		default:
			continue
		}
		if err != nil {
			return rep, fmt.Errorf("write %s: %w", t.Name, err)
		}
		man.Tables = append(man.Tables, warehouse.TableState{Name: t.Name, File: dst})
	}
	// Checksum the stored tables two at a time (they are read back whole).
	serrs := make([]error, len(man.Tables))
	var swg sync.WaitGroup
	sem := make(chan struct{}, 2)
	for i := range man.Tables {
		swg.Add(1)
		go func() {
			defer swg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			ts := &man.Tables[i]
			st, err := tableState(ts.File)
			st.Name = ts.Name
			*ts, serrs[i] = st, err
		}()
	}
	swg.Wait()
	if err := errors.Join(serrs...); err != nil {
		return rep, err
	}
	os.RemoveAll(outDir)
	if err := writeDropManifest(pend.DropDir(), rep); err != nil {
		return rep, err
	}
	v, err := pend.Commit(man, rep.DropID)
	if err != nil {
		return rep, err
	}
	rep.Version = v
	return rep, nil
}

// loadTable loads one file; its errors end up in the report.
// The reject rows of a validation (Options.Rejects) are returned, to be
// written in table order once every table is done.
func loadTable(ctx context.Context, f *dropFile, r *refs, o Options, outDir, rejDir string) (TableReport, *tempBuffer, error) {
	tr := TableReport{Table: f.table.Name, File: filepath.Base(f.path), Format: f.format, SHA256: f.sha}
	t0 := time.Now()
	fail := func(err error) (TableReport, *tempBuffer, error) {
		var fe *FileError
		if !errors.As(err, &fe) {
			err = &FileError{File: tr.File, Err: err}
		}
		tr.Error = err.Error()
		tr.Accepted, tr.Rejected, tr.RejectFile = 0, 0, ""
		return tr, nil, err
	}
	var (
		l    *tableLoader
		err  error
		rr   *rowReader
		fr   *pqarrow.FileReader
		prdr *file.Reader
	)
	if f.format == "parquet" {
		var names []string
		fr, prdr, names, err = openParquet(f.path)
		if err != nil {
			return fail(fmt.Errorf("read parquet: %w", err))
		}
		defer prdr.Close()
		l, err = newTableLoader(f.table, tr.File, names, r, o.Key, o.ValidateOnly)
	} else {
		src, err2 := openCSV(f.path, o.Encoding)
		if err2 != nil {
			return fail(err2)
		}
		defer src.Close()
		tr.Encoding = src.Encoding
		rr = newRowReader(src.r)
		if err := rr.next(); err != nil {
			if err == io.EOF {
				return fail(errors.New("empty file: no header row"))
			}
			return fail(fmt.Errorf("header: %w", err))
		}
		header := make([]string, rr.numFields())
		for i := range header {
			header[i] = string(rr.field(i))
		}
		l, err = newTableLoader(f.table, tr.File, header, r, o.Key, o.ValidateOnly)
	}
	if err != nil {
		return fail(err)
	}
	tr.Extra = l.extra
	if o.Progress != nil {
		l.progress = func(n int64) {
			if n%(1<<20) < batchRows {
				fmt.Fprintf(o.Progress, "%s: %d rows read\n", f.table.Name, n)
			}
		}
	}
	var rejFile *os.File
	var rejW io.Writer
	var tmpRej *tempBuffer
	if rejDir != "" {
		rejFile, err = os.OpenFile(filepath.Join(rejDir, f.table.Name+".csv"), os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
		if err != nil {
			l.abort()
			return fail(err)
		}
		defer rejFile.Close()
		rejW = rejFile
	} else if o.Rejects != nil {
		tmpRej = &tempBuffer{}
		rejW = tmpRej
	}
	out := ""
	if outDir != "" {
		out = filepath.Join(outDir, f.table.Name+".parquet")
	}
	if err := l.open(out, rejW); err != nil {
		l.abort()
		return fail(err)
	}
	if fr != nil {
		err = l.loadParquet(ctx, fr)
	} else {
		err = l.loadCSV(ctx, rr)
	}
	if err != nil {
		l.abort()
		return fail(err)
	}
	if err := l.close(); err != nil {
		return fail(err)
	}
	tr.Read, tr.Accepted, tr.Rejected = l.read, l.accepted, l.rejected
	tr.Personal = l.personalColumns()
	tr.Seconds = time.Since(t0).Seconds()
	if rejFile != nil {
		if l.rejected == 0 {
			rejFile.Close()
			os.Remove(rejFile.Name())
		} else {
			if err := rejFile.Sync(); err != nil {
				return fail(err)
			}
			tr.RejectFile = filepath.Join("drops", "DROPID", "rejects", f.table.Name+".csv")
		}
	}
	if l.rejected == 0 {
		tmpRej = nil
	}
	if o.Progress != nil {
		fmt.Fprintf(o.Progress, "%s: %d read, %d accepted, %d rejected\n", f.table.Name, tr.Read, tr.Accepted, tr.Rejected)
	}
	return tr, tmpRej, nil
}

// writeRejects writes the collected reject rows of a validation to w, in
// the order of the drop's files (the standard's table order).
func writeRejects(w io.Writer, files []*dropFile, bufs []*tempBuffer) {
	for i, b := range bufs {
		if b != nil && w != nil {
			b.copyTo(w, files[i].table.Name)
		}
	}
}

// loadAll loads every file of the drop: households first (every table
// references it), then persons together with the tables that reference
// households only, then the tables referencing persons once persons is
// done; at most workers tables at once, the largest files first so that
// the longest table does not start last. load(ctx, i) loads files[i];
// required(i) returns the error that stops the ingest when files[i] is
// households or persons and failed. The other tables are then cancelled.
func loadAll(ctx context.Context, files []*dropFile, workers int, load func(context.Context, int), required func(int) error) error {
	var queue []int
	hh, pp := -1, -1
	for i, f := range files {
		switch f.table.Name {
		case "households":
			hh = i
		case "persons":
			pp = i
		default:
			queue = append(queue, i)
		}
	}
	if hh >= 0 {
		load(ctx, hh)
		if err := required(hh); err != nil {
			return err
		}
	}
	size := make([]int64, len(files))
	for _, i := range queue {
		if st, err := os.Stat(files[i].path); err == nil {
			size[i] = st.Size()
		}
	}
	sort.SliceStable(queue, func(a, b int) bool { return size[queue[a]] > size[queue[b]] })
	needsPersons := func(i int) bool {
		for _, c := range files[i].table.Columns {
			if c.Ref == "persons" {
				return true
			}
		}
		return false
	}
	if pp >= 0 {
		queue = append([]int{pp}, queue...)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu          sync.Mutex
		cond        = sync.NewCond(&mu)
		personsDone = pp < 0
		failed      error
		wg          sync.WaitGroup
	)
	// next takes the first table of the queue that can start; -1 when none is left.
	next := func() int {
		mu.Lock()
		defer mu.Unlock()
		for {
			if failed != nil || len(queue) == 0 {
				return -1
			}
			for k, i := range queue {
				if personsDone || !needsPersons(i) {
					queue = append(queue[:k], queue[k+1:]...)
					return i
				}
			}
			cond.Wait()
		}
	}
	if workers < 1 {
		workers = 1
	}
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := next(); i >= 0; i = next() {
				load(ctx, i)
				if i == pp {
					mu.Lock()
					personsDone = true
					if err := required(i); err != nil {
						failed = err
						cancel()
					}
					cond.Broadcast()
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	return failed
}

// tempBuffer collects a table's reject CSV in validate mode.
type tempBuffer struct{ lines [][]byte }

func (t *tempBuffer) Write(p []byte) (int, error) {
	t.lines = append(t.lines, append([]byte(nil), p...))
	return len(p), nil
}

// copyTo writes the collected CSV prefixed with a table column (the header
// row of each table is skipped; the caller writes one).
func (t *tempBuffer) copyTo(w io.Writer, table string) {
	var all []byte
	for _, l := range t.lines {
		all = append(all, l...)
	}
	// The first line is the header of the per-table reject CSV.
	if i := indexNL(all); i >= 0 {
		all = all[i+1:]
	}
	// Prefix each record with the table name. Records may span lines when
	// the original held a newline; csv.Writer quotes such fields, so split
	// records with a reader.
	for len(all) > 0 {
		n := recordLen(all)
		fmt.Fprintf(w, "%s,", table)
		w.Write(all[:n])
		all = all[n:]
	}
}

func indexNL(b []byte) int {
	for i, c := range b {
		if c == '\n' {
			return i
		}
	}
	return -1
}

// recordLen is the length of the first CSV record in b, with its newline.
func recordLen(b []byte) int {
	q := false
	for i, c := range b {
		switch {
		case c == '"':
			q = !q
		case c == '\n' && !q:
			return i + 1
		}
	}
	return len(b)
}

// loadKeys adds the values of one string column of a Parquet file to set.
func loadKeys(ctx context.Context, path, col string, set *keySet) error {
	rdr, err := file.OpenParquetFile(path, false)
	if err != nil {
		return err
	}
	defer rdr.Close()
	fr, err := pqarrow.NewFileReader(rdr, pqarrow.ArrowReadProperties{BatchSize: batchRows}, memory.DefaultAllocator)
	if err != nil {
		return err
	}
	sc, err := fr.Schema()
	if err != nil {
		return err
	}
	idx := sc.FieldIndices(col)
	if len(idx) != 1 {
		return fmt.Errorf("%s: no column %s", path, col)
	}
	rr, err := fr.GetRecordReader(ctx, idx, nil)
	if err != nil {
		return err
	}
	defer rr.Release()
	for rr.Next() {
		a, ok := rr.RecordBatch().Column(0).(*array.String)
		if !ok {
			return fmt.Errorf("%s: column %s is not a string", path, col)
		}
		for i := 0; i < a.Len(); i++ {
			set.add([]byte(a.Value(i)), false)
		}
	}
	return rr.Err()
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
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// tableState reads the row count and checksum of a stored table.
func tableState(path string) (warehouse.TableState, error) {
	st := warehouse.TableState{File: filepath.Base(path)}
	f, err := os.Open(path)
	if err != nil {
		return st, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return st, fmt.Errorf("read %s: %w", path, err)
	}
	st.Bytes, st.SHA256 = n, hex.EncodeToString(h.Sum(nil))
	rdr, err := file.OpenParquetFile(path, false)
	if err != nil {
		return st, fmt.Errorf("read %s: %w", path, err)
	}
	st.Rows = rdr.NumRows()
	rdr.Close()
	return st, nil
}

// writeDropManifest writes drops/<id>/manifest.json (into the pending drop dir).
func writeDropManifest(dir string, rep *Report) error {
	for i := range rep.Tables {
		if rep.Tables[i].RejectFile != "" {
			rep.Tables[i].RejectFile = strings.Replace(rep.Tables[i].RejectFile, "DROPID", rep.DropID, 1)
		}
	}
	m := struct {
		SchemaVersion string        `json:"schema_version"`
		DropID        string        `json:"drop_id"`
		Drop          string        `json:"drop"` // base name of the drop directory
		Tables        []TableReport `json:"tables"`
		Missing       []string      `json:"missing"`
		Unknown       []string      `json:"unknown_files,omitempty"`
	}{datasets.SchemaVersion, rep.DropID, filepath.Base(rep.Drop), rep.Tables, rep.Missing, rep.Unknown}
	if m.Missing == nil {
		m.Missing = []string{}
	}
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	return warehouse.WriteFileSync(filepath.Join(dir, "manifest.json"), append(b, '\n'))
}

// crashPoint kills the process when POVRISK_TEST_CRASH_AT names the point
// (crash-safety tests; see also package warehouse).
func crashPoint(name string) {
	if os.Getenv("POVRISK_TEST_CRASH_AT") == name {
		syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {}
	}
}
