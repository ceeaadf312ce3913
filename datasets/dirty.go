package datasets

import (
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
)

// Defect kinds injected by GenerateOptions.Dirty, one per defective row.
const (
	DefectBadType         = "bad_type"         // non-numeric money, bad int or bool
	DefectUnknownCode     = "unknown_code"     // a value outside an enum's code list
	DefectOrphan          = "orphan"           // a reference to a key that does not exist
	DefectDuplicateKey    = "duplicate_key"    // a second row with the key of an earlier row
	DefectBadDate         = "bad_date"         // a malformed or impossible date or month
	DefectOutOfRange      = "out_of_range"     // an int outside its bounds
	DefectMissingRequired = "missing_required" // an empty non-nullable field
	DefectBadRegion       = "bad_region"       // a region code of the wrong length
)

// defectKinds lists every defect kind, in the order the dirtier draws them.
var defectKinds = []string{DefectBadType, DefectUnknownCode, DefectOrphan, DefectDuplicateKey, DefectBadDate, DefectOutOfRange, DefectMissingRequired, DefectBadRegion}

// DefectKinds returns every defect kind (a fresh copy).
func DefectKinds() []string { return slices.Clone(defectKinds) }

// defectChoice is one (kind, column) a table can receive.
type defectChoice struct {
	kind string
	col  int    // column index; -1 for duplicate_key
	name string // column name reported in the sidecar
}

// defectChoices lists, per kind, the columns of t that can carry it.
func defectChoices(t Table) map[string][]defectChoice {
	m := map[string][]defectChoice{}
	for i, c := range t.Columns {
		add := func(kind string) { m[kind] = append(m[kind], defectChoice{kind, i, c.Name}) }
		switch c.Kind {
		case Money, Int, Bool:
			add(DefectBadType)
		case Enum:
			add(DefectUnknownCode)
		case Date, Month:
			add(DefectBadDate)
		case Region:
			add(DefectBadRegion)
		}
		if c.Kind == Int && (c.Min != 0 || c.Max != 0) {
			add(DefectOutOfRange)
		}
		if c.Ref != "" {
			add(DefectOrphan)
		}
		if !c.Nullable {
			add(DefectMissingRequired)
		}
	}
	if len(t.Key) > 0 {
		m[DefectDuplicateKey] = []defectChoice{{DefectDuplicateKey, -1, strings.Join(t.Key, "+")}}
	}
	return m
}

// dirtier injects defects into the rows just appended to a table buffer.
// Every defective row is an extra row: a copy of a genuine row (given a
// fresh key, except for duplicate_key) with one field spoiled, so the
// genuine rows of a dirty drop are exactly those of the clean drop.
type dirtier struct {
	rate    float64
	seed    uint64
	cal     calendar
	pcg     *rand.PCG
	r       *rand.Rand
	n       int // defects injected for the current household
	tables  []Table
	kinds   [][]string // per table: the kinds it can receive, in defectKinds order
	choices []map[string][]defectChoice
	bufs    []*tableBuf
}

func newDirtier(rate float64, seed uint64, cal calendar, bufs []*tableBuf) *dirtier {
	d := &dirtier{rate: rate, seed: seed, cal: cal, bufs: bufs, tables: standard}
	d.pcg = rand.NewPCG(0, 0)
	d.r = rand.New(d.pcg)
	for _, t := range standard[:nTables] {
		ch := defectChoices(t)
		var ks []string
		for _, k := range defectKinds {
			if len(ch[k]) > 0 {
				ks = append(ks, k)
			}
		}
		d.kinds = append(d.kinds, ks)
		d.choices = append(d.choices, ch)
	}
	return d
}

// begin starts the defects of household idx (-1: the region-level rows).
func (d *dirtier) begin(idx int) {
	if d == nil || d.rate == 0 {
		return
	}
	d.pcg.Seed(d.seed, uint64(idx+1)<<8|streamDirty)
	d.n = 0
}

// maybe spoils a copy of the last row of table ti with probability rate.
func (d *dirtier) maybe(ti int) {
	if d == nil || d.rate == 0 || !chance(d.r, d.rate) {
		return
	}
	b := d.bufs[ti]
	t := d.tables[ti]
	src := b.rows() - 1
	kind := d.kinds[ti][d.r.IntN(len(d.kinds[ti]))]
	chs := d.choices[ti][kind]
	ch := chs[d.r.IntN(len(chs))]
	d.n++
	var repl []fieldRepl
	if kind != DefectDuplicateKey && len(t.Key) > 0 {
		repl = append(repl, d.freshKey(t, b, src))
	}
	if kind != DefectDuplicateKey {
		repl = append(repl, fieldRepl{ch.col, d.spoil(kind, t.Columns[ch.col], string(b.field(src, ch.col)))})
	}
	b.copyRow(src, repl)
	b.defects = append(b.defects, defect{row: b.rows() - 1, col: ch.name, kind: kind})
}

// freshKey changes the copy's key so that it collides with no row.
func (d *dirtier) freshKey(t Table, b *tableBuf, src int) fieldRepl {
	switch t.Name {
	case "income_records", "social_insurance":
		// a month before the data start, distinct per defect of the household
		ci := columnIndex(t, "period")
		return fieldRepl{ci, string(d.cal.appendMonth(nil, -d.n))}
	case "person_events":
		// a day just before the data start, distinct per defect of the
		// household (genuine events before the start are a term start or
		// at least 31 days before it)
		ci := columnIndex(t, "event_date")
		return fieldRepl{ci, string(appendDate(nil, d.cal.first(0)-day(d.n)))}
	default:
		ci := columnIndex(t, t.Key[0])
		return fieldRepl{ci, string(b.field(src, ci)) + "D" + strconv.Itoa(d.n)}
	}
}

func columnIndex(t Table, name string) int {
	for i, c := range t.Columns {
		if c.Name == name {
			return i
		}
	}
	panic("datasets: no column " + name + " in " + t.Name)
}

// spoil returns the bad value of a field for a defect kind.
func (d *dirtier) spoil(kind string, c Column, v string) string {
	pick := func(xs ...string) string { return xs[d.r.IntN(len(xs))] }
	switch kind {
	case DefectBadType:
		switch c.Kind {
		case Money:
			return pick("12.5元", "#VALUE!", "abc", "1.2.3")
		case Int:
			return pick("x2", "三", "1e")
		default:
			return pick("maybe", "unknown", "2")
		}
	case DefectUnknownCode:
		return pick("UNKNOWN", "zz", "待定")
	case DefectOrphan:
		if c.Ref == "households" {
			return "HX" + strconv.Itoa(1000000+d.r.IntN(9000000))
		}
		return "PX" + strconv.Itoa(1000000+d.r.IntN(9000000))
	case DefectBadDate:
		if c.Kind == Month {
			return pick("2024-13", "2024-00", "24-5")
		}
		return pick("2024-13-45", "2023-02-30", "31.12.2024", "2024-1-")
	case DefectOutOfRange:
		if c.Max > 0 && c.Max < 100 {
			return strconv.FormatInt(c.Max+3+int64(d.r.IntN(5)), 10)
		}
		return strconv.FormatInt(c.Min-100-int64(d.r.IntN(50)), 10)
	case DefectMissingRequired:
		return ""
	case DefectBadRegion:
		if len(v) > 1 {
			return v[:len(v)-1]
		}
		return "52012"
	}
	panic("datasets: unknown defect kind " + kind)
}
