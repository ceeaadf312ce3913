package run

// A night is computed one county group at a time, and every product of
// the night comes in two halves (docs/scale.md):
//
//   - the part half runs once per county group, with that group's
//     stages' outputs (*group: features, scores, contributions, profiles
//     and the group's ranked rows, whose county and township ranks,
//     tiers and top k are already final, as they are county-local), and
//     writes files into the group's part directory (p.create) and small
//     values into its part.json (p.put);
//   - the merge half runs once, with every part of every shard (*merger),
//     and writes the run directory's files (dw) and fills summary.json (s).
//
// `povrisk run` computes the groups in turn, in-process, writes their
// parts under RUNS/.<as_of>.parts and merges them; `povrisk run --shard
// K/N` writes the parts of its counties under RUNS/.shards/<as_of>/<K>-of-<N>
// and `povrisk merge` merges the N shards: the same merge code, so the
// same bytes. The merged result must not depend on how the counties were
// grouped: a merge half orders what it writes by a key of the rows
// (household_id, the global rank), never by part.
//
// Adding an output: append an output to outputs() with its two halves.
// A county-local file (a work list) is written whole by the part half
// into the shard (p.createShard) and copied by the merge half
// (m.copyShardFiles); a per-household table is written by the part half
// sorted by a key column and gathered by the merge half
// (p.table(name, t) in the part half, m.gatherSorted(ctx, dw, name,
// "name.parquet", key) or m.gatherRanked for rank order in the merge half,
// whose output is marked background and byRank: it is fed the order as
// the rows merge makes it;
// a part table is Parquet in a shard, IPC in a single run's own parts:
// gather.go); a summary figure is put per part (p.put) and summed by the
// merge half (m.each). For example, a per-county summary object: part
// half `p.put("visits", perCounty)`, merge half `m.each("visits", ...)`
// appending into s.Visits, then sorting by county code.
//
// The ranked rows, changes.csv and summary.json are the merge's own
// (merge.go, rowsmerge.go): the rows of every part, each in the night's
// rank order, are merged by that order as they stream.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"path/filepath"
	"slices"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/povrisk/povrisk/engine/rundir"
)

// output is one product of the night: its part half and its merge half
// (either may be nil).
type output struct {
	name  string
	part  func(ctx context.Context, g *group, p *partWriter) error
	merge func(ctx context.Context, m *merger, dw *rundir.Writer, s *rundir.Summary) error
	// background: both halves run alongside the others (2 cores: the
	// largest table is written while the rest is); such halves may only
	// write their own files (no p.put, no summary field).
	background bool
	// byRank: the merge half gathers a table in the night's rank order
	// (m.gatherRanked), fed as the rows merge goes; only a background
	// half can be (it runs alongside the rows merge).
	byRank bool
}

// outputs are the night's outputs besides the ranked rows, changes and
// the summary, in the order their merge halves write.
func outputs() []output {
	return []output{
		{name: "features", background: true,
			part: func(_ context.Context, g *group, p *partWriter) error {
				return p.table("features", g.feat.t)
			},
			merge: func(ctx context.Context, m *merger, dw *rundir.Writer, _ *rundir.Summary) error {
				return m.gatherSorted(ctx, dw, "features", "features.parquet", "household_id")
			}},
		{name: "contributions", background: true, byRank: true,
			part: func(_ context.Context, g *group, p *partWriter) error {
				if p.shard.local {
					return p.create("contributions.arrow", func(w io.Writer) error {
						return writeContributionsPart(w, g.rk.rows, g.in.card.Features, g.ex.contrib.Cols, false)
					})
				}
				return p.create("contributions.parquet", func(w io.Writer) error {
					return writeContributionsPart(w, g.rk.rows, g.in.card.Features, g.ex.contrib.Cols, true)
				})
			},
			merge: func(ctx context.Context, m *merger, dw *rundir.Writer, _ *rundir.Summary) error {
				return m.gatherRanked(ctx, dw, "contributions", "contributions.parquet")
			}},
		{name: "policy lines",
			part: func(_ context.Context, g *group, p *partWriter) error {
				c := g.rk.cols
				p.put("policy_lines", policyPartial(g.sc.ids, c.lineEntry, c.lineFallback, c.lineValue))
				p.put("policy_rural", policyPartial(g.sc.ids, c.ruralEntry, c.ruralFallback, c.ruralValue))
				return nil
			},
			merge: func(_ context.Context, m *merger, _ *rundir.Writer, s *rundir.Summary) error {
				var err error
				if s.Policy.Lines, err = m.policyLines("policy_lines"); err != nil {
					return err
				}
				s.Policy.Rural, err = m.policyLines("policy_rural")
				return err
			}},
		{name: "coverage", // the households each source table covers (groupCoverage)
			part: func(_ context.Context, g *group, p *partWriter) error {
				p.put("coverage_households", g.coverage)
				return nil
			},
			merge: func(_ context.Context, m *merger, _ *rundir.Writer, s *rundir.Summary) error {
				return m.mergeCoverage(s)
			}},
		{name: "office", // places, visits, watch, the elimination assessment
			part: func(_ context.Context, g *group, p *partWriter) error { return officePart(g.office, p) },
			merge: func(ctx context.Context, m *merger, dw *rundir.Writer, s *rundir.Summary) error {
				return m.mergeOffice(ctx, dw, s)
			}},
		{name: "worklists",
			part: func(ctx context.Context, g *group, p *partWriter) error {
				return writeWorklists(ctx, g.in, g.rk, g.office, p.createShard)
			},
			merge: func(ctx context.Context, m *merger, dw *rundir.Writer, _ *rundir.Summary) error {
				m.ck.stage("worklists")
				if err := dw.Mkdir("worklists"); err != nil {
					return err
				}
				return m.copyShardFiles(ctx, dw, "worklists", slices.Sorted(maps.Keys(m.rk.topK)), ".xlsx")
			}},
	}
}

