package datasets

import (
	"bufio"
	"compress/gzip"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/povrisk/povrisk/engine/atomicfile"
	"github.com/povrisk/povrisk/engine/civil"
	"github.com/povrisk/povrisk/engine/fault"
)

// This file simulates the home visits of a night's work lists: it fills the
// four visit columns of every work list (R2 format, docs/contracts.md) with
// what a cadre would find, and writes the visits of households flagged by
// the rules only as a visit_outcomes CSV.

// VisitOptions configure SimulateVisits. Rates: 0 means the default, a
// negative rate means never.
type VisitOptions struct {
	// Run is a run directory (runs/<as_of>): its worklists/ are filled and
	// its ranked.csv gives the rule-only visits. Either Run or Worklists.
	Run       string
	Worklists string // a worklists directory; default Run/worklists
	Truth     string // the drop's ground truth (Out + ".truth.csv"); required unless Sim is set
	// Sim, when set, holds the options the drop was generated with
	// (Households, Months, Start, Seed): the simulation is rerun, long
	// enough to cover the 6 months after the as-of, writing nothing, and a
	// household is found at risk exactly when the simulator identifies it
	// in those months (its actual future; Truth and Drop are then unused).
	Sim *GenerateOptions
	// Drop is the drop directory (optional, without Sim): a household
	// identified in its monitoring_events (CSV or CSV.gz) within 6 months
	// after the as-of is found at risk; others by a draw from the truth.
	Drop string
	// RuleVisits is the CSV (visit_outcomes columns, source "rule") of
	// visits to households flagged by a rule but not in the county top k
	// (ranked.csv: rules not empty, in_top_k false); "" writes none.
	RuleVisits string
	RuleShare  float64   // share of those households visited; default 0.3
	AsOf       time.Time // the as-of when no work list names one; default from the work lists or Run's name
	VisitDate  time.Time // the last visit day; default 20 days after the as-of; visits spread over the 8 days up to it
	Seed       uint64
	NotReached float64 // default 0.08
	Moved      float64 // default 0.01
	Other      float64 // default 0.01
	Blank      float64 // rows left blank (not visited yet); default 0.03
}

// VisitReport counts what SimulateVisits wrote.
type VisitReport struct {
	AsOf          string         // YYYY-MM-DD
	Files         []string       // the work lists filled, in name order
	Sheets        int            // list sheets found (header row with 户编号 and 核查结果)
	Rows          int            // household rows of the work lists
	Blank         int            // rows left blank
	Filled        int            // rows already filled, left alone
	ByOutcome     map[string]int // outcome code -> rows written in the work lists
	RuleVisits    int            // rows of the rule-only CSV
	RuleByOutcome map[string]int
}

// Visited is the number of work-list rows filled by this call.
func (r *VisitReport) Visited() int {
	n := 0
	for _, c := range r.ByOutcome {
		n += c
	}
	return n
}

// VisitLabels maps the 核查结果 drop-down labels to the visit_outcomes codes
// (a fresh copy).
func VisitLabels() map[string]string {
	m := map[string]string{}
	for i, c := range visitOutcomes {
		m[visitLabelsZh[i]] = c
	}
	return m
}

// visitLabelsZh are the drop-down labels, in visitOutcomes order.
var visitLabelsZh = []string{"核实存在风险", "核实无风险", "未见到户", "已迁出", "其他"}

// Work-list header texts read and written here.
const (
	hdrHousehold = "户编号"
	hdrOutcome   = "核查结果"
	hdrDate      = "核查日期"
	hdrVisitor   = "核查人编号"
	hdrNote      = "备注"
)

// visitNotes are remarks a cadre may write: never personal data.
var visitNotes = map[string][]string{
	"confirmed":   {"已登记，拟纳入监测", "家庭收入明显下降，需跟进帮扶", "已告知帮扶政策"},
	"no_risk":     {"收入稳定", "家庭情况正常", "建议持续关注"},
	"not_reached": {"多次上门未见到户", "家中无人"},
	"moved":       {"已举家迁出"},
	"other":       {"情况待进一步核实"},
}

