package run

import (
	"errors"
	"os"
	"path/filepath"

	"github.com/povrisk/povrisk/engine/fault"
	"github.com/povrisk/povrisk/engine/lock"
	"github.com/povrisk/povrisk/engine/rundir"
)

// runsLock is the runs directory's lock, held for the whole night.
type runsLock struct {
	l *lock.Lock
	// before holds, when the run had to wait, the checksums.sha256 of
	// every run directory as it was when the wait began.
	before map[string]string
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
	rl := &runsLock{before: sealedRuns(cfg.Runs), waited: true}
	lo.Wait = cfg.Wait
	if rl.l, err = lock.Acquire(cfg.Runs, lo); err != nil {
		return nil, err
	}
	return rl, nil
}

func (rl *runsLock) release() { rl.l.Release() }

// sealedRuns maps every run directory of runs to the SHA-256 of its
// checksums.sha256 ("" when it has none).
func sealedRuns(runs string) map[string]string {
	out := map[string]string{}
	ents, _ := os.ReadDir(runs)
	for _, e := range ents {
		if !e.IsDir() {
			continue
		}
		h, _ := rundir.HashFile(filepath.Join(runs, e.Name(), rundir.ChecksumsFile))
		out[e.Name()] = h
	}
	return out
}

// doneByOther reports whether the writer this run waited for wrote this
// very night (same model and policy) and it verifies: then the night is
// not written twice, and its result is read from the directory. A run
// that did not wait, or finds the night unchanged, incomplete or made with
// another model or policy, writes it.
func (rl *runsLock) doneByOther(in *inputs) (*Result, bool, error) {
	if !rl.waited {
		return nil, false, nil
	}
	dir := filepath.Join(in.cfg.Runs, in.day)
	now, err := rundir.HashFile(filepath.Join(dir, rundir.ChecksumsFile))
	if err != nil || now == rl.before[in.day] {
		return nil, false, nil
	}
	r, err := rundir.Read(dir)
	if err != nil {
		if rundir.IsIncomplete(err) || errors.Is(err, os.ErrNotExist) {
			return nil, false, nil
		}
		return nil, false, err
	}
	s := r.Summary
	if s.Model.ID != in.card.ID || s.Policy.SHA256 != in.cfg.policySum {
		return nil, false, nil
	}
	res := &Result{Dir: dir, AsOf: s.AsOf, PreviousRun: s.PreviousRun, ModelID: s.Model.ID,
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
