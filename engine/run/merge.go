package run

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/povrisk/povrisk/engine/audit"
	"github.com/povrisk/povrisk/engine/civil"
	"github.com/povrisk/povrisk/engine/fault"
	"github.com/povrisk/povrisk/engine/progress"
	"github.com/povrisk/povrisk/engine/rundir"
)

// MergeOptions configure Merge. Zero values mean the defaults noted.
type MergeOptions struct {
	Runs   string // runs directory; default "runs"
	AsOf   string // the night, YYYY-MM-DD (required)
	Shards int    // N of the shards K/N (required)
	// AuditKeyPath is the audit key file ("" : env POVRISK_AUDIT_KEY_FILE,
	// else audit.DefaultKeyPath()).
	AuditKeyPath string
	SharedPerms  bool
	Wait         time.Duration
	Progress     io.Writer
	Reporter     progress.Reporter
	Command      string
	User         string
	Now          func() time.Time
}

// merger is the merge of the parts of a night: the parts in order, their
// values, and what the rows merge (streamRows) counted once it is done.
type merger struct {
	shards     []shardSrc
	parts      []string // part directories, shard by shard, in each shard's order
	vals       []map[string]json.RawMessage
	rk         *ranking // topK and counts (no rows: they are streamed), set by writeOwn
	top        string   // the night's first household
	households int
	ck         *clock
	task       progress.Task
	held       heldRows
	// rankOrders feed the outputs gathered in the night's rank order
	// (output.byRank, m.gatherRanked): the parts of each chunk of rows,
	// sent by the rows merge as it goes.
	rankOrders map[string]chan []int32
	closeOnce  sync.Once
}

// Merge builds RUNS/<as_of> from the N shards RUNS/.shards/<as_of>/<K>-of-<N>
// and appends the audit record, holding the runs directory's lock: the
// same bytes a single `povrisk run` writes for the night.
func Merge(ctx context.Context, db *sql.DB, o MergeOptions) (*Result, error) {
	if o.Runs == "" {
		o.Runs = "runs"
	}
	if _, err := civil.Parse(o.AsOf); err != nil {
		return nil, usage("--as-of %q: want YYYY-MM-DD", o.AsOf)
	}
	if o.Shards < 1 || o.Shards > MaxShards {
		return nil, usage("--shards %d: want a count from 1 to %d", o.Shards, MaxShards)
	}
	cfg := &config{Options: Options{Runs: o.Runs, AuditKeyPath: o.AuditKeyPath, SharedPerms: o.SharedPerms, Wait: o.Wait,
		Progress: o.Progress, Reporter: o.Reporter, Command: o.Command, User: o.User, Now: o.Now}, perms: rundir.PermsFor(o.SharedPerms)}
	if cfg.Command == "" {
		cfg.Command = "povrisk merge"
	}
	var err error
	if cfg.auditKey, err = audit.LoadKey(o.AuditKeyPath); err != nil {
		return nil, err
	}
	ck := &clock{o: &cfg.Options}
	rl, err := lockRuns(cfg)
	if err != nil {
		return nil, err
	}
	defer rl.release()
	if err := audit.CheckAppend(cfg.Runs, cfg.auditKey); err != nil {
		return nil, err
	}
	ck.stage("merge")
	ss, err := readShards(cfg.Runs, o.AsOf, o.Shards)
	if err != nil {
		return nil, err
	}
	res, out, err := mergeShards(ctx, db, cfg, ck, ss)
	if err != nil {
		return nil, err
	}
	ck.stage("audit")
	m := &ss[0].meta.Night
	if res.AuditSeq, err = record(cfg, m, out); err != nil {
		return nil, err
	}
	ck.end()
	res.Stages = ck.stages
	return res, nil
}