func (o *VisitOptions) defaults() error {
	if o.Worklists == "" && o.Run != "" {
		o.Worklists = filepath.Join(o.Run, "worklists")
	}
	rate := func(v *float64, def float64) {
		switch {
		case *v == 0:
			*v = def
		case *v < 0:
			*v = 0
		}
	}
	rate(&o.NotReached, 0.08)
	rate(&o.Moved, 0.01)
	rate(&o.Other, 0.01)
	rate(&o.Blank, 0.03)
	rate(&o.RuleShare, 0.3)
	switch {
	case o.Worklists == "":
		return fault.Wrap(fault.Usage, errors.New("simulate visits: no work lists: set Run or Worklists"))
	case o.Truth == "" && o.Sim == nil:
		return fault.Wrap(fault.Usage, errors.New("simulate visits: no ground truth: set Truth (the drop's .truth.csv) or Sim (the drop's generate options)"))
	case o.RuleVisits != "" && o.Run == "":
		return fault.Wrap(fault.Usage, errors.New("simulate visits: rule-only visits need the run directory (Run) for its ranked.csv"))
	case o.NotReached+o.Moved+o.Other+o.Blank >= 1:
		return fault.Wrap(fault.Usage, errors.New("simulate visits: the rates of not reached, moved, other and blank add up to 1 or more"))
	}
	return nil
}

// SimulateVisits fills every work list of o.Worklists in place (each saved
// atomically): for each household row whose 核查结果 is empty, the outcome
// label, the visit day as a date cell, a visitor code (V + 4 digits, three
// per township sheet) and sometimes a remark; a few rows are left blank.
// The true state found is confirmed when the household is identified
// within 6 months after the as-of (with o.Sim by the simulator rerun
// longer; else in the drop's monitoring_events, else by a draw with the
// truth's p_identified_6m), otherwise no_risk; a household
// may not be reached, have moved, or get "other". Every draw comes from
// PCG(Seed, household), so a household's visit does not depend on the
// files or their order. With o.RuleVisits it also writes the rule-only
// visits. The same options give the same values.
func SimulateVisits(ctx context.Context, o VisitOptions) (*VisitReport, error) {
	if err := o.defaults(); err != nil {
		return nil, err
	}
	if fi, err := os.Stat(o.Worklists); err != nil || !fi.IsDir() {
		return nil, fault.Wrap(fault.BadInput, fmt.Errorf("simulate visits: %s is not a work-list directory (a run's worklists/)", o.Worklists))
	}
	all, err := filepath.Glob(filepath.Join(o.Worklists, "*.xlsx"))
	if err != nil {
		return nil, fmt.Errorf("simulate visits: %w", err)
	}
	var files []string
	for _, p := range all {
		if b := filepath.Base(p); !strings.HasPrefix(b, "~$") && !strings.HasPrefix(b, ".") { // no office lock files
			files = append(files, p)
		}
	}
	sort.Strings(files)
	rep := &VisitReport{ByOutcome: map[string]int{}, RuleByOutcome: map[string]int{}}
	asOf, err := worklistsAsOf(files, o)
	if err != nil {
		return nil, err
	}
	rep.AsOf = civil.Format(asOf)
	if o.VisitDate.IsZero() {
		o.VisitDate = asOf.AddDate(0, 0, 20)
	}
	var st *visitTruth
	if o.Sim != nil {
		st, err = simulatedFuture(ctx, *o.Sim, asOf)
	} else {
		st, err = loadVisitTruth(o, asOf)
	}
	if err != nil {
		return nil, err
	}
	var ruleIDs []string // read before any work list changes
	if o.RuleVisits != "" {
		if ruleIDs, err = ruleFlagged(o.Run); err != nil {
			return nil, err
		}
	}
	for fi, p := range files {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("simulate visits: %w", err)
		}
		if err := fillWorklist(p, fi, st, o, rep); err != nil {
			return nil, err
		}
		rep.Files = append(rep.Files, p)
	}
	if o.RuleVisits != "" {
		if err := writeRuleVisits(o, ruleIDs, st, rep); err != nil {
			return nil, err
		}
	}
	return rep, nil
}

