package ingest

import (
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"

	"github.com/povrisk/povrisk/engine/fault"
)

// ErrUnhealthy is wrapped by the error of an ingest that a table failed as
// a whole: a whole-file problem, too many rejected rows, or a required
// table left without rows.
var ErrUnhealthy = errors.New("table failed as a whole")

// reasonSentinels are the reasons a row is rejected, in the order they are
// tried when naming a reject's reason.
var reasonSentinels = []error{ErrType, ErrCode, ErrRange, ErrMissing, ErrDuplicate, ErrOrphan, ErrDate, ErrFieldCount, ErrQuote, ErrEncoding, ErrText, ErrPersonal}

// noteReject counts the reject's reason: its column and sentinel, never
// its value (reasons go into messages and manifests).
func (l *tableLoader) noteReject(e *RowError) {
	if l.reasons == nil {
		l.reasons = map[string]int64{}
	}
	why := "other"
	for _, s := range reasonSentinels {
		if errors.Is(e.Err, s) {
			why = s.Error()
			break
		}
	}
	if e.Column != "" {
		why = e.Column + ": " + why
	}
	l.reasons[why]++
}

// topReason is the most common reason with its count ("" for none); ties
// go to the reason first in sort order, so that it does not vary.
func topReason(reasons map[string]int64) string {
	keys := make([]string, 0, len(reasons))
	for k := range reasons {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	best := ""
	for _, k := range keys {
		if best == "" || reasons[k] > reasons[best] {
			best = k
		}
	}
	if best == "" {
		return ""
	}
	if reasons[best] == 1 {
		return best + " (1 row)"
	}
	return fmt.Sprintf("%s (%d rows)", best, reasons[best])
}

// Check is the whole-table health of the drop: it returns a fault.BadInput
// error (wrapping ErrUnhealthy) naming every table that failed as a whole,
// rejected more than maxShare of its rows (with the share and the most
// common reason), or, for households and persons, accepted no row. Run
// calls it before committing anything; callers of a validation may call
// it themselves (maxShare 0 means DefaultMaxRejectShare).
func (r *Report) Check(maxShare float64) error {
	if maxShare == 0 {
		maxShare = DefaultMaxRejectShare
	}
	var bad []string
	for _, t := range r.Tables {
		switch {
		case t.Table == "" || t.Error == notLoaded:
			// not loaded because households or persons failed
		case t.Error != "":
			bad = append(bad, fmt.Sprintf("table %s not loaded: %s", t.Table, t.Error))
		case t.Read > 0 && float64(t.Rejected) > maxShare*float64(t.Read):
			bad = append(bad, fmt.Sprintf("table %s rejected %d of %d rows (%.1f%%, more than %.1f%%), most often %s",
				t.Table, t.Rejected, t.Read, 100*float64(t.Rejected)/float64(t.Read), 100*maxShare, t.TopReason))
		case (t.Table == "households" || t.Table == "persons") && t.Accepted == 0:
			bad = append(bad, fmt.Sprintf("table %s has no row (%s holds a header only?)", t.Table, t.File))
		}
	}
	if len(bad) == 0 {
		return nil
	}
	return fault.Wrap(fault.BadInput, fmt.Errorf("%w: %s; nothing of this drop is ingested: fix the drop (povrisk validate lists the rejected rows) and ingest it again",
		ErrUnhealthy, strings.Join(bad, "; ")))
}

// markedErr keeps the first write failure of a table's files.
type markedErr struct {
	mu  sync.Mutex
	err error
}

func (m *markedErr) set(err error) {
	m.mu.Lock()
	if m.err == nil {
		m.err = err
	}
	m.mu.Unlock()
}

func (m *markedErr) get() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.err
}

// markWriter marks the failures of a file the ingest writes as fault.Write
// and remembers the first: a Parquet encoder may not keep the error chain.
type markWriter struct {
	w     io.Writer
	first *markedErr
}

func (m *markWriter) Write(p []byte) (int, error) {
	n, err := m.w.Write(p)
	if err != nil {
		err = fault.Wrap(fault.Write, fmt.Errorf("write warehouse file: %w", err))
		m.first.set(err)
	}
	return n, err
}
