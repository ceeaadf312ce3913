package ingest

import (
	"bufio"
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/povrisk/povrisk/datasets"
)

// sentinelOfKind maps the simulator's defect kinds to our reject reasons.
var sentinelOfKind = map[string]error{
	datasets.DefectBadType:         ErrType,
	datasets.DefectUnknownCode:     ErrCode,
	datasets.DefectOrphan:          ErrOrphan,
	datasets.DefectDuplicateKey:    ErrDuplicate,
	datasets.DefectBadDate:         ErrDate,
	datasets.DefectOutOfRange:      ErrRange,
	datasets.DefectMissingRequired: ErrMissing,
	datasets.DefectBadRegion:       ErrCode,
}

// TestGeneratedDirty ingests simulated dirty drops: for every table read =
// accepted + rejected, and the rejected rows are exactly the defects of the
// simulator's sidecar (table, line, column and kind), whatever the format
// and encoding.
func TestGeneratedDirty(t *testing.T) {
	for _, tc := range []struct{ format, encoding string }{{"csv", ""}, {"csv", "gb18030"}, {"csv.gz", ""}} {
		t.Run(tc.format+tc.encoding, func(t *testing.T) {
			dir := t.TempDir()
			drop := filepath.Join(dir, "drop")
			gr, err := datasets.Generate(context.Background(), datasets.GenerateOptions{
				Households: 300, Months: 8, Seed: 7, Out: drop, Dirty: 0.05, Format: tc.format, Encoding: tc.encoding})
			if err != nil {
				t.Fatal(err)
			}
			wh := filepath.Join(dir, "wh")
			rep := ingestShare(t, drop, wh, 1) // 5% dirty rows on purpose
			generated := map[string]int64{}
			for _, g := range gr.Tables {
				generated[g.Name] = g.Rows
			}
			type defect struct{ table, line, column, kind string }
			var want, got []defect
			f, err := os.Open(gr.Defects)
			if err != nil {
				t.Fatal(err)
			}
			rows, err := csv.NewReader(bufio.NewReader(f)).ReadAll()
			f.Close()
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range rows[1:] {
				want = append(want, defect{r[0], r[1], r[2], r[3]})
			}
			for _, tr := range rep.Tables {
				if tr.Error != "" {
					t.Errorf("%s: %s", tr.Table, tr.Error)
				}
				if tr.Read != tr.Accepted+tr.Rejected || tr.Read != generated[tr.Table] {
					t.Errorf("%s: read %d accepted %d rejected %d; generated %d", tr.Table, tr.Read, tr.Accepted, tr.Rejected, generated[tr.Table])
				}
				if tr.RejectFile == "" {
					continue
				}
				rf, err := os.Open(filepath.Join(wh, tr.RejectFile))
				if err != nil {
					t.Fatal(err)
				}
				rr, err := csv.NewReader(rf).ReadAll()
				rf.Close()
				if err != nil {
					t.Fatal(err)
				}
				for _, r := range rr[1:] {
					kind := "?"
					for k, s := range sentinelOfKind {
						if strings.HasPrefix(r[3], s.Error()) {
							kind = k
							if k == datasets.DefectBadRegion && !strings.Contains(r[3], "region code") {
								continue
							}
							if k == datasets.DefectUnknownCode && strings.Contains(r[3], "region code") {
								continue
							}
							break
						}
					}
					got = append(got, defect{tr.Table, r[1], r[2], kind})
				}
			}
			less := func(d []defect) func(i, j int) bool {
				return func(i, j int) bool {
					if d[i].table != d[j].table {
						return d[i].table < d[j].table
					}
					return len(d[i].line) < len(d[j].line) || len(d[i].line) == len(d[j].line) && d[i].line < d[j].line
				}
			}
			sort.Slice(want, less(want))
			sort.Slice(got, less(got))
			if len(want) == 0 {
				t.Fatal("the simulator injected no defects")
			}
			n := max(len(want), len(got))
			bad := 0
			for i := 0; i < n && bad < 10; i++ {
				var w, g defect
				if i < len(want) {
					w = want[i]
				}
				if i < len(got) {
					g = got[i]
				}
				if w != g {
					t.Errorf("defect %d: rejected %+v, sidecar %+v", i, g, w)
					bad++
				}
			}
		})
	}
}

