package feedback

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/povrisk/povrisk/engine/fault"
	"github.com/povrisk/povrisk/engine/ingest"
	"github.com/povrisk/povrisk/engine/progress"
	"github.com/povrisk/povrisk/engine/warehouse"
)

// Options configure Import. Warehouse and Files are required.
type Options struct {
	Warehouse string
	// Runs is the runs directory holding the run directories the work
	// lists name ("" is "runs").
	Runs  string
	Files []string
	// Rejects is the path of the reject file; "" writes it to
	// W/drops/<import id>/rejects.csv.
	Rejects string
	// MaxRejectShare is the largest share of the non-blank rows that may
	// be rejected (0: ingest.DefaultMaxRejectShare; 1 allows any). Above
	// it the import fails (fault.BadInput) and commits nothing; below it
	// the accepted rows are stored and the rejects reported.
	MaxRejectShare float64
	// Wait is how long to wait for a warehouse locked by another writer.
	Wait time.Duration
	// Today is the last visit date accepted (nil: today at UTC+14, the
	// latest date on Earth, as ingest takes the export date).
	Today func() time.Time
	// Reporter is told of each file read.
	Reporter progress.Reporter
	// WrapWriter, for tests, wraps the writer of every file written into
	// the warehouse (see warehouse.Options.WrapWriter).
	WrapWriter func(path string, w io.Writer) io.Writer
}

// Counts are the rows of a file's sheet, a file, or the whole import:
// Read = Accepted + Rejected + Blank.
type Counts struct {
	Read     int64 `json:"read"`
	Accepted int64 `json:"accepted"`
	Rejected int64 `json:"rejected"`
	Blank    int64 `json:"blank"`
}

func (c *Counts) add(o Counts) {
	c.Read += o.Read
	c.Accepted += o.Accepted
	c.Rejected += o.Rejected
	c.Blank += o.Blank
}

// SheetReport is one sheet of a work list (Sheet is "" for a CSV file).
type SheetReport struct {
	File  string `json:"file"` // base name
	Sheet string `json:"sheet"`
	Counts
}

// FileReport is one input file.
type FileReport struct {
	File   string        `json:"file"`   // base name
	Format string        `json:"format"` // xlsx or csv
	AsOf   string        `json:"as_of,omitempty"`
	County string        `json:"county_code,omitempty"`
	Sheets []SheetReport `json:"sheets"`
	Counts
}

// Report is the outcome of an import. Notes are never in it.
type Report struct {
	ImportID string       `json:"import_id"`
	Files    []FileReport `json:"files"`
	Counts
	// Replaced counts the accepted rows whose key was already stored:
	// the earlier row is replaced (and kept in its import's history).
	Replaced int64 `json:"replaced"`
	// RejectFile is the reject file's path ("" when nothing was rejected).
	RejectFile string `json:"reject_file"`
	// WarehouseVersion is the version now current ("" when the import
	// failed before one was read).
	WarehouseVersion string `json:"warehouse_version"`
	// Unchanged: the same files were imported before (same checksums),
	// or no row was accepted; nothing was written to the warehouse.
	Unchanged bool `json:"unchanged"`
}

// Errors of an import, wrapped with their fault kind.
var (
	// ErrNotWorkList: an .xlsx file without the work list's _povrisk sheet
	// or without a sheet holding the header.
	ErrNotWorkList = errors.New("not a povrisk work list")
	// ErrNoRun: the run directory a work list names is missing.
	ErrNoRun = errors.New("run directory missing")
	// ErrTooManyRejects: more than MaxRejectShare of the rows were rejected.
	ErrTooManyRejects = errors.New("too many rejected rows")
)

