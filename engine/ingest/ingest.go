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
	"runtime/pprof"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/povrisk/povrisk/datasets"
	"github.com/povrisk/povrisk/engine/atomicfile"
	"github.com/povrisk/povrisk/engine/fault"
	"github.com/povrisk/povrisk/engine/progress"
	"github.com/povrisk/povrisk/engine/warehouse"
)

// Options configure Run. The zero value of every field but Drop (and
// Warehouse, unless ValidateOnly) means something sensible.
type Options struct {
	Drop, Warehouse string
	// Key is the HMAC-SHA-256 key for pseudonymised columns (see LoadKey);
	// a persons file with id_number is refused without one (unless ValidateOnly).
	// A warehouse built with another key refuses the drop (fault.BadInput).
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
	// MaxRejectShare is the largest share of a table's rows that may be
	// rejected (0: DefaultMaxRejectShare; 1 allows any; negative or above
	// 1 is a usage error). A table rejecting more, or a required table
	// with no row accepted, fails the ingest with nothing committed.
	MaxRejectShare float64
	// Wait is how long to wait for a warehouse locked by another writer;
	// 0 fails at once (fault.Busy, naming the holder).
	Wait time.Duration
	// Reporter is told of each table (rows read) and of the merge.
	Reporter progress.Reporter
	// Progress receives progress lines; nil is quiet. (Kept until the
	// command line shows Reporter's stages.)
	Progress io.Writer
	// Hooks are for tests; production code leaves them zero.
	Hooks Hooks
}

// DefaultMaxRejectShare is the share of rejected rows above which a table
// fails the ingest, when Options.MaxRejectShare is 0.
const DefaultMaxRejectShare = 0.05

// Hooks let tests stop or break an ingest at chosen places.
type Hooks struct {
	// CrashAt is called with the name of each step (CrashPoints); the
	// crash-safety tests kill the process there.
	CrashAt func(point string)
	// WrapWriter wraps the writer of every file the ingest writes into the
	// warehouse (table Parquet files as loaded, reject files, the drop's
	// manifest, the version's manifest.json and CURRENT); the full-disk
	// tests return writers that fail. Merged tables are written by DuckDB
	// and are not wrapped.
	WrapWriter func(path string, w io.Writer) io.Writer
}

// CrashPoints names the steps of an ingest at which Hooks.CrashAt is
// called, in order.
func CrashPoints() []string {
	return append([]string{"after-tables"}, warehouse.CommitPoints()...)
}

func (o Options) crash(point string) {
	if o.Hooks.CrashAt != nil {
		o.Hooks.CrashAt(point)
	}
}

// rejectShare is the effective MaxRejectShare.
func (o Options) rejectShare() (float64, error) {
	s := o.MaxRejectShare
	switch {
	case s == 0:
		return DefaultMaxRejectShare, nil
	case s < 0 || s > 1 || s != s:
		return 0, fault.Wrap(fault.Usage, fmt.Errorf("max reject share %v: want a share between 0 and 1, e.g. 0.05", s))
	}
	return s, nil
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
	// TopReason is the most common reason of the rejected rows, as
	// "column: reason" without any value ("" when none was rejected).
	TopReason string `json:"top_reason,omitempty"`
	// reasons counts the rejected rows per TopReason-like key.
	reasons map[string]int64
	// stored is the rows, size and SHA-256 of the table's new Parquet
	// file, hashed as written (nil when none was written).
	stored *warehouse.TableState
	// Seconds is the wall time spent loading the table (for logs and
	// benchmarks; never written to the warehouse).
	Seconds float64 `json:"-"`
	// Personal lists the extra columns found to hold personal data (table.go).
	Personal []PersonalColumn `json:"personal_columns,omitempty"`
}

