package run

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/povrisk/povrisk/engine/atomicfile"
	"github.com/povrisk/povrisk/engine/fault"
	"github.com/povrisk/povrisk/engine/rundir"
	"github.com/povrisk/povrisk/models/eval"
)

// ShardFormat names the layout of a shard directory (docs/scale.md):
//
//	shard.json                 shardMeta: which shard, its counties, its parts, the night's inputs
//	parts/<nnn>/rows.bin       a county group's ranked rows, in the night's rank order
//	parts/<nnn>/part.json      the group's values (households, policy lines, ...)
//	parts/<nnn>/*.arrow        the group's tables (features, contributions), Arrow IPC streams
//	worklists/<county>.xlsx    the work lists of the shard's counties, final
//	checksums.sha256           every other file, as in a run directory
const ShardFormat = "povrisk-shard/3"

const shardFile = "shard.json"

// nightMeta is what every shard of a night must agree on, and what the
// merge needs besides the parts: the inputs and their checksums, the
// model, the policy, the coverage of the warehouse, the top-k settings.
type nightMeta struct {
	AsOf         string            `json:"as_of"`
	PreviousRun  string            `json:"previous_run"`
	Inputs       map[string]string `json:"inputs"`
	ModelID      string            `json:"model_id"`
	PolicySHA256 string            `json:"policy_sha256"`
	PolicyFile   string            `json:"policy_file"`
	Model        rundir.ModelInfo  `json:"model"`
	ModelUsed    ModelUsed         `json:"model_used"`
	Validation   rundir.Validation `json:"validation"`
	Coverage     []rundir.Coverage `json:"coverage"`
	Missing      []string          `json:"missing_tables"`
	Warnings     []rundir.Warning  `json:"warnings"`
	TopShare     float64           `json:"top_share"`
	TopK         map[string]TopK   `json:"top_k"`
	Features     []string          `json:"features"`
	Fairness     *eval.Fairness    `json:"fairness"` // the model card's audit, copied into summary.json
}

// shardMeta is shard.json.
type shardMeta struct {
	Format      string    `json:"format"`
	Shard       int       `json:"shard"`
	Shards      int       `json:"shards"`
	Counties    []string  `json:"counties"`     // this shard's
	AllCounties []string  `json:"all_counties"` // the night's, split over the shards
	Parts       []string  `json:"parts"`
	Night       nightMeta `json:"night"`
}

// shardWriter writes a shard directory under a temporary name beside it
// and renames it into place once complete (finish), replacing an earlier
// result of the same shard: a retried shard rewrites the same bytes.
type shardWriter struct {
	final, tmp string
	perms      rundir.Perms
	parts      []string
	done       bool
	mu         sync.Mutex
	sums       map[string]string // file -> sha256, computed while writing
	// local: the night's own parts (a single run), read back by the same
	// process and removed: files are not synced.
	local bool
}

// beginShard starts writing the shard directory final under the name tmp.
func beginShard(final, tmp string, perms rundir.Perms) (*shardWriter, error) {
	if err := os.RemoveAll(tmp); err != nil {
		return nil, fault.Wrap(fault.Write, fmt.Errorf("remove stale %s: %w", tmp, err))
	}
	if err := perms.Mkdir(filepath.Join(tmp, "worklists")); err != nil {
		return nil, err
	}
	if err := perms.Mkdir(filepath.Join(tmp, "parts")); err != nil {
		return nil, err
	}
	return &shardWriter{final: final, tmp: tmp, perms: perms, sums: map[string]string{}}, nil
}