// mergeShards writes the run directory from the shards read back and
// returns the night's result (without its audit sequence) and the files
// written.
func mergeShards(ctx context.Context, db *sql.DB, cfg *config, ck *clock, ss []shardSrc) (*Result, *written, error) {
	m := &merger{shards: ss, ck: ck}
	meta := &ss[0].meta.Night
	for _, s := range ss {
		for _, p := range s.meta.Parts {
			dir := filepath.Join(s.dir, filepath.FromSlash(p))
			m.parts = append(m.parts, dir)
			vals, err := readPartValues(filepath.Join(dir, partFile))
			if err != nil {
				return nil, nil, err
			}
			var hh int
			if err := json.Unmarshal(vals["households"], &hh); err != nil {
				return nil, nil, fault.Wrap(fault.BadInput, fmt.Errorf("%s: households: %w", dir, err))
			}
			m.households += hh
			m.vals = append(m.vals, vals)
		}
	}
	ck.stage("write")
	out, err := m.write(ctx, db, cfg, meta)
	if err != nil {
		return nil, nil, err
	}
	res := &Result{Dir: out.dir, AsOf: meta.AsOf, PreviousRun: meta.PreviousRun, ModelID: meta.ModelID, Model: meta.ModelUsed,
		Counts: m.rk.counts, Warnings: meta.Warnings, Top: m.top}
	if res.Warnings == nil {
		res.Warnings = []rundir.Warning{}
	}
	if meta.PreviousRun != "" {
		if d, err := civil.Parse(meta.AsOf); err == nil {
			res.PreviousMonths = monthsFrom(meta.PreviousRun, d)
		}
	}
	return res, out, nil
}

// write writes the run directory under RUNS/.<as_of>.partial and renames
// it into place. The rows merge (writeOwn) and the background outputs'
// merge halves run side by side; summary.json is filled once the rows
// are counted.
func (m *merger) write(ctx context.Context, db *sql.DB, cfg *config, meta *nightMeta) (*written, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	m.task = progress.Or(cfg.Reporter).Start("writing", int64(6+m.worklistFiles()+m.eliminationFiles()))
	defer m.task.Done()
	dw, err := rundir.Begin(cfg.Runs, meta.AsOf, cfg.perms)
	if err != nil {
		return nil, err
	}
	defer dw.Abort()
	m.rankOrders = map[string]chan []int32{}
	for _, o := range outputs() {
		if o.byRank && !o.background { // it would run after the rows merge, which would wait for it
			return nil, fmt.Errorf("output %s is gathered in rank order (byRank) but not in the background", o.name)
		}
		if o.byRank {
			m.rankOrders[o.name] = make(chan []int32, 4)
		}
	}
	s := &rundir.Summary{} // filled by the foreground halves, after the rows
	bg := runBackground(outputs(), func(o output) error {
		if ch, ok := m.rankOrders[o.name]; ok {
			defer func() {
				for range ch { // the rows merge never waits for a half that stopped
				}
			}()
		}
		if o.merge == nil {
			return nil
		}
		err := o.merge(ctx, m, dw, s)
		if err != nil {
			cancel()
		}
		return err
	})
	err = m.writeOwn(ctx, db, cfg.Runs, dw, meta)
	m.closeOrders()
	if err != nil {
		cancel()
		return nil, firstCause(err, bg())
	}
	*s = *buildSummary(meta, m.rk, &changeSet{prev: meta.PreviousRun})
	for _, o := range outputs() {
		if o.merge == nil || o.background {
			continue
		}
		if err := o.merge(ctx, m, dw, s); err != nil {
			cancel()
			bg()
			return nil, fmt.Errorf("merge %s: %w", o.name, err)
		}
		if err := ctx.Err(); err != nil {
			bg()
			return nil, err
		}
	}
	if err := bg(); err != nil {
		return nil, fmt.Errorf("merge %w", err)
	}
	if err := dw.Summary(s); err != nil {
		return nil, err
	}
	m.task.Add(1)
	m.ck.stage("checksums")
	sums, err := dw.Seal()
	if err != nil {
		return nil, err
	}
	m.ck.stage("commit")
	dir, err := dw.Commit()
	if err != nil {
		return nil, err
	}
	return &written{dir: dir, sums: sums}, nil
}

// closeOrders ends the rank orders (the rows merge is done, or failed).
func (m *merger) closeOrders() {
	m.closeOnce.Do(func() {
		for _, ch := range m.rankOrders {
			close(ch)
		}
	})
}

