package run

import (
	"errors"
	"maps"
	"os"
	"path/filepath"

	"github.com/povrisk/povrisk/engine/audit"
	"github.com/povrisk/povrisk/engine/fault"
	"github.com/povrisk/povrisk/engine/lock"
	"github.com/povrisk/povrisk/engine/rundir"
)

// runsLock is the runs directory's lock, held for the whole night.
type runsLock struct {
	l *lock.Lock
	// seen is, when the run had to wait, the number of lines of the
	// audit log when the wait began: records after it are the holder's.
	seen   int
	waited bool
}

// lockRuns takes the runs directory's lock (engine/lock): at once, or
// after waiting up to o.Wait for another writer.
func lockRuns(cfg *config) (*runsLock, error) {
	if err := cfg.perms.Mkdir(cfg.Runs); err != nil {
		return nil, err
	}
	lo := lock.Options{Command: cfg.Command, Now: cfg.Now}
	if lo.Command == "" {
		lo.Command = "povrisk run"
	}
	l, err := lock.Acquire(cfg.Runs, lo)
	if err == nil {
		return &runsLock{l: l}, nil
	}
	if !fault.Is(err, fault.Busy) || cfg.Wait <= 0 {
		return nil, err
	}
	lines, err := audit.Read(cfg.Runs)
	if err != nil {
		return nil, err
	}
	rl := &runsLock{seen: len(lines), waited: true}
	lo.Wait = cfg.Wait
	if rl.l, err = lock.Acquire(cfg.Runs, lo); err != nil {
		return nil, err
	}
	return rl, nil
}

func (rl *runsLock) release() { rl.l.Release() }

// doneByOther reports whether the writer this run waited for wrote this
// very night: an audit record appended during the wait names this as-of
// date, this model and policy, and the directory verifies and matches the
// record's outputs. Then the night is not written twice, and its result is
// read from the directory. A run that did not wait, or finds no such
// record, writes the night.
func (rl *runsLock) doneByOther(in *inputs) (*Result, bool, error) {
	if !rl.waited {
		return nil, false, nil
	}
	lines, err := audit.Read(in.cfg.Runs)
	if err != nil {
		return nil, false, err
	}
	var rec *audit.Record
	for i := min(rl.seen, len(lines)); i < len(lines); i++ {
		r := &lines[i].Record
		if lines[i].Err == nil && r.Run == in.day && r.Model == in.card.ID && r.PolicySHA256 == in.cfg.policySum {
			rec = r
		}
	}
	if rec == nil {
		return nil, false, nil
	}
	dir := filepath.Join(in.cfg.Runs, in.day)
	r, err := rundir.Read(dir)
	if err != nil {
		if rundir.IsIncomplete(err) || errors.Is(err, os.ErrNotExist) {
			return nil, false, nil
		}
		return nil, false, err
	}
	s := r.Summary
	if !maps.Equal(r.Sums, rec.Outputs) {
		return nil, false, nil
	}
	res := &Result{Dir: dir, AuditSeq: rec.Seq, AsOf: s.AsOf, PreviousRun: s.PreviousRun, ModelID: s.Model.ID,
		Model:  ModelUsed{ID: s.Model.ID, Created: s.Model.Created, AsOf: s.Model.TrainedOn},
		Counts: s.Counts, Warnings: s.Warnings, AlreadyDone: true, Ingest: in.ingested}
	if res.Warnings == nil {
		res.Warnings = []rundir.Warning{}
	}
	if s.PreviousRun != "" {
		res.PreviousMonths = monthsFrom(s.PreviousRun, in.asOf)
	}
	return res, true, nil
}