// partWriter writes one county group's part of a shard:
// SHARD/parts/<n>/ (files) and SHARD/parts/<n>/part.json (values).
type partWriter struct {
	shard *shardWriter
	dir   string
	rel   string // parts/<n>
	vals  map[string]json.RawMessage
	err   error
}

// create writes the file rel of the part directory.
func (p *partWriter) create(rel string, fn func(io.Writer) error) error {
	return p.shard.create(p.rel+"/"+rel, fn)
}

// createShard writes the file rel of the shard directory (a county's
// file, written by the one part that holds the county).
func (p *partWriter) createShard(rel string, fn func(io.Writer) error) error {
	return p.shard.create(rel, fn)
}

// table writes the part table name (read back by m.files(name)): an
// Arrow table sorted by the key its merge half gathers by.
func (p *partWriter) table(name string, t arrow.Table) error {
	if p.shard.local {
		return p.create(name+".arrow", func(w io.Writer) error { return writePartTable(w, t) })
	}
	return p.create(name+".parquet", func(w io.Writer) error { return writePartParquet(w, t) })
}

// put records v (JSON) under key in the part's part.json.
func (p *partWriter) put(key string, v any) {
	b, err := json.Marshal(v)
	if err != nil && p.err == nil {
		p.err = fmt.Errorf("part value %s: %w", key, err)
	}
	p.vals[key] = b
}

// rowsFile holds a part's ranked rows (rowcodec.go, in batches of
// rowsBatch, in the night's rank order); partFile its values.
const (
	rowsFile = "rows.bin"
	partFile = "part.json"
)

