package datasets

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"time"

	"github.com/povrisk/povrisk/engine/atomicfile"
	"github.com/povrisk/povrisk/engine/civil"
	"github.com/povrisk/povrisk/engine/fault"
	"github.com/povrisk/povrisk/engine/progress"
)

// GenerateOptions configure Generate. The zero value of every field means
// something sensible (see each field).
type GenerateOptions struct {
	Households int // default 20000
	// Counties is the number of counties (default DefaultCounties: six
	// real counties of Guizhou and Yunnan, six townships each). More add
	// simulated counties of 3 to 12 townships; households are spread
	// evenly over villages, so a county's size follows its townships.
	// Fewer keep the first real ones.
	Counties int
	Months   int       // default 24; at least 7 (the truth covers the last 7 month-ends)
	Start    time.Time // first month (its day is ignored); default 2024-01-01
	Seed     uint64
	Out      string    // drop directory (created)
	Truth    string    // ground-truth CSV; default Out + ".truth.csv" (outside the drop)
	Relapse  string    // relapse truth CSV; default Out + ".relapse.csv" (outside the drop)
	Dirty    float64   // share of extra bad rows per table, of every kind (0 = clean); sidecar Out + ".defects.csv"
	Encoding string    // "" or "utf-8" (UTF-8), or "gb18030": households and persons in GB18030, income_records UTF-8 with BOM
	Format   string    // "csv" (default), "csv.gz", "parquet"
	Progress io.Writer // a "\rgenerate: done/total households" line, rewritten in place; nil = quiet
	// Reporter is told of the stage "generate" (total: the households) and
	// of every chunk of households written; nil shows nothing.
	Reporter progress.Reporter
	// Workers simulating households in parallel (0: up to 2). The output
	// does not depend on it.
	Workers int
}

// TableReport is what Generate wrote for one table.
type TableReport struct {
	Name    string
	Path    string
	Rows    int64 // data rows, defective ones included
	Defects int64 // defective rows injected
}

// GenerateReport summarises a generated drop.
type GenerateReport struct {
	Households int
	Start, End time.Time // first day of the first month, last day of the last month
	Tables     []TableReport
	// Identified counts the monitoring identifications inside the simulated months.
	Identified int
	Truth      string // ground-truth CSV
	Relapse    string // relapse truth CSV: household_id,eliminated_date,p_relapse_12m
	// Eliminated counts the eliminations inside the simulated months.
	Eliminated int
	Defects    string   // defects sidecar ("" for a clean drop)
	AsOf       []string // the as-of dates of the truth, YYYY-MM-DD
}

// Generate writes a simulated drop following DATA-STANDARD v1 to o.Out, the
// ground truth to o.Truth and, for a dirty drop, the defects sidecar. The
// same options give byte-identical files.
func Generate(ctx context.Context, o GenerateOptions) (*GenerateReport, error) {
	if err := o.defaults(); err != nil {
		return nil, err
	}
	cal := startOf(o.Start)
	cal.months = o.Months
	w := newWorld(o.Seed, cal, o.Counties)
	d, err := openDrop(o, cal)
	if err != nil {
		return nil, err
	}
	defer d.truth.cleanup()
	rep := &GenerateReport{Households: o.Households, Truth: o.Truth, Relapse: o.Relapse}
	task := progress.Or(o.Reporter).Start("generate", int64(o.Households))
	res, err := regionDisasters(o, w)
	if err == nil {
		err = d.write(res)
	}
	if err == nil {
		err = runChunks(ctx, o, w, func(res *chunkResult) error {
			if err := d.write(res); err != nil {
				return err
			}
			rep.Identified += res.identified
			rep.Eliminated += len(res.relapse)
			d.relapse = appendRelapse(d.relapse, res)
			if err := d.truth.write(res); err != nil {
				return err
			}
			o.progress(res.hi)
			task.Add(int64(res.hi - res.lo))
			return nil
		})
	}
	task.Done()
	if err != nil {
		d.abort()
		return nil, err
	}
	if o.Progress != nil {
		fmt.Fprintln(o.Progress)
	}
	if err := d.close(o, rep); err != nil {
		return nil, err
	}
	rep.Start, rep.End = cal.first(0).time(), cal.last(cal.months-1).time()
	return rep, nil
}