// Import reads the files, checks their rows, writes the reject file, and
// stores the accepted rows in a new warehouse version. The report holds
// every count even when the import fails.
func Import(ctx context.Context, o Options) (*Report, error) {
	rep := &Report{Files: []FileReport{}}
	share, err := o.share()
	if err != nil {
		return rep, err
	}
	if o.Warehouse == "" || len(o.Files) == 0 {
		return rep, fault.Wrap(fault.Usage, errors.New("feedback: a warehouse and at least one file are needed"))
	}
	task := progress.Or(o.Reporter).Start("feedback", int64(len(o.Files)))
	var inputs []*input
	for _, path := range o.Files {
		in, err := readInput(path)
		if err != nil {
			task.Done()
			return rep, err
		}
		inputs = append(inputs, in)
		task.Add(1)
	}
	task.Done()
	if err := ctx.Err(); err != nil {
		return rep, err
	}
	rep.ImportID = importID(inputs)
	pend, err := warehouse.Begin(o.Warehouse, warehouse.Options{Command: "povrisk feedback", Wait: o.Wait, WrapWriter: o.WrapWriter})
	if err != nil {
		return rep, err
	}
	defer pend.Abort()
	prev := pend.Previous()
	if prev == nil {
		return rep, fault.Wrap(fault.BadInput, fmt.Errorf("warehouse %s has no version yet: ingest a drop (povrisk ingest) before importing visit outcomes", o.Warehouse))
	}
	rep.WarehouseVersion = prev.Version
	c, err := newChecker(ctx, o, pend)
	if err != nil {
		return rep, err
	}
	for _, in := range inputs {
		if err := c.checkInput(in); err != nil {
			return rep, err
		}
	}
	c.fill(rep)
	if err := c.writeRejects(o, pend, rep, share); err != nil {
		return rep, err
	}
	if rej, n := rep.Rejected, rep.Accepted+rep.Rejected; n > 0 && float64(rej) > share*float64(n) {
		return rep, fault.Wrap(fault.BadInput, fmt.Errorf("%w: %d of %d rows with an outcome (%.1f%%, more than %.1f%%); nothing was stored: see the reject file %s, mend the files and import them again",
			ErrTooManyRejects, rej, n, 100*float64(rej)/float64(n), 100*share, rep.RejectFile))
	}
	if prev.HasDrop(rep.ImportID) || rep.Accepted == 0 {
		rep.Unchanged = true
		return rep, nil
	}
	v, replaced, err := store(ctx, o, pend, rep, c.accepted)
	if err != nil {
		return rep, err
	}
	rep.WarehouseVersion, rep.Replaced = v, replaced
	return rep, nil
}

func (o Options) share() (float64, error) {
	s := o.MaxRejectShare
	switch {
	case s == 0:
		return ingest.DefaultMaxRejectShare, nil
	case s < 0 || s > 1 || s != s:
		return 0, fault.Wrap(fault.Usage, fmt.Errorf("max reject share %v: want a share between 0 and 1, e.g. 0.05", s))
	}
	return s, nil
}

func (o Options) runs() string {
	if o.Runs == "" {
		return "runs"
	}
	return o.Runs
}

// today is the last visit date accepted, as days since 1970-01-01.
func (o Options) today() int32 {
	t := time.Now().In(time.FixedZone("UTC+14", 14*3600))
	if o.Today != nil {
		t = o.Today()
	}
	return days(t.Year(), int(t.Month()), t.Day())
}

// importID is derived from the files' names and checksums: importing the
// same files again changes nothing.
func importID(inputs []*input) string {
	h := sha256.New()
	for _, in := range inputs {
		fmt.Fprintf(h, "%s %s\n", filepath.Base(in.path), in.sha)
	}
	return "feedback-" + hex.EncodeToString(h.Sum(nil))[:16]
}

// fileSize refuses files beyond maxFileBytes before reading them whole.
func fileSize(path string) (int64, error) {
	st, err := os.Stat(path)
	if err != nil {
		return 0, fault.Input(fmt.Errorf("read %s: %w", path, err))
	}
	if !st.Mode().IsRegular() {
		return 0, fault.Wrap(fault.BadInput, fmt.Errorf("%s is not a regular file", path))
	}
	if st.Size() > maxFileBytes {
		return 0, fault.Wrap(fault.BadInput, fmt.Errorf("%s: %d bytes, more than the %d MB a work list or visit file may have", path, st.Size(), maxFileBytes>>20))
	}
	return st.Size(), nil
}

// maxFileBytes is the largest input file read (a county's work list is
// well under a megabyte; a CSV of a province's visits a few).
const maxFileBytes = 256 << 20