// Report is the outcome of an ingest or validation.
type Report struct {
	DropID string        `json:"drop_id"`
	Drop   string        `json:"drop"`
	Tables []TableReport `json:"tables"`
	// Missing lists the v1 tables absent from the drop (the features that
	// need them are null); Optional the absent optional tables of a later
	// version of the standard (v1.1: regions, person_events,
	// visit_outcomes), which a v1 drop never has: their absence is
	// reported apart, never as a fault of the drop.
	Missing   []string `json:"missing"`
	Optional  []string `json:"absent_optional"`
	Unknown   []string `json:"unknown_files,omitempty"`
	Warehouse string   `json:"warehouse,omitempty"`
	Version   string   `json:"version,omitempty"` // the warehouse version now current
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

// checksum fills f.sha for every file, two at a time, the largest files
// first (so that the largest is not hashed alone at the end).
func checksum(ctx context.Context, files []*dropFile) error {
	errs := make([]error, len(files))
	size := make([]int64, len(files))
	order := make([]int, len(files))
	for i, f := range files {
		order[i] = i
		if st, err := os.Stat(f.path); err == nil {
			size[i] = st.Size()
		}
	}
	sort.SliceStable(order, func(a, b int) bool { return size[order[a]] > size[order[b]] })
	queue := make(chan int, len(files))
	for _, i := range order {
		queue <- i
	}
	close(queue)
	var wg sync.WaitGroup
	for range min(2, len(files)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range queue {
				if ctx.Err() != nil {
					errs[i] = ctx.Err()
					continue
				}
				errs[i] = hashFile(files[i])
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// hashFile sets f.sha to the SHA-256 of f's file.
func hashFile(f *dropFile) error {
	h := sha256.New()
	fh, err := os.Open(f.path)
	if err != nil {
		return fmt.Errorf("read %s: %w", f.path, err)
	}
	defer fh.Close()
	if _, err := io.Copy(h, fh); err != nil {
		return fmt.Errorf("read %s: %w", f.path, err)
	}
	f.sha = hex.EncodeToString(h.Sum(nil))
	return nil
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
// warehouse o.Warehouse. Row problems are rejected and counted. An ingest
// commits all or nothing: a table that fails as a whole (unreadable,
// empty, a required column missing), rejects more than MaxRejectShare of
// its rows, or a required table left empty fails the ingest with
// fault.BadInput (Report.Check); a failure to write the warehouse is
// fault.Write; in both cases nothing is committed and the drop is not
// marked merged, so that a rerun does the whole work. The report gives
// every count even then. A validation returns the report without the
// table-health error (call Report.Check).
func Run(ctx context.Context, db *sql.DB, o Options) (*Report, error) {
	rep := &Report{Drop: o.Drop}
	share, err := o.rejectShare()
	if err != nil {
		return rep, err
	}
	files, err := scanDrop(ctx, o, rep)
	if err != nil {
		return rep, err
	}
	if o.ValidateOnly {
		return rep, validate(ctx, o, rep, files)
	}
	return rep, ingest(ctx, db, o, share, rep, files)
}

// scanDrop lists the drop's files, refuses a drop without a required
// table, and checksums the files into the drop id.
func scanDrop(ctx context.Context, o Options, rep *Report) ([]*dropFile, error) {
	files, missing, unknown, err := findFiles(o.Drop)
	if err != nil {
		return nil, fault.Input(err)
	}
	rep.Unknown = unknown
	for _, m := range missing {
		if t, _ := datasets.Lookup(m); optionalTable(t) {
			rep.Optional = append(rep.Optional, m)
		} else {
			rep.Missing = append(rep.Missing, m)
		}
	}
	for _, m := range rep.Missing {
		if t, _ := datasets.Lookup(m); t.Required {
			return nil, fault.Wrap(fault.BadInput, fmt.Errorf("drop %s: %w: no %s.csv, %s.csv.gz or %s.parquet", o.Drop, ErrRequiredTable, m, m, m))
		}
	}
	if err := checksum(ctx, files); err != nil {
		return nil, fault.Input(err)
	}
	rep.DropID = dropID(files)
	return files, nil
}

// optionalTable: a table added by a later version of the standard than
// v1 (Table.Version "1.1"); every such table is optional.
func optionalTable(t datasets.Table) bool { return t.Version != "" && t.Version != "1" }

// validate checks the drop against the warehouse's current state, if any.
func validate(ctx context.Context, o Options, rep *Report, files []*dropFile) error {
	var prev *warehouse.Manifest
	var prevDir string
	if o.Warehouse != "" {
		w, err := warehouse.Open(o.Warehouse)
		if err == nil {
			prev, prevDir = w.Manifest(), w.Dir()
		} else if !errors.Is(err, warehouse.ErrNoVersion) {
			return err
		}
	}
	r, err := previousRefs(ctx, prev, prevDir)
	if err != nil {
		return err
	}
	if err := loadDrop(ctx, files, r, o, rep, "", ""); err != nil {
		return err
	}
	return ctx.Err()
}

// ingest merges the drop into a new version of the warehouse, under its lock.
func ingest(ctx context.Context, db *sql.DB, o Options, share float64, rep *Report, files []*dropFile) error {
	if o.Warehouse == "" {
		return fault.Wrap(fault.Usage, errors.New("ingest: no warehouse directory given"))
	}
	pend, err := warehouse.Begin(o.Warehouse, warehouse.Options{
		Command: "povrisk ingest", Wait: o.Wait, CrashAt: o.Hooks.CrashAt, WrapWriter: o.Hooks.WrapWriter})
	if err != nil {
		return err
	}
	defer pend.Abort()
	prev, prevDir := pend.Previous(), pend.PreviousDir()
	rep.Warehouse = o.Warehouse
	if err := warehouse.CheckKey(o.Warehouse, prev, o.Key); err != nil {
		return err
	}
	if prev != nil && prev.HasDrop(rep.DropID) {
		rep.Unchanged, rep.Version = true, prev.Version
		return nil
	}
	r, err := previousRefs(ctx, prev, prevDir)
	if err != nil {
		return err
	}
	outDir := filepath.Join(pend.Dir(), ".new")
	rejDir := filepath.Join(pend.DropDir(), "rejects")
	for _, d := range []string{outDir, rejDir} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return fault.Wrap(fault.Write, err)
		}
	}
	if err := loadDrop(ctx, files, r, o, rep, outDir, rejDir); err != nil {
		return err
	}
	if err := rep.Check(share); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	o.crash("after-tables")
	man, err := buildVersion(ctx, db, o, pend, rep, outDir)
	if err != nil {
		return err
	}
	if err := writeDropManifest(pend.DropDir(), rep, o.Hooks.WrapWriter); err != nil {
		return err
	}
	v, err := pend.Commit(man, rep.DropID)
	if err != nil {
		return err
	}
	rep.Version = v
	return nil
}

// previousRefs loads the keys of households and persons of the previous
// version (prev may be nil), against which this drop's references resolve.
func previousRefs(ctx context.Context, prev *warehouse.Manifest, prevDir string) (*refs, error) {
	r := &refs{households: newKeySet(), persons: newKeySet()}
	if prev == nil {
		return r, nil
	}
	for _, k := range []struct {
		table, col string
		set        *keySet
	}{{"households", "household_id", r.households}, {"persons", "person_id", r.persons}} {
		if t, ok := prev.Table(k.table); ok {
			if err := loadKeys(ctx, filepath.Join(prevDir, t.File), k.col, k.set); err != nil {
				return nil, fmt.Errorf("read previous %s keys: %w", k.table, err)
			}
		}
	}
	return r, nil
}

// notLoaded is the Error of a table not loaded because households or
// persons failed.
const notLoaded = "not loaded: a required table (households or persons) failed"

// loadDrop loads every table of the drop into rep.Tables (and, when
// outDir is set, their Parquet files and reject files). A failure to
// write is returned at once (fault.Write); so is the failure of households
// or persons (ErrRequiredTable, fault.BadInput), the other tables then
// counting as not loaded. Other table failures stay in their reports
// (Report.Check turns them into an error).
func loadDrop(ctx context.Context, files []*dropFile, r *refs, o Options, rep *Report, outDir, rejDir string) error {
	reports := make([]TableReport, len(files))
	ferrs := make([]error, len(files))
	rejBufs := make([]*tempBuffer, len(files))
	workers := o.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0) + 1
	}
	err := loadAll(ctx, files, workers, func(ctx context.Context, i int) {
		// The table's name labels its samples in a CPU profile.
		pprof.Do(ctx, pprof.Labels("table", files[i].table.Name), func(ctx context.Context) {
			reports[i], rejBufs[i], ferrs[i] = loadTable(ctx, files[i], r, o, outDir, rejDir)
		})
	}, func(i int) error {
		if fault.Of(ferrs[i]) == fault.Write {
			return ferrs[i]
		}
		if reports[i].Error != "" {
			return fault.Wrap(fault.BadInput, fmt.Errorf("%w: %s: %w", ErrRequiredTable, files[i].table.Name, ferrs[i]))
		}
		return nil
	})
	if err != nil {
		// households or persons failed: the other tables (and the other
		// of the two when the failure stopped it) count as not loaded, and
		// their reports say so by name (an empty report
		// printed as ": read 0 accepted 0").
		for i, f := range files {
			if fault.Of(err) == fault.Write {
				break // the disk failed, not a table: the reports stand as they are
			}
			if f.table.Name != "households" && f.table.Name != "persons" || reports[i].Table == "" {
				reports[i], rejBufs[i] = TableReport{Table: f.table.Name, File: filepath.Base(f.path), Format: f.format,
					Error: notLoaded}, nil
			}
		}
	}
	// Validation rejects go out in the order of the standard's tables,
	// whatever order the tables finished in.
	writeRejects(o.Rejects, files, rejBufs)
	rep.Tables = reports
	if err != nil {
		return err
	}
	for _, e := range ferrs {
		if fault.Of(e) == fault.Write {
			return e
		}
	}
	return nil
}

// buildVersion writes the new version's tables into pend.Dir(): each table
// of the drop merged with the previous version's, the others carried over
// (hard link). It returns the version's manifest (without its name).
func buildVersion(ctx context.Context, db *sql.DB, o Options, pend *warehouse.Pending, rep *Report, outDir string) (warehouse.Manifest, error) {
	prev, prevDir := pend.Previous(), pend.PreviousDir()
	man := warehouse.Manifest{SchemaVersion: datasets.SchemaVersion, KeyFingerprint: warehouse.KeyFingerprint(o.Key)}
	if prev != nil {
		man.Drops = append(man.Drops, prev.Drops...)
		if prev.KeyFingerprint != "" {
			man.KeyFingerprint = prev.KeyFingerprint
		}
	}
	man.Drops = append(man.Drops, rep.DropID)
	loaded := map[string]bool{}
	stored := map[string]*warehouse.TableState{}
	for _, tr := range rep.Tables {
		loaded[tr.Table] = tr.Error == ""
		stored[tr.Table] = tr.stored
	}
	tables := datasets.Tables()
	task := progress.Or(o.Reporter).Start("merge", int64(len(tables)))
	defer task.Done()
	for _, t := range tables {
		name := t.Name + ".parquet"
		dst := filepath.Join(pend.Dir(), name)
		var old string
		if prev != nil {
			if ts, ok := prev.Table(t.Name); ok {
				old = filepath.Join(prevDir, ts.File)
			}
		}
		newRows := filepath.Join(outDir, name)
		var err error
		ts := warehouse.TableState{Name: t.Name, File: dst}
		switch {
		case loaded[t.Name] && old == "":
			err = fault.Wrap(fault.Write, os.Rename(newRows, dst))
			if st := stored[t.Name]; st != nil {
				// the file as written, hashed on the way (tableStates skips it)
				ts.File, ts.Rows, ts.Bytes, ts.SHA256 = name, st.Rows, st.Bytes, st.SHA256
			}
		case loaded[t.Name]:
			err = merge(ctx, db, t, old, newRows, dst)
		case old != "":
			err = linkOrCopy(old, dst)
		default:
			task.Add(1)
			continue
		}
		if err != nil {
			return man, fmt.Errorf("write %s: %w", t.Name, err)
		}
		man.Tables = append(man.Tables, ts)
		task.Add(1)
	}
	if err := tableStates(man.Tables); err != nil {
		return man, err
	}
	os.RemoveAll(outDir)
	return man, nil
}

// tableStates fills the row counts and checksums of the stored tables
// (whose File holds the path), two at a time (they are read back whole);
// a table whose checksum is already known (hashed as written) is left
// as it is.
func tableStates(tables []warehouse.TableState) error {
	serrs := make([]error, len(tables))
	var swg sync.WaitGroup
	sem := make(chan struct{}, 2)
	for i := range tables {
		swg.Add(1)
		go func() {
			defer swg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			ts := &tables[i]
			if ts.SHA256 != "" {
				return
			}
			st, err := tableState(ts.File)
			st.Name = ts.Name
			*ts, serrs[i] = st, err
		}()
	}
	swg.Wait()
	return errors.Join(serrs...)
}

// tableRun is one table being loaded by loadTable.
type tableRun struct {
	f        *dropFile
	o        Options
	tr       TableReport
	l        *tableLoader
	rr       *rowReader
	fr       *pqarrow.FileReader
	closers  []func() error
	rejFile  *os.File
	tmpRej   *tempBuffer
	writeErr *markedErr // the first failure of a file written for this table
	task     progress.Task
	reported int64
	// size and consumed estimate a CSV table's rows for the progress
	// bar: rows so far scaled by the share of the file's bytes read.
	size     int64
	consumed func() int64
}

// loadTable loads one file; its errors end up in the report. A failure to
// write (the table's Parquet or reject file) is returned as fault.Write
// and is not a fault of the table. The reject rows of a validation
// (Options.Rejects) are returned, to be written in table order once every
// table is done.
func loadTable(ctx context.Context, f *dropFile, r *refs, o Options, outDir, rejDir string) (TableReport, *tempBuffer, error) {
	t := &tableRun{f: f, o: o, writeErr: &markedErr{},
		tr: TableReport{Table: f.table.Name, File: filepath.Base(f.path), Format: f.format, SHA256: f.sha}}
	t.task = progress.Or(o.Reporter).Start(f.table.Name, 0)
	defer t.task.Done()
	defer t.close()
	t0 := time.Now()
	if err := t.openSource(r); err != nil {
		return t.fail(err)
	}
	if err := t.openOutputs(outDir, rejDir); err != nil {
		t.l.abort()
		return t.fail(err)
	}
	var err error
	if t.fr != nil {
		err = t.l.loadParquet(ctx, t.fr)
	} else {
		err = t.l.loadCSV(ctx, t.rr)
	}
	if err != nil {
		t.l.abort()
		return t.fail(err)
	}
	if err := t.l.close(); err != nil {
		return t.fail(err)
	}
	t.tr.Read, t.tr.Accepted, t.tr.Rejected = t.l.read, t.l.accepted, t.l.rejected
	t.tr.Personal = t.l.personalColumns()
	t.tr.reasons = t.l.reasons
	t.tr.stored = t.l.stored()
	t.tr.TopReason = topReason(t.l.reasons)
	t.tr.Seconds = time.Since(t0).Seconds()
	t.task.Add(t.l.read - t.reported)
	if err := t.finishRejects(); err != nil {
		return t.fail(err)
	}
	if o.Progress != nil {
		fmt.Fprintf(o.Progress, "%s: %d read, %d accepted, %d rejected\n", f.table.Name, t.tr.Read, t.tr.Accepted, t.tr.Rejected)
	}
	return t.tr, t.tmpRej, nil
}

// fail records a whole-table failure, or returns a write failure as such.
func (t *tableRun) fail(err error) (TableReport, *tempBuffer, error) {
	if werr := t.writeErr.get(); werr != nil {
		err = werr
	}
	if fault.Of(err) == fault.Write {
		t.tr.Error = err.Error()
		return t.tr, nil, err
	}
	var fe *FileError
	if !errors.As(err, &fe) {
		err = &FileError{File: t.tr.File, Err: err}
	}
	t.tr.Error = err.Error()
	t.tr.Accepted, t.tr.Rejected, t.tr.RejectFile = 0, 0, ""
	return t.tr, nil, err
}

func (t *tableRun) close() {
	for i := len(t.closers) - 1; i >= 0; i-- {
		t.closers[i]()
	}
}

// openSource opens the drop file and makes the loader from its header.
func (t *tableRun) openSource(r *refs) error {
	var header []string
	if t.f.format == "parquet" {
		fr, prdr, names, err := openParquet(t.f.path)
		if err != nil {
			return fmt.Errorf("read parquet: %w", err)
		}
		t.closers = append(t.closers, prdr.Close)
		t.fr, header = fr, names
		progress.SetTotal(t.task, prdr.NumRows())
	} else {
		src, err := openCSV(t.f.path, t.o.Encoding)
		if err != nil {
			return err
		}
		t.closers = append(t.closers, src.Close)
		t.tr.Encoding = src.Encoding
		if st, err := src.f.Stat(); err == nil {
			t.size, t.consumed = st.Size(), src.consumed
		}
		t.rr = newRowReader(src.r)
		if err := t.rr.next(); err != nil {
			if err == io.EOF {
				return errors.New("empty file: no header row")
			}
			return fmt.Errorf("header: %w", err)
		}
		header = make([]string, t.rr.numFields())
		for i := range header {
			header[i] = string(t.rr.field(i))
		}
	}
	l, err := newTableLoader(t.f.table, t.tr.File, header, r, t.o.Key, t.o.ValidateOnly)
	if err != nil {
		return err
	}
	t.l = l
	t.tr.Extra = l.extra
	l.progress = t.progress
	l.wrapOut = t.wrap
	return nil
}

// progress reports the rows read so far (after each batch).
func (t *tableRun) progress(n int64) {
	t.task.Add(n - t.reported)
	t.reported = n
	if t.consumed != nil && t.size > 0 {
		if c := t.consumed(); c > 0 {
			progress.SetTotal(t.task, max(n, int64(float64(n)*float64(t.size)/float64(c))))
		}
	}
	if t.o.Progress != nil && n%(1<<20) < batchRows {
		fmt.Fprintf(t.o.Progress, "%s: %d rows read\n", t.f.table.Name, n)
	}
}

// wrap is the writer of a file written for this table: through
// Hooks.WrapWriter, marking its failures as fault.Write.
func (t *tableRun) wrap(path string, w io.Writer) io.Writer {
	if t.o.Hooks.WrapWriter != nil {
		w = t.o.Hooks.WrapWriter(path, w)
	}
	return &markWriter{w: w, first: t.writeErr}
}

// openOutputs opens the reject file (or buffer) and the Parquet output.
func (t *tableRun) openOutputs(outDir, rejDir string) error {
	var rejW io.Writer
	if rejDir != "" {
		path := filepath.Join(rejDir, t.f.table.Name+".csv")
		f, err := os.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
		if err != nil {
			return fault.Wrap(fault.Write, err)
		}
		t.rejFile = f
		t.closers = append(t.closers, f.Close)
		rejW = t.wrap(path, f)
	} else if t.o.Rejects != nil {
		t.tmpRej = &tempBuffer{}
		rejW = t.tmpRej
	}
	out := ""
	if outDir != "" {
		out = filepath.Join(outDir, t.f.table.Name+".parquet")
	}
	return t.l.open(out, rejW)
}

// finishRejects syncs the reject file, or removes it when nothing was rejected.
func (t *tableRun) finishRejects() error {
	if t.rejFile != nil {
		if t.l.rejected == 0 {
			t.rejFile.Close()
			os.Remove(t.rejFile.Name())
		} else {
			if err := t.rejFile.Sync(); err != nil {
				return fault.Wrap(fault.Write, err)
			}
			t.tr.RejectFile = filepath.Join("drops", "DROPID", "rejects", t.f.table.Name+".csv")
		}
	}
	if t.l.rejected == 0 {
		t.tmpRej = nil
	}
	return nil
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
		return fault.Wrap(fault.Write, err)
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return fault.Wrap(fault.Write, err)
	}
	if err := out.Close(); err != nil {
		return fault.Wrap(fault.Write, err)
	}
	return nil
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
func writeDropManifest(dir string, rep *Report, wrap func(string, io.Writer) io.Writer) error {
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
		Optional      []string      `json:"absent_optional"`
		Unknown       []string      `json:"unknown_files,omitempty"`
	}{datasets.SchemaVersion, rep.DropID, filepath.Base(rep.Drop), rep.Tables, rep.Missing, rep.Optional, rep.Unknown}
	if m.Missing == nil {
		m.Missing = []string{}
	}
	if m.Optional == nil {
		m.Optional = []string{}
	}
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	path := filepath.Join(dir, "manifest.json")
	return atomicfile.Write(path, 0o600, func(w io.Writer) error {
		if wrap != nil {
			w = wrap(path, w)
		}
		_, err := w.Write(append(b, '\n'))
		return err
	})
}