// create writes the file rel of the shard (atomicfile.Write), hashing it
// as it is written. The night's own parts (local) are not hashed: they
// are read back by the process that wrote them and never verified
// (readShard without verify), and hashing them cost a second pass over
// the largest tables of the night.
func (sw *shardWriter) create(rel string, fn func(io.Writer) error) error {
	if !fs.ValidPath(rel) {
		return fmt.Errorf("shard: %q is not a file a shard writes", rel)
	}
	path := filepath.Join(sw.tmp, filepath.FromSlash(rel))
	if sw.local {
		if err := writeUnsynced(path, sw.perms.File, fn); err != nil {
			return err
		}
		sw.mu.Lock()
		sw.sums[rel] = ""
		sw.mu.Unlock()
		return nil
	}
	h := sha256.New()
	if err := atomicfile.Write(path, sw.perms.File, func(w io.Writer) error { return fn(io.MultiWriter(w, h)) }); err != nil {
		return err
	}
	sw.mu.Lock()
	sw.sums[rel] = hex.EncodeToString(h.Sum(nil))
	sw.mu.Unlock()
	return nil
}

// finish writes shard.json and checksums.sha256 and renames the shard
// into place.
func (sw *shardWriter) finish(m *shardMeta) error {
	m.Format, m.Parts = ShardFormat, sw.parts
	if err := sw.create(shardFile, func(w io.Writer) error { return writeJSON(w, m) }); err != nil {
		return err
	}
	files, err := rundir.Files(sw.tmp)
	if err != nil {
		return err
	}
	sums := map[string]string{}
	for _, f := range files { // every file was written by create
		s, ok := sw.sums[f]
		if !ok {
			return fmt.Errorf("shard: %s was not written through the shard writer", f)
		}
		sums[f] = s
	}
	if !sw.local { // the night's own parts are not hashed (create): no checksums file
		var b bytes.Buffer
		for _, p := range slices.Sorted(maps.Keys(sums)) {
			fmt.Fprintf(&b, "%s  %s\n", sums[p], p)
		}
		if err := sw.create(rundir.ChecksumsFile, func(w io.Writer) error { _, err := w.Write(b.Bytes()); return err }); err != nil {
			return err
		}
		if err := atomicfile.SyncTree(sw.tmp); err != nil {
			return err
		}
	}
	old := filepath.Join(filepath.Dir(sw.final), "."+filepath.Base(sw.final)+".old."+filepath.Base(sw.tmp))
	if _, err := os.Stat(sw.final); err == nil {
		if err := os.Rename(sw.final, old); err != nil {
			return fault.Wrap(fault.Write, fmt.Errorf("move the earlier shard %s aside: %w", sw.final, err))
		}
	}
	if err := os.Rename(sw.tmp, sw.final); err != nil {
		return fault.Wrap(fault.Write, fmt.Errorf("rename %s to %s: %w", sw.tmp, sw.final, err))
	}
	sw.done = true
	if err := atomicfile.SyncDir(filepath.Dir(sw.final)); err != nil {
		return err
	}
	if err := os.RemoveAll(old); err != nil {
		return fault.Wrap(fault.Write, fmt.Errorf("remove the replaced shard %s: %w", old, err))
	}
	return nil
}

func (sw *shardWriter) abort() {
	if sw != nil && !sw.done {
		os.RemoveAll(sw.tmp)
	}
}

// writeUnsynced writes path with what fn writes, without syncing: a file
// of the night's own parts, removed once merged (a crash loses nothing
// that the next run does not rewrite).
func writeUnsynced(path string, perm os.FileMode, fn func(io.Writer) error) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, perm)
	if err != nil {
		return fault.Wrap(fault.Write, fmt.Errorf("write %s: %w", path, err))
	}
	bw := bufio.NewWriterSize(f, 256<<10)
	if err := fn(bw); err != nil {
		f.Close()
		if fault.IsWriteFailure(err) {
			err = fault.Wrap(fault.Write, err)
		}
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := bw.Flush(); err != nil {
		f.Close()
		return fault.Wrap(fault.Write, fmt.Errorf("write %s: %w", path, err))
	}
	if err := f.Close(); err != nil {
		return fault.Wrap(fault.Write, fmt.Errorf("write %s: %w", path, err))
	}
	return nil
}

// shardSrc is a shard directory read back for the merge.
type shardSrc struct {
	dir  string
	meta shardMeta
}