// drop is a drop being written: a writer per table, the truth, and the
// rows and defects written so far per table.
type drop struct {
	writers []tableWriter
	truth   *truthWriter
	written []int64
	defects [][]defectLine
	relapse []byte // the relapse truth's rows so far
}

// openDrop creates the drop directory, removes the table files of any
// format left by an earlier run (so that the drop holds exactly one file
// per table), and opens the table writers and the truth.
func openDrop(o GenerateOptions, cal calendar) (*drop, error) {
	if err := os.MkdirAll(o.Out, 0o755); err != nil {
		return nil, fmt.Errorf("create drop directory: %w", err)
	}
	for _, t := range standard[:nTables] {
		for _, ext := range []string{".csv", ".csv.gz", ".parquet"} {
			p := filepath.Join(o.Out, t.Name+ext)
			if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
				return nil, fmt.Errorf("remove old %s: %w", p, err)
			}
		}
	}
	d := &drop{writers: make([]tableWriter, nTables), written: make([]int64, nTables), defects: make([][]defectLine, nTables)}
	for i, t := range standard[:nTables] {
		tw, err := newTableWriter(o, t, i)
		if err != nil {
			d.abort()
			return nil, err
		}
		d.writers[i] = tw
	}
	tw, err := newTruthWriter(o.Truth, cal)
	if err != nil {
		d.abort()
		return nil, err
	}
	d.truth = tw
	return d, nil
}

// abort closes and removes the table files written so far.
func (d *drop) abort() {
	for _, tw := range d.writers {
		if tw != nil {
			tw.abort()
		}
	}
}

// regionDisasters are the rows of the world that come first: the regions
// table (without defects) and the region-level disaster rows, which come
// first in the disasters file (with their defects, drawn as household -1's).
func regionDisasters(o GenerateOptions, w *world) (*chunkResult, error) {
	bufs := newBufs()
	dt := newDirtier(o.Dirty, o.Seed, w.cal, bufs)
	dt.begin(-1)
	w.regionRows(bufs[tRegions])
	db := bufs[tDisasters]
	for i := range w.disasters {
		e := &w.disasters[i]
		db.s(e.id).s(e.prefix).null().date(e.start).s(e.kind).int(e.severity).null()
		dt.maybe(tDisasters)
	}
	res := &chunkResult{bufs: bufs}
	return res, encodeChunk(o, res)
}

// close finishes every table file, the truth and the defects sidecar, and
// fills the report's tables, as-of dates and sidecar path.
func (d *drop) close(o GenerateOptions, rep *GenerateReport) error {
	for i, t := range standard[:nTables] {
		if err := d.writers[i].close(); err != nil {
			d.abort()
			return fmt.Errorf("write %s: %w", t.Name, err)
		}
		rep.Tables = append(rep.Tables, TableReport{Name: t.Name, Path: d.writers[i].path(), Rows: d.written[i], Defects: int64(len(d.defects[i]))})
	}
	if err := d.truth.finish(); err != nil {
		return err
	}
	if err := atomicfile.Write(o.Relapse, 0o644, func(w io.Writer) error {
		if _, err := io.WriteString(w, "household_id,eliminated_date,p_relapse_12m\n"); err != nil {
			return err
		}
		_, err := w.Write(d.relapse)
		return err
	}); err != nil {
		return fmt.Errorf("write the relapse truth: %w", err)
	}
	rep.AsOf = d.truth.asOf
	if o.Dirty > 0 {
		p := o.Out + ".defects.csv"
		if err := writeDefects(p, d.defects); err != nil {
			return err
		}
		rep.Defects = p
	}
	return nil
}

// ErrOptions matches (errors.Is) every error about invalid GenerateOptions.
// Such errors are also marked fault.Usage. It is a constant, so that no
// caller can replace it.
const ErrOptions sentinel = "invalid generate options"