// worklistFiles is the number of work lists the shards hold.
func (m *merger) worklistFiles() int {
	n := 0
	for _, s := range m.shards {
		es, _ := os.ReadDir(filepath.Join(s.dir, "worklists"))
		n += len(es)
	}
	return n
}

// eliminationFiles is the number of elimination files the merge writes:
// elimination.parquet and .csv when a part holds assessed households.
func (m *merger) eliminationFiles() int {
	for _, p := range m.parts {
		if _, err := os.Stat(filepath.Join(p, elimRowsFile)); err == nil {
			return 2
		}
	}
	return 0
}

// writeOwn writes the merge's own files: ranked.parquet and ranked.csv
// (side by side, while the rows merge streams the rows to them and to the
// outputs gathered in rank order), then changes.csv from ranked.parquet
// and the previous run's; it sets m.rk and m.top.
func (m *merger) writeOwn(ctx context.Context, db *sql.DB, runs string, dw *rundir.Writer, meta *nightMeta) error {
	pq, cs := make(chan *rowChunk, 2), make(chan *rowChunk, 2)
	pqDone := consumeChunks(dw, "ranked.parquet", pq, func(w io.Writer) (chunkWriter, error) { return rundir.NewRankedParquetWriter(w) })
	csDone := consumeChunks(dw, "ranked.csv", cs, func(w io.Writer) (chunkWriter, error) { return rundir.NewRankedCSVWriter(w) })
	paths := make([]string, len(m.parts))
	for i, p := range m.parts {
		paths[i] = filepath.Join(p, rowsFile)
	}
	merged, err := streamRows(ctx, paths, m.households, meta, &m.held, func(c *rowChunk) error {
		c.refs.Store(2)
		pq <- c
		cs <- c
		for _, o := range m.rankOrders {
			o <- c.parts
		}
		return nil
	})
	close(pq)
	close(cs)
	m.closeOrders()
	if err := firstCause(err, <-pqDone, <-csDone); err != nil {
		return err
	}
	m.rk = &ranking{topK: merged.topK, counts: merged.counts}
	m.top = merged.top
	m.task.Add(2)
	err = dw.Create("changes.csv", func(w io.Writer) error {
		return writeChanges(ctx, db, w, filepath.Join(dw.Dir(), "ranked.parquet"), runs, meta.PreviousRun)
	})
	if err != nil {
		return err
	}
	m.task.Add(1)
	return ctx.Err()
}

// chunkWriter is a streaming writer of ranked rows (rundir's).
type chunkWriter interface {
	Write([]rundir.Row) error
	Close() error
}

// consumeChunks writes the file name of the run directory with the
// writer open makes, from the chunks of ch, calling done on each (also
// when the writer failed, so that the rows merge goes on); the error
// comes on the channel returned once ch is closed.
func consumeChunks(dw *rundir.Writer, name string, ch <-chan *rowChunk, open func(io.Writer) (chunkWriter, error)) <-chan error {
	done := make(chan error, 1)
	go func() {
		err := dw.Create(name, func(w io.Writer) error {
			cw, err := open(w)
			if err != nil {
				return err
			}
			for c := range ch {
				if err == nil {
					err = cw.Write(c.rows)
				}
				c.done()
			}
			if cerr := cw.Close(); err == nil {
				err = cerr
			}
			return err
		})
		for c := range ch {
			c.done()
		}
		done <- err
	}()
	return done
}

func readPartValues(path string) (map[string]json.RawMessage, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fault.Wrap(fault.BadInput, fmt.Errorf("read part values: %w", err))
	}
	var v map[string]json.RawMessage
	if err := json.Unmarshal(b, &v); err != nil {
		return nil, fault.Wrap(fault.BadInput, fmt.Errorf("read part values %s: %w", path, err))
	}
	return v, nil
}

// files are the paths of the part table name (name.arrow, else
// name.parquet) of every part, in part order.
func (m *merger) files(name string) []string {
	out := make([]string, len(m.parts))
	for i, p := range m.parts {
		out[i] = filepath.Join(p, filepath.FromSlash(name)+".arrow")
		if _, err := os.Stat(out[i]); err != nil {
			out[i] = filepath.Join(p, filepath.FromSlash(name)+".parquet")
		}
	}
	return out
}