// readShards reads and verifies the n shards of the night day under
// RUNS/.shards/<day>/. A shard missing, incomplete or altered, or
// disagreeing with the others, is an error naming it: fault.BadInput for
// a missing or mismatched shard (run it again), fault.Tampered for one
// whose files do not match its checksums.
func readShards(runs, day string, n int) ([]shardSrc, error) {
	out := make([]shardSrc, n)
	for k := range n {
		dir := ShardsDir(runs, day, Shard{K: k, N: n})
		s, err := readShard(dir, true)
		if err != nil {
			return nil, fmt.Errorf("shard %d of %d: %w", k, n, err)
		}
		if s.meta.Shard != k || s.meta.Shards != n || s.meta.Night.AsOf != day {
			return nil, fault.Wrap(fault.BadInput, fmt.Errorf("shard %d of %d: %s says it is shard %d of %d of %s: run povrisk run --shard %d/%d again",
				k, n, dir, s.meta.Shard, s.meta.Shards, s.meta.Night.AsOf, k, n))
		}
		out[k] = s
	}
	return out, checkShards(out)
}

// readShard reads the shard directory dir, checked against its
// checksums when verify is set (the night's own parts, just written in
// the same process, are not read twice).
func readShard(dir string, verify bool) (shardSrc, error) {
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		return shardSrc{}, fault.Wrap(fault.BadInput, fmt.Errorf("%s is missing: the shard has not finished (or failed); run it (again) before the merge", dir))
	}
	if verify {
		if _, err := rundir.Verify(dir); err != nil {
			return shardSrc{}, err
		}
	}
	b, err := os.ReadFile(filepath.Join(dir, shardFile))
	if err != nil {
		return shardSrc{}, fault.Wrap(fault.BadInput, fmt.Errorf("read %s: %w", shardFile, err))
	}
	s := shardSrc{dir: dir}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s.meta); err != nil || s.meta.Format != ShardFormat {
		return shardSrc{}, fault.Wrap(fault.BadInput, fmt.Errorf("%s is not a %s shard (%v): run the shard again with this povrisk", filepath.Join(dir, shardFile), ShardFormat, err))
	}
	return s, nil
}

// checkShards checks that the shards computed the same night (same
// inputs, model, policy and settings) and that their counties split the
// night's counties exactly.
func checkShards(ss []shardSrc) error {
	if len(ss) == 0 {
		return nil
	}
	ref, _ := json.Marshal(ss[0].meta.Night)
	owner := map[string]int{}
	for k, s := range ss {
		b, _ := json.Marshal(s.meta.Night)
		if !bytes.Equal(b, ref) {
			return fault.Wrap(fault.BadInput, fmt.Errorf("shard %d of %d was computed from other inputs, model, policy or settings than shard 0 (%s): run every shard of the night with the same warehouse, model, policy and flags",
				k, len(ss), firstDiff(ss[0].meta.Night, s.meta.Night)))
		}
		if !slices.Equal(s.meta.AllCounties, ss[0].meta.AllCounties) {
			return fault.Wrap(fault.BadInput, fmt.Errorf("shard %d of %d split other counties than shard 0: the warehouse changed between the shards; run them all again", k, len(ss)))
		}
		for _, c := range s.meta.Counties {
			if o, dup := owner[c]; dup {
				return fault.Wrap(fault.BadInput, fmt.Errorf("county %s is in shard %d and shard %d", c, o, k))
			}
			owner[c] = k
		}
	}
	for _, c := range ss[0].meta.AllCounties {
		if _, ok := owner[c]; !ok {
			return fault.Wrap(fault.BadInput, fmt.Errorf("county %s is in no shard", c))
		}
	}
	return nil
}

// firstDiff names the first field where two night metas differ.
func firstDiff(a, b nightMeta) string {
	var ma, mb map[string]json.RawMessage
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	json.Unmarshal(ja, &ma)
	json.Unmarshal(jb, &mb)
	for _, k := range slices.Sorted(maps.Keys(ma)) {
		if !bytes.Equal(ma[k], mb[k]) {
			return "they differ in " + k
		}
	}
	return strings.TrimSpace("they differ")
}