// sentinel is an error value that can be a constant.
type sentinel string

func (e sentinel) Error() string { return string(e) }

type optionError string

func (e optionError) Error() string        { return string(e) }
func (e optionError) Is(target error) bool { return target == ErrOptions }

func (o *GenerateOptions) defaults() error {
	if o.Households == 0 {
		o.Households = 20000
	}
	if o.Months == 0 {
		o.Months = 24
	}
	if o.Start.IsZero() {
		o.Start = civil.Date(2024, time.January, 1)
	}
	if o.Format == "" {
		o.Format = "csv"
	}
	if o.Truth == "" {
		o.Truth = o.Out + ".truth.csv"
	}
	if o.Relapse == "" {
		o.Relapse = o.Out + ".relapse.csv"
	}
	bad := func(format string, a ...any) error {
		return fault.Wrap(fault.Usage, optionError(fmt.Sprintf(format, a...)))
	}
	switch {
	case o.Out == "":
		return bad("generate: no output directory: set Out (--out)")
	case o.Counties < 0 || o.Counties > MaxCounties:
		return bad("generate: counties %d out of range 1..%d", o.Counties, MaxCounties)
	case o.Households < 0 || o.Households > 99_999_999:
		return bad("generate: households %d out of range 1..99999999", o.Households)
	case o.Months < 7 || o.Months > 600:
		return bad("generate: months %d out of range 7..600 (the truth covers the last 7 month-ends)", o.Months)
	case o.Dirty < 0 || o.Dirty >= 1:
		return bad("generate: dirty rate %g out of range [0, 1)", o.Dirty)
	case o.Format != "csv" && o.Format != "csv.gz" && o.Format != "parquet":
		return bad("generate: unknown format %q: use csv, csv.gz or parquet", o.Format)
	case o.Encoding != "" && o.Encoding != "utf-8" && o.Encoding != "gb18030":
		return bad("generate: unknown encoding %q: use utf-8 or gb18030", o.Encoding)
	case o.Format == "parquet" && o.Dirty > 0:
		return bad("generate: dirty drops are CSV only (Parquet columns are typed): use --format csv or csv.gz")
	case o.Format == "parquet" && o.Encoding == "gb18030":
		return bad("generate: the gb18030 encoding applies to CSV only: use --format csv or csv.gz")
	}
	if o.Workers <= 0 {
		o.Workers = min(2, runtime.GOMAXPROCS(0))
	}
	return nil
}

func (o *GenerateOptions) progress(done int) {
	if o.Progress == nil {
		return
	}
	fmt.Fprintf(o.Progress, "\rgenerate: %d/%d households (%d%%)", done, o.Households, done*100/o.Households)
}

func newBufs() []*tableBuf {
	bufs := make([]*tableBuf, nTables)
	for i, t := range standard[:nTables] {
		bufs[i] = &tableBuf{ncol: len(fileColumns(t))}
	}
	return bufs
}

// chunkResult holds the rows of households [lo, hi).
type chunkResult struct {
	lo, hi     int
	bufs       []*tableBuf
	csv        [][]byte    // per table, encoded CSV rows (CSV formats)
	truth      [][]float64 // per as-of, per household
	relapse    []relapseTruth
	identified int
}

const chunkSize = 256