// writePart writes the part of group g: its rows, then every output's
// part half, then part.json.
func (sw *shardWriter) writePart(ctx context.Context, g *group) error {
	n := len(sw.parts)
	rel := fmt.Sprintf("parts/%03d", n)
	p := &partWriter{shard: sw, dir: filepath.Join(sw.tmp, filepath.FromSlash(rel)), rel: rel, vals: map[string]json.RawMessage{}}
	if err := sw.perms.Mkdir(p.dir); err != nil {
		return err
	}
	if err := p.create(rowsFile, func(w io.Writer) error { return encodeRows(w, g.rk.rows) }); err != nil {
		return err
	}
	p.put("households", len(g.sc.ids))
	bg := runBackground(outputs(), func(o output) error {
		if o.part == nil {
			return nil
		}
		return o.part(ctx, g, p)
	})
	err := func() error {
		for _, o := range outputs() {
			if o.part == nil || o.background {
				continue
			}
			if err := o.part(ctx, g, p); err != nil {
				return fmt.Errorf("%s of counties %v: %w", o.name, g.counties, err)
			}
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		return nil
	}()
	if err := errors.Join(err, bg()); err != nil {
		return err
	}
	if p.err != nil {
		return p.err
	}
	sw.parts = append(sw.parts, rel)
	return p.create(partFile, func(w io.Writer) error { return writeJSON(w, p.vals) })
}

// runBackground starts fn for every background output, each in its own
// goroutine, and returns the function that waits for them all.
func runBackground(outs []output, fn func(o output) error) (wait func() error) {
	var errs []chan error
	for _, o := range outs {
		if !o.background {
			continue
		}
		ch := make(chan error, 1)
		errs = append(errs, ch)
		go func() {
			if err := fn(o); err != nil {
				ch <- fmt.Errorf("%s: %w", o.name, err)
				return
			}
			ch <- nil
		}()
	}
	return func() error {
		var all []error
		for _, ch := range errs {
			all = append(all, <-ch)
		}
		return firstCause(all...)
	}
}

// firstCause joins the errors of halves that ran side by side, leaving
// out those that only say they were cancelled when another says why (a
// disk that filled up cancels the other halves: the message must lead with
// the full disk, not with "context canceled"). With only cancellations
// (the night was interrupted) they are all kept.
func firstCause(errs ...error) error {
	var cause, cancelled []error
	for _, err := range errs {
		switch {
		case err == nil:
		case errors.Is(err, context.Canceled):
			cancelled = append(cancelled, err)
		default:
			cause = append(cause, err)
		}
	}
	if len(cause) > 0 {
		return errors.Join(cause...)
	}
	return errors.Join(cancelled...)
}

// writeContributionsPart writes the contributions of rows, in their
// order, as a part table: household_id, then one float64 column per
// feature (contrib[j][rows[i].Index]), the columns of contributions.parquet,
// which the merge gathers from these parts; an IPC stream, or Parquet with row
// groups of partBatch rows (writePartParquet says why).
func writeContributionsPart(w io.Writer, rows []rundir.Row, names []string, contrib [][]float64, asParquet bool) error {
	fields := []arrow.Field{{Name: "household_id", Type: arrow.BinaryTypes.String}}
	for _, n := range names {
		fields = append(fields, arrow.Field{Name: n, Type: arrow.PrimitiveTypes.Float64})
	}
	schema := arrow.NewSchema(fields, nil)
	write, closeW, err := partSink(w, schema, asParquet)
	if err != nil {
		return err
	}
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	// The batch's matrix rows, read once from the (large) rows: each
	// column's loop then reads a small contiguous index, not one Row of
	// a few hundred bytes per value.
	idx, vals := make([]int, 0, partBatch), make([]float64, partBatch)
	for lo := 0; lo < len(rows); lo += partBatch {
		hi := min(lo+partBatch, len(rows))
		sb := b.Field(0).(*array.StringBuilder)
		idx = idx[:0]
		n := 0
		for i := lo; i < hi; i++ {
			idx = append(idx, rows[i].Index)
			n += len(rows[i].HouseholdID)
		}
		sb.Reserve(hi - lo)
		sb.ReserveData(n)
		for i := lo; i < hi; i++ {
			sb.Append(rows[i].HouseholdID)
		}
		for j := range names {
			c := contrib[j]
			vals = vals[:len(idx)]
			for i, k := range idx {
				vals[i] = c[k]
			}
			b.Field(j+1).(*array.Float64Builder).AppendValues(vals, nil)
		}
		rec := b.NewRecordBatch()
		err := write(rec)
		rec.Release()
		if err != nil {
			return fmt.Errorf("write part table: %w", err)
		}
	}
	return closeW()
}

func writeJSON(w io.Writer, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// policyPart is the part half of summary.json's policy lines: per entry
// and fallback, the households and the value of the first household (by
// household_id) that has it.
type policyPart struct {
	Entry      string  `json:"entry"`
	Fallback   string  `json:"fallback"`
	FirstID    string  `json:"first_id"`
	Value      float64 `json:"value"`
	Households int     `json:"households"`
}

// policyPartial groups a part's households by the policy entry applied
// (ids sorted, so the first seen is the first by household_id).
func policyPartial(ids, entry, fallback []string, value []float64) []policyPart {
	type key struct{ entry, fallback string }
	seen := map[key]int{}
	var out []policyPart
	for i := range entry {
		k := key{entry[i], fallback[i]}
		j, ok := seen[k]
		if !ok {
			j = len(out)
			seen[k] = j
			out = append(out, policyPart{Entry: k.entry, Fallback: k.fallback, FirstID: ids[i], Value: nanZero(value[i])})
		}
		out[j].Households++
	}
	return out
}

func nanZero(v float64) float64 {
	if v != v {
		return 0
	}
	return v
}