// visitTruth is what decides the state a visit finds.
type visitTruth struct {
	asOf       time.Time
	p          map[string]float64 // p_identified_6m at the as-of
	identified map[string]bool    // identified in (as-of, as-of + 6 months] in the drop
}

// worklistsAsOf is the as-of of the work lists (their _povrisk sheets must
// agree), else o.AsOf, else the run directory's name.
func worklistsAsOf(files []string, o VisitOptions) (time.Time, error) {
	var found string
	for _, p := range files {
		f, err := excelize.OpenFile(p)
		if err != nil {
			return time.Time{}, fault.Wrap(fault.BadInput, fmt.Errorf("simulate visits: open %s: %w", p, err))
		}
		rows, _ := f.GetRows("_povrisk")
		f.Close()
		for _, r := range rows {
			if len(r) >= 2 && r[0] == "as_of" {
				if found != "" && found != r[1] {
					return time.Time{}, fault.Wrap(fault.BadInput, fmt.Errorf("simulate visits: %s is of %s, another work list of %s: fill one night's lists at a time", p, r[1], found))
				}
				found = r[1]
			}
		}
	}
	switch {
	case found != "":
		t, err := civil.Parse(found)
		if err != nil {
			return time.Time{}, fault.Wrap(fault.BadInput, fmt.Errorf("simulate visits: as_of %q of the work lists: %w", found, err))
		}
		return t, nil
	case !o.AsOf.IsZero():
		return o.AsOf, nil
	case o.Run != "":
		if t, err := civil.Parse(filepath.Base(filepath.Clean(o.Run))); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fault.Wrap(fault.Usage, errors.New("simulate visits: no as-of date: no work list names one; set AsOf"))
}

// simulatedFuture reruns the simulation of g long enough to cover the 6
// months after asOf (nothing is written: the Parquet path keeps the rows
// unencoded, and only monitoring events are read) and returns the
// households it identifies in (asOf, asOf + 6 months]. A longer run
// simulates the same months the same way: every draw of a month comes from
// the household's stream in the same order (the world's disasters too),
// so the months of the drop are the drop's (TestSimulatedFutureExtendsDrop).
func simulatedFuture(ctx context.Context, g GenerateOptions, asOf time.Time) (*visitTruth, error) {
	g.Out, g.Dirty, g.Encoding, g.Format, g.Progress, g.Reporter = "-", 0, "", "parquet", nil, nil
	if err := g.defaults(); err != nil {
		return nil, err
	}
	until := civil.AddMonths(asOf, 6)
	g.Months = max(g.Months, civil.MonthsBetween(g.Start, until)+1)
	if g.Months > 600 {
		return nil, fault.Wrap(fault.Usage, fmt.Errorf("simulate visits: as-of %s is too far after the start %s", civil.Format(asOf), civil.Format(g.Start)))
	}
	cal := startOf(g.Start)
	cal.months = g.Months
	st := &visitTruth{asOf: asOf, p: map[string]float64{}, identified: map[string]bool{}}
	from, to := []byte(civil.Format(asOf)), []byte(civil.Format(until))
	err := runChunks(ctx, g, newWorld(g.Seed, cal, g.Counties), func(res *chunkResult) error {
		b := res.bufs[tMonitoring]
		for r := 0; r < b.rows(); r++ {
			if d := b.field(r, 1); string(d) > string(from) && string(d) <= string(to) {
				st.identified[string(b.field(r, 0))] = true
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("simulate visits: rerun the simulation: %w", err)
	}
	return st, nil
}

// loadVisitTruth reads the truth at the latest as-of on or before asOf and
// the drop's identifications in the 6 months after asOf.
func loadVisitTruth(o VisitOptions, asOf time.Time) (*visitTruth, error) {
	st := &visitTruth{asOf: asOf, p: map[string]float64{}, identified: map[string]bool{}}
	day := civil.Format(asOf)
	best := ""
	err := readCSVFile(o.Truth, func(header map[string]int, rec []string) error {
		h, a, p := header["household_id"], header["as_of"], header["p_identified_6m"]
		if rec[a] > day {
			return nil
		}
		if rec[a] > best {
			best = rec[a]
			clear(st.p)
		}
		if rec[a] == best {
			v, err := strconv.ParseFloat(rec[p], 64)
			if err != nil {
				return fmt.Errorf("p_identified_6m %q: %w", rec[p], err)
			}
			st.p[rec[h]] = v
		}
		return nil
	}, "household_id", "as_of", "p_identified_6m")
	if err != nil {
		return nil, err
	}
	if best == "" {
		return nil, fault.Wrap(fault.BadInput, fmt.Errorf("simulate visits: %s has no as-of on or before %s: use the truth of the drop the run read", o.Truth, day))
	}
	if o.Drop == "" {
		return st, nil
	}
	path := ""
	for _, ext := range []string{".csv", ".csv.gz"} {
		if p := filepath.Join(o.Drop, "monitoring_events"+ext); fileExists(p) {
			path = p
			break
		}
	}
	if path == "" {
		return nil, fault.Wrap(fault.BadInput, fmt.Errorf("simulate visits: no monitoring_events.csv or .csv.gz in %s (a Parquet drop: leave Drop empty to use the truth alone)", o.Drop))
	}
	until := civil.Format(civil.AddMonths(asOf, 6))
	err = readCSVFile(path, func(header map[string]int, rec []string) error {
		if d := rec[header["identified_date"]]; d > day && d <= until {
			st.identified[rec[header["household_id"]]] = true
		}
		return nil
	}, "household_id", "identified_date")
	return st, err
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

// readCSVFile calls row for every record of a CSV (or CSV.gz) file with a
// header holding the named columns.
func readCSVFile(path string, row func(header map[string]int, rec []string) error, need ...string) error {
	f, err := os.Open(path)
	if err != nil {
		return fault.Wrap(fault.BadInput, fmt.Errorf("simulate visits: %w", err))
	}
	defer f.Close()
	var r io.Reader = bufio.NewReader(f)
	if strings.HasSuffix(path, ".gz") {
		zr, err := gzip.NewReader(r)
		if err != nil {
			return fault.Wrap(fault.BadInput, fmt.Errorf("simulate visits: %s: %w", path, err))
		}
		r = zr
	}
	cr := csv.NewReader(r)
	cr.ReuseRecord = true
	head, err := cr.Read()
	if err != nil {
		return fault.Wrap(fault.BadInput, fmt.Errorf("simulate visits: %s: header: %w", path, err))
	}
	header := map[string]int{}
	for i, h := range head {
		header[strings.TrimPrefix(h, "\ufeff")] = i
	}
	for _, n := range need {
		if _, ok := header[n]; !ok {
			return fault.Wrap(fault.BadInput, fmt.Errorf("simulate visits: %s has no column %s", path, n))
		}
	}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fault.Wrap(fault.BadInput, fmt.Errorf("simulate visits: %s: %w", path, err))
		}
		if err := row(header, rec); err != nil {
			return fault.Wrap(fault.BadInput, fmt.Errorf("simulate visits: %s: %w", path, err))
		}
	}
}

// visit is what a visit found.
type visit struct {
	outcome string // "" not visited
	date    time.Time
	visitor int // team member 1-3
	note    string
}

// drawVisit draws the visit of a household from its own stream.
func drawVisit(id string, st *visitTruth, o *VisitOptions, stream uint64) visit {
	h := fnv.New64a()
	h.Write([]byte(id))
	r := rand.New(rand.NewPCG(o.Seed, h.Sum64()^stream))
	v := visit{date: o.VisitDate.AddDate(0, 0, -r.IntN(8)), visitor: 1 + r.IntN(3)}
	if !v.date.After(st.asOf) {
		v.date = st.asOf.AddDate(0, 0, 1)
	}
	risk := st.identified[id] || r.Float64() < st.p[id]
	switch u := r.Float64(); {
	case u < o.Blank:
		return visit{}
	case u < o.Blank+o.NotReached:
		v.outcome = "not_reached"
	case u < o.Blank+o.NotReached+o.Moved:
		v.outcome = "moved"
	case u < o.Blank+o.NotReached+o.Moved+o.Other:
		v.outcome = "other"
	case risk:
		v.outcome = "confirmed"
	default:
		v.outcome = "no_risk"
	}
	if notes := visitNotes[v.outcome]; r.Float64() < 0.15 || v.outcome == "other" {
		v.note = notes[r.IntN(len(notes))]
	}
	return v
}

// Streams of the visit draws: the work lists' and the rule-only visits'.
const (
	streamVisitList uint64 = 0x5649534954000001
	streamVisitRule uint64 = 0x5649534954000002
)

// fillWorklist fills one work list and saves it atomically in place.
func fillWorklist(path string, fi int, st *visitTruth, o VisitOptions, rep *VisitReport) error {
	f, err := excelize.OpenFile(path)
	if err != nil {
		return fault.Wrap(fault.BadInput, fmt.Errorf("simulate visits: open %s: %w", path, err))
	}
	defer f.Close()
	dateStyles := map[int]int{}
	written := rep.Visited()
	for si, sheet := range f.GetSheetList() {
		if notListSheets[sheet] {
			continue
		}
		// three visitors per township sheet, distinct across the files
		team := (fi*100 + si) * 3
		if err := fillSheet(f, sheet, team, st, &o, rep, dateStyles); err != nil {
			return fmt.Errorf("simulate visits: %s, sheet %s: %w", path, sheet, err)
		}
	}
	if rep.Visited() == written {
		return nil // nothing to write: the file stays as it was
	}
	perm := os.FileMode(0o644)
	if fi, err := os.Stat(path); err == nil {
		perm = fi.Mode().Perm()
	}
	return atomicfile.Write(path, perm, func(w io.Writer) error {
		_, err := f.WriteTo(w)
		return err
	})
}

// notListSheets are the sheets of a work list that are not township lists.
var notListSheets = map[string]bool{"汇总": true, "风险消除评估": true, "说明": true, "_povrisk": true}

// fillSheet fills the visit columns of one sheet, when it is a list sheet:
// its header row (one of the first 20) holds 户编号 and 核查结果; every
// column is found by its header text.
func fillSheet(f *excelize.File, sheet string, team int, st *visitTruth, o *VisitOptions, rep *VisitReport, dateStyles map[int]int) error {
	rows, err := f.GetRows(sheet)
	if err != nil {
		return err
	}
	hr, col := -1, map[string]int{}
	for i := 0; i < len(rows) && i < 20 && hr < 0; i++ {
		c := map[string]int{}
		for j, v := range rows[i] {
			c[strings.TrimSpace(v)] = j
		}
		_, a := c[hdrHousehold]
		_, b := c[hdrOutcome]
		if a && b {
			hr, col = i, c
		}
	}
	if hr < 0 {
		return nil // not a list sheet
	}
	rep.Sheets++
	for _, h := range []string{hdrDate, hdrVisitor, hdrNote} {
		if _, ok := col[h]; !ok {
			return fault.Wrap(fault.BadInput, fmt.Errorf("no %s column beside 核查结果", h))
		}
	}
	labels := map[string]string{}
	for i, c := range visitOutcomes {
		labels[c] = visitLabelsZh[i]
	}
	cell := func(c, r int) string { n, _ := excelize.CoordinatesToCellName(c+1, r+1); return n }
	for ri := hr + 1; ri < len(rows); ri++ {
		row := rows[ri]
		get := func(h string) string {
			if j := col[h]; j < len(row) {
				return strings.TrimSpace(row[j])
			}
			return ""
		}
		id := get(hdrHousehold)
		if id == "" {
			continue
		}
		rep.Rows++
		if get(hdrOutcome) != "" {
			rep.Filled++
			continue
		}
		v := drawVisit(id, st, o, streamVisitList)
		if v.outcome == "" {
			rep.Blank++
			continue
		}
		rep.ByOutcome[v.outcome]++
		if err := f.SetCellStr(sheet, cell(col[hdrOutcome], ri), labels[v.outcome]); err != nil {
			return err
		}
		dc := cell(col[hdrDate], ri)
		if err := setDateCell(f, sheet, dc, v.date, dateStyles); err != nil {
			return err
		}
		if err := f.SetCellStr(sheet, cell(col[hdrVisitor], ri), fmt.Sprintf("V%04d", team+v.visitor)); err != nil {
			return err
		}
		if v.note != "" {
			if err := f.SetCellStr(sheet, cell(col[hdrNote], ri), v.note); err != nil {
				return err
			}
		}
	}
	return nil
}

// setDateCell writes a date cell (an Excel serial with the yyyy-mm-dd
// format), keeping the rest of the cell's style (its protection).
func setDateCell(f *excelize.File, sheet, cell string, d time.Time, styles map[int]int) error {
	old, err := f.GetCellStyle(sheet, cell)
	if err != nil {
		return err
	}
	sid, ok := styles[old]
	if !ok {
		s, err := f.GetStyle(old)
		if err != nil || s == nil {
			s = &excelize.Style{}
		}
		format := "yyyy-mm-dd"
		s.CustomNumFmt, s.NumFmt = &format, 0
		if sid, err = f.NewStyle(s); err != nil {
			return err
		}
		styles[old] = sid
	}
	if err := f.SetCellValue(sheet, cell, d); err != nil {
		return err
	}
	return f.SetCellStyle(sheet, cell, cell, sid)
}

// ruleFlagged lists, sorted, the households of the run's ranked.csv
// flagged by a rule but not in the county top k.
func ruleFlagged(run string) ([]string, error) {
	var ids []string
	err := readCSVFile(filepath.Join(run, "ranked.csv"), func(h map[string]int, rec []string) error {
		if strings.TrimSpace(rec[h["rules"]]) != "" && rec[h["in_top_k"]] != "true" {
			ids = append(ids, strings.Clone(rec[h["household_id"]]))
		}
		return nil
	}, "household_id", "rules", "in_top_k")
	sort.Strings(ids)
	return ids, err
}

// writeRuleVisits writes the visits of a share of the households flagged by
// a rule but not in the county top k: visit_outcomes columns, source rule,
// sorted by household.
func writeRuleVisits(o VisitOptions, ids []string, st *visitTruth, rep *VisitReport) error {
	return atomicfile.Write(o.RuleVisits, 0o644, func(w io.Writer) error {
		cw := csv.NewWriter(w)
		cw.Write([]string{"household_id", "visit_date", "outcome", "source", "visitor_code", "note"})
		for _, id := range ids {
			hsh := fnv.New64a()
			hsh.Write([]byte(id))
			if rand.New(rand.NewPCG(o.Seed, hsh.Sum64()^(streamVisitRule+1))).Float64() >= o.RuleShare {
				continue
			}
			v := drawVisit(id, st, &o, streamVisitRule)
			if v.outcome == "" {
				continue
			}
			rep.RuleVisits++
			rep.RuleByOutcome[v.outcome]++
			cw.Write([]string{id, civil.Format(v.date), v.outcome, "rule", fmt.Sprintf("R%04d", v.visitor), v.note})
		}
		cw.Flush()
		return cw.Error()
	})
}