// runChunks simulates households in chunks on o.Workers goroutines and
// hands the chunks to emit in household order.
func runChunks(ctx context.Context, o GenerateOptions, w *world, emit func(*chunkResult) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	n := (o.Households + chunkSize - 1) / chunkSize
	jobs := make(chan int)
	results := make(chan *chunkResult, o.Workers)
	tokens := make(chan struct{}, 2*o.Workers+2) // bounds the chunks in memory
	errc := make(chan error, o.Workers+1)
	go func() {
		defer close(jobs)
		for i := 0; i < n; i++ {
			select {
			case tokens <- struct{}{}:
			case <-ctx.Done():
				return
			}
			select {
			case jobs <- i:
			case <-ctx.Done():
				return
			}
		}
	}()
	done := make(chan struct{})
	for k := 0; k < o.Workers; k++ {
		go func() {
			defer func() { done <- struct{}{} }()
			s := &sim{w: w, o: &o, stats: &simStats{}}
			s.pcg = rand.NewPCG(0, 0)
			s.r = rand.New(s.pcg)
			for i := range jobs {
				res := &chunkResult{lo: i * chunkSize, hi: min(o.Households, (i+1)*chunkSize)}
				res.bufs = newBufs()
				s.bufs = res.bufs
				s.truth = make([][]float64, 7)
				s.relapse = nil
				s.dirty = newDirtier(o.Dirty, o.Seed, w.cal, res.bufs)
				s.stats.Identified = 0
				for idx := res.lo; idx < res.hi; idx++ {
					s.dirty.begin(idx)
					s.household(idx)
				}
				res.truth = s.truth
				res.relapse = s.relapse
				res.identified = s.stats.Identified
				if err := encodeChunk(o, res); err != nil {
					errc <- err
					cancel()
					return
				}
				select {
				case results <- res:
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	go func() {
		for k := 0; k < o.Workers; k++ {
			<-done
		}
		close(results)
	}()
	pending := map[int]*chunkResult{}
	next := 0
	for res := range results {
		pending[res.lo/chunkSize] = res
		for {
			r, ok := pending[next]
			if !ok {
				break
			}
			delete(pending, next)
			if err := emit(r); err != nil {
				cancel()
				for range results {
				}
				return err
			}
			next++
			<-tokens
		}
	}
	select {
	case err := <-errc:
		return err
	default:
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("generate: %w", err)
	}
	if next != n {
		return fmt.Errorf("generate: stopped after %d of %d chunks", next, n)
	}
	return nil
}

// defectLine is a defect located in its file.
type defectLine struct {
	line      int64
	col, kind string
}

// write appends a chunk's rows to the table files (CSV encoded on the
// worker, see encodeChunk) and locates its defects: line 1 is the header,
// so data row r (from 0) is line r+2.
func (d *drop) write(res *chunkResult) error {
	for i, b := range res.bufs {
		for _, df := range b.defects {
			d.defects[i] = append(d.defects[i], defectLine{line: d.written[i] + int64(df.row) + 2, col: df.col, kind: df.kind})
		}
		if err := d.writers[i].write(res, i); err != nil {
			return fmt.Errorf("write %s: %w", standard[i].Name, err)
		}
		d.written[i] += int64(b.rows())
	}
	return nil
}

// writeDefects writes the sidecar: table,line,column,kind in table order
// then line order.
func writeDefects(path string, defects [][]defectLine) error {
	return atomicfile.Write(path, 0o644, func(w io.Writer) error {
		bw := bufio.NewWriter(w)
		bw.WriteString("table,line,column,kind\n")
		for i, ds := range defects {
			sort.SliceStable(ds, func(a, b int) bool { return ds[a].line < ds[b].line })
			for _, d := range ds {
				bw.WriteString(standard[i].Name)
				bw.WriteByte(',')
				bw.WriteString(strconv.FormatInt(d.line, 10))
				bw.WriteByte(',')
				bw.WriteString(d.col)
				bw.WriteByte(',')
				bw.WriteString(d.kind)
				bw.WriteByte('\n')
			}
		}
		return bw.Flush()
	})
}

// appendRelapse appends the relapse truth of a chunk's eliminations, in
// household then date order: household_id,eliminated_date,p_relapse_12m.
func appendRelapse(dst []byte, res *chunkResult) []byte {
	for _, e := range res.relapse {
		dst = append(dst, householdID(e.household)...)
		dst = append(dst, ',')
		dst = appendDate(dst, e.eliminated)
		dst = append(dst, ',')
		dst = strconv.AppendFloat(dst, e.p, 'f', 6, 64)
		dst = append(dst, '\n')
	}
	return dst
}
