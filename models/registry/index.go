package registry

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"

	"github.com/povrisk/povrisk/engine/atomicfile"
	"github.com/povrisk/povrisk/engine/fault"
)

// The registry's index records the order in which models were saved: one
// JSON line per model, {"seq":N,"id":"rf-..."}, seq increasing by one with
// every Save (a model saved again moves to the end with a new seq). The
// model directories themselves stay deterministic (the same training gives
// the same bytes); the creation order, which is history, lives here.
const (
	indexFile = "index.jsonl"
	lockFile  = ".index.lock"
)

// IndexEntry is one line of the registry's index.
type IndexEntry struct {
	Seq int64  `json:"seq"`
	ID  string `json:"id"`
}

// lockIndex creates dir if needed and takes an exclusive lock on the
// registry's index, so that two trainings saving at once get distinct
// sequence numbers. The returned function releases it.
func lockIndex(dir string) (func(), error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fault.Wrap(fault.Write, fmt.Errorf("registry: create models directory: %w", err))
	}
	path := filepath.Join(dir, lockFile)
	fh, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fault.Wrap(fault.Write, fmt.Errorf("registry: open %s: %w", path, err))
	}
	if err := syscall.Flock(int(fh.Fd()), syscall.LOCK_EX); err != nil {
		fh.Close()
		return nil, fmt.Errorf("registry: lock %s: %w", path, err)
	}
	return func() {
		syscall.Flock(int(fh.Fd()), syscall.LOCK_UN)
		fh.Close()
	}, nil
}

// ReadIndex returns the index of the models directory dir, in saving
// order; a missing index is empty (models saved before it existed).
func ReadIndex(dir string) ([]IndexEntry, error) { return readIndex(dir) }

func readIndex(dir string) ([]IndexEntry, error) {
	path := filepath.Join(dir, indexFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("registry: read %s: %w", path, err)
	}
	return parseIndex(b, path)
}

// parseIndex decodes the lines of the index; a line that is not an entry,
// or a seq that does not increase, is refused (fault.NoModel): the order
// of the models could not be trusted.
func parseIndex(b []byte, path string) ([]IndexEntry, error) {
	var out []IndexEntry
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for n := 1; sc.Scan(); n++ {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var e IndexEntry
		dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&e); err != nil || checkID(e.ID) != nil || e.Seq < 1 {
			return nil, noModel("registry: %s line %d is not an index entry: repair or remove the line (models saved later than a removed line are still found)", path, n)
		}
		if len(out) > 0 && e.Seq <= out[len(out)-1].Seq {
			return nil, noModel("registry: %s line %d: seq %d after %d: the index was edited; repair it so that seq increases", path, n, e.Seq, out[len(out)-1].Seq)
		}
		out = append(out, e)
	}
	if err := sc.Err(); err != nil {
		return nil, noModel("registry: read %s: %v", path, err)
	}
	return out, nil
}

// appendIndex records id as the model saved last (under lockIndex).
func appendIndex(dir, id string) error {
	idx, err := readIndex(dir)
	if err != nil {
		return err
	}
	var next int64 = 1
	if len(idx) > 0 {
		next = idx[len(idx)-1].Seq + 1
	}
	return atomicfile.Write(filepath.Join(dir, indexFile), 0o644, func(w io.Writer) error {
		enc := json.NewEncoder(w)
		for _, e := range idx {
			if e.ID == id {
				continue // moves to the end
			}
			if err := enc.Encode(e); err != nil {
				return err
			}
		}
		return enc.Encode(IndexEntry{Seq: next, ID: id})
	})
}