// TestGeneratedFormats: the same simulated drop written as CSV (UTF-8 and
// GB18030), CSV.gz and Parquet loads to the same warehouse tables.
func TestGeneratedFormats(t *testing.T) {
	var want map[string]string
	for _, tc := range []struct{ format, encoding string }{{"csv", ""}, {"csv", "gb18030"}, {"csv.gz", ""}, {"parquet", ""}} {
		dir := t.TempDir()
		drop := filepath.Join(dir, "drop")
		if _, err := datasets.Generate(context.Background(), datasets.GenerateOptions{
			Households: 200, Months: 8, Seed: 3, Out: drop, Format: tc.format, Encoding: tc.encoding}); err != nil {
			t.Fatal(err)
		}
		wh := filepath.Join(dir, "wh")
		rep := ingestT(t, drop, wh)
		got := map[string]string{}
		for _, tr := range rep.Tables {
			if tr.Rejected != 0 || tr.Error != "" || tr.Accepted == 0 {
				t.Errorf("%s %s: accepted %d rejected %d error %q", tc.format, tr.Table, tr.Accepted, tr.Rejected, tr.Error)
			}
			got[tr.Table] = dumpTable(t, wh, tr.Table)
		}
		if want == nil {
			want = got
			continue
		}
		for tb, w := range want {
			if got[tb] != w {
				t.Errorf("%s %s: table %s differs from the CSV drop's", tc.format, tc.encoding, tb)
			}
		}
	}
}

// TestGeneratedPersonalData: a simulated dirty drop whose persons file
// carries the ID numbers also in an extra column (户主身份证号码) and in an
// innocently named one (remark), the way the attack on masked IDs found
// them: no file of the warehouse (tables, rejects, manifests) holds an ID
// number or its last 8 characters, reject rows show id_number as a
// pseudonym or a placeholder, and the report names both columns with their
// counts.
func TestGeneratedPersonalData(t *testing.T) {
	dir := t.TempDir()
	drop := filepath.Join(dir, "drop")
	if _, err := datasets.Generate(context.Background(), datasets.GenerateOptions{
		Households: 300, Months: 8, Seed: 11, Out: drop, Dirty: 0.05}); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(drop, "persons.csv")
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(bufio.NewReader(f)).ReadAll()
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	idc := -1
	for i, h := range rows[0] {
		if h == "id_number" {
			idc = i
		}
	}
	var ids []string
	withID := int64(0)
	for i, r := range rows {
		extra := []string{"户主身份证号码", "remark"}
		if i > 0 {
			extra = []string{r[idc], r[idc]}
			if looksLikeID([]byte(r[idc])) {
				ids = append(ids, r[idc])
				withID++
			}
		}
		rows[i] = append(r, extra...)
	}
	if len(ids) < 500 {
		t.Fatalf("only %d ID numbers in the simulated persons", len(ids))
	}
	var buf strings.Builder
	w := csv.NewWriter(&buf)
	w.WriteAll(rows)
	writeFile(t, p, []byte(buf.String()))

	wh := filepath.Join(dir, "wh")
	rep := ingestShare(t, drop, wh, 1) // the dirty drop rejects more than 5% on purpose
	var persons TableReport
	for _, tr := range rep.Tables {
		if tr.Table == "persons" {
			persons = tr
		}
	}
	if persons.Rejected == 0 || persons.RejectFile == "" {
		t.Fatalf("persons: no rejects to look at: %+v", persons)
	}
	got := map[string]int64{}
	for _, pc := range persons.Personal {
		got[pc.Column] = pc.IDNumbers
	}
	// Every row with the right number of fields is scanned; the dirty rows
	// with an ID number all have it.
	if got["户主身份证号码"] < withID-persons.Rejected || got["remark"] != got["户主身份证号码"] {
		t.Errorf("personal columns %v, want about %d ID numbers each", got, withID)
	}
	var clear []string
	for _, id := range ids {
		clear = append(clear, id, id[len(id)-8:])
	}
	assertNoClear(t, wh, clear)
	rf, err := os.Open(filepath.Join(wh, persons.RejectFile))
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(rf).ReadAll()
	rf.Close()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs[1:] {
		if longDigits(r[3]) || longDigits(pseudonymRE.ReplaceAllString(r[4], "id:")) {
			t.Errorf("reject row holds a long digit run: %q", r)
		}
		fields, err := csv.NewReader(strings.NewReader(r[4])).Read()
		if err != nil || len(fields) != len(rows[0]) {
			continue // a malformed row: its text is withheld
		}
		if v := fields[idc]; v != "" && v != idNoKey && !(len(v) == 67 && strings.HasPrefix(v, "id:")) {
			t.Errorf("line %s: id_number shown as %q", r[1], v)
		}
	}
}

// pseudonymRE matches a pseudonym in a reject row (its hex may hold digit runs).
var pseudonymRE = regexp.MustCompile(`id:[0-9a-f]{64}`)