// gatherSorted writes the Parquet file dst of the run directory from the
// part table src (m.files) of every part (each sorted by the text column key),
// merged by key.
func (m *merger) gatherSorted(ctx context.Context, dw *rundir.Writer, src, dst, key string) error {
	paths := m.files(src)
	err := dw.Create(dst, func(w io.Writer) error { return gatherSortedParts(ctx, w, paths, key) })
	if err != nil {
		return err
	}
	m.task.Add(1)
	return nil
}

// gatherRanked writes the Parquet file dst of the run directory from the
// part table src of every part (each in its part's rank order) in the
// night's rank order, as the rows merge makes it: the output src must be
// marked byRank.
func (m *merger) gatherRanked(ctx context.Context, dw *rundir.Writer, src, dst string) error {
	ch, ok := m.rankOrders[src]
	if !ok {
		return fmt.Errorf("gather %s in rank order: the output is not marked byRank", src)
	}
	if err := dw.Create(dst, func(w io.Writer) error { return gather(ctx, w, m.files(src), &chanOrder{ch: ch}) }); err != nil {
		return err
	}
	m.task.Add(1)
	return nil
}

// copyShardFiles copies SHARD/<dir>/<name><ext> into the run directory for
// every name, from the one shard that holds it.
func (m *merger) copyShardFiles(ctx context.Context, dw *rundir.Writer, dir string, names []string, ext string) error {
	for _, n := range names {
		rel := dir + "/" + n + ext
		var src string
		for _, s := range m.shards {
			p := filepath.Join(s.dir, filepath.FromSlash(rel))
			if _, err := os.Stat(p); err == nil {
				src = p
				break
			}
		}
		if src == "" {
			return fault.Wrap(fault.BadInput, fmt.Errorf("no shard holds %s", rel))
		}
		err := dw.Create(rel, func(w io.Writer) error {
			f, err := os.Open(src)
			if err != nil {
				return err
			}
			defer f.Close()
			_, err = io.Copy(w, f)
			return err
		})
		if err != nil {
			return err
		}
		m.task.Add(1)
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	return nil
}

// each calls fn with the value key of every part that has it, in order.
func (m *merger) each(key string, fn func(raw json.RawMessage) error) error {
	for i, v := range m.vals {
		raw, ok := v[key]
		if !ok {
			continue
		}
		if err := fn(raw); err != nil {
			return fault.Wrap(fault.BadInput, fmt.Errorf("%s: %s: %w", m.parts[i], key, err))
		}
	}
	return nil
}

// policyLines merges the parts' policy lines (policyPartial) into
// summary.json's list: per entry and fallback, the households summed and
// the value of the first household by household_id.
func (m *merger) policyLines(key string) ([]rundir.PolicyLine, error) {
	type k2 struct{ entry, fallback string }
	acc := map[k2]*policyPart{}
	err := m.each(key, func(raw json.RawMessage) error {
		var ps []policyPart
		if err := json.Unmarshal(raw, &ps); err != nil {
			return err
		}
		for _, p := range ps {
			k := k2{p.Entry, p.Fallback}
			a, ok := acc[k]
			if !ok {
				c := p
				acc[k] = &c
				continue
			}
			a.Households += p.Households
			if p.FirstID < a.FirstID {
				a.FirstID, a.Value = p.FirstID, p.Value
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := make([]rundir.PolicyLine, 0, len(acc))
	for _, p := range acc {
		prov, year := p.Entry, 0
		if a, b, ok := strings.Cut(p.Entry, "/"); ok {
			prov = a
			fmt.Sscanf(b, "%d", &year)
		}
		out = append(out, rundir.PolicyLine{Province: prov, Year: year, Line: p.Value, Entry: p.Entry, Fallback: p.Fallback, Households: p.Households})
	}
	sort.Slice(out, func(a, b int) bool {
		if out[a].Entry != out[b].Entry {
			return out[a].Entry < out[b].Entry
		}
		return out[a].Fallback < out[b].Fallback
	})
	return out, nil
}
