package brief

import (
	"bytes"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestProtect(t *testing.T) {
	for _, tc := range []struct {
		name        string
		ns          []int
		hidden, sec []bool
	}{
		{"none small", []int{10, 7, 5}, []bool{false, false, false}, []bool{false, false, false}},
		{"one small hides the next smallest", []int{10, 3, 7, 9}, []bool{false, true, true, false}, []bool{false, false, true, false}},
		{"two small are enough", []int{10, 3, 0, 9}, []bool{false, true, true, false}, []bool{false, false, false, false}},
		{"zero counts as small", []int{0, 12}, []bool{true, true}, []bool{false, true}},
		{"ties take the first", []int{6, 2, 6}, []bool{true, true, false}, []bool{true, false, false}},
		{"single cell", []int{3}, []bool{true}, []bool{false}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, s := protect(tc.ns)
			if !reflect.DeepEqual(h, tc.hidden) || !reflect.DeepEqual(s, tc.sec) {
				t.Errorf("protect(%v) = %v, %v; want %v, %v", tc.ns, h, s, tc.hidden, tc.sec)
			}
		})
	}
}

func TestMonthBefore(t *testing.T) {
	for _, tc := range []struct {
		in   string
		n    int
		want string
	}{
		{"2025-12-31", 1, "2025-11-30"},
		{"2025-03-31", 1, "2025-02-28"},
		{"2024-03-31", 1, "2024-02-29"},
		{"2025-01-15", 1, "2024-12-15"},
		{"2025-12-31", 2, "2025-10-31"},
		{"2025-08-31", 6, "2025-02-28"},
	} {
		in, _ := time.Parse(time.DateOnly, tc.in)
		if got := monthBefore(in, tc.n).Format(time.DateOnly); got != tc.want {
			t.Errorf("monthBefore(%s, %d) = %s, want %s", tc.in, tc.n, got, tc.want)
		}
	}
}

// TestStale: the brief shows the run's verdict on freshness (decided with
// the policy's cadences, engine/run TestStaleTables) and how many months
// back the latest date lies; it never judges again.
func TestStale(t *testing.T) {
	asOf, _ := time.Parse(time.DateOnly, "2025-12-31")
	for _, tc := range []struct {
		table, latest string
		cadence       int
		stale, judged bool
		months        int
	}{
		{"medical_claims", "2025-12-28", 1, false, true, 0},
		{"medical_claims", "2025-09-30", 1, true, true, 3},
		{"education", "2025-03-01", 6, true, true, 9},
		{"education", "2025-09-01", 6, false, true, 3},
		{"households", "2015-12-24", 0, false, false, 120}, // registrations are not judged
	} {
		var s Summary
		s.AsOf = "2025-12-31"
		s.Coverage = append(s.Coverage, TableCoverage{Table: tc.table, Present: true, Rows: 1, Latest: tc.latest, CadenceMonths: tc.cadence, Stale: tc.stale})
		got := coverageRows(&s, asOf)[0]
		if got.Stale != tc.stale || got.Judged != tc.judged || got.MonthsBack != tc.months || got.Cadence != tc.cadence {
			t.Errorf("%s latest %s: stale %v judged %v, %d months, cadence %d; want %v %v, %d, %d",
				tc.table, tc.latest, got.Stale, got.Judged, got.MonthsBack, got.Cadence, tc.stale, tc.judged, tc.months, tc.cadence)
		}
	}
	f := &facts{Coverage: []coverageRow{{Table: "income_records", Judged: true, Cadence: 1}, {Table: "households"}, {Table: "monitoring_events", Judged: true, Cadence: 3}}}
	if got, want := freshnessNote(f, "en"), "(income_records every month, monitoring_events every 3 months)"; !strings.Contains(got, want) {
		t.Errorf("freshness note %q lacks %q", got, want)
	}
}

func TestLoadUnitCosts(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, tc := range []struct {
		name, file, body string
		want             map[string]float64 // the entries that differ from the default
		err              string
	}{
		{"toml flat", "c.toml", "medical_aid = 3500\ndibao = 5200.5\n", map[string]float64{"medical_aid": 3500, "dibao": 5200.5}, ""},
		{"toml table", "c.toml", "[unit_costs]\nhousing_aid = 25000\n", map[string]float64{"housing_aid": 25000}, ""},
		{"json", "c.json", `{"temporary": 2000}`, map[string]float64{"temporary": 2000}, ""},
		{"unknown measure", "c.toml", "cash = 1\n", nil, `"cash" is not a measure`},
		{"negative", "c.json", `{"dibao": -1}`, nil, "negative"},
		{"not a number", "c.json", `{"dibao": "many"}`, nil, "is not a number"},
		{"bad extension", "c.yaml", "dibao: 1\n", nil, "use a .toml or .json file"},
		{"empty toml", "c.toml", "", nil, "names no measure"},
		{"empty table", "c.toml", "[unit_costs]\n", nil, "names no measure"},
		{"empty json", "c.json", "{}", nil, "names no measure"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := LoadUnitCosts(write(tc.file, tc.body))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want one saying %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := DefaultUnitCosts()
			for k, v := range tc.want {
				want[k] = v
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("got %v, want %v", got, want)
			}
		})
	}
}

// TestInkShare: the blank-chart check tells a blank image from a drawn one.
func TestInkShare(t *testing.T) {
	blank := image.NewRGBA(image.Rect(0, 0, 100, 50))
	draw.Draw(blank, blank.Bounds(), image.White, image.Point{}, draw.Src)
	drawn := image.NewRGBA(blank.Bounds())
	draw.Draw(drawn, drawn.Bounds(), image.White, image.Point{}, draw.Src)
	draw.Draw(drawn, image.Rect(10, 10, 60, 30), &image.Uniform{color.RGBA{0x1f, 0x4e, 0x79, 0xff}}, image.Point{}, draw.Src)
	for _, tc := range []struct {
		name          string
		img           image.Image
		ink, coloured float64
	}{
		{"blank", blank, 0, 0},
		{"bar", drawn, 0.2, 0.2}, // 50x20 of 100x50
	} {
		var buf bytes.Buffer
		if err := png.Encode(&buf, tc.img); err != nil {
			t.Fatal(err)
		}
		ink, col := inkShare(t, buf.Bytes())
		if math.Abs(ink-tc.ink) > 1e-9 || math.Abs(col-tc.coloured) > 1e-9 {
			t.Errorf("%s: ink %v coloured %v, want %v %v", tc.name, ink, col, tc.ink, tc.coloured)
		}
	}
}

// TestMonthsBetween: whole months from a to b, hand-worked, and the same as
// counting monthBefore steps one at a time (the former definition) over two
// years of day pairs.
func TestMonthsBetween(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"2025-10-31", "2025-12-31", 2},
		{"2025-10-30", "2025-12-31", 2},
		{"2025-11-30", "2025-12-31", 1}, // Nov 30 is the clamped month before Dec 31
		{"2025-12-01", "2025-12-31", 0},
		{"2025-09-15", "2025-12-31", 3},
		{"2025-03-01", "2025-12-31", 9},
		{"2015-12-24", "2025-12-31", 120},
		{"2025-12-31", "2025-10-31", 0},  // b before a
		{"2024-02-29", "2025-02-28", 11}, // 2025-02-28 less 12 months is 2024-02-28, a day short
	} {
		a, _ := time.Parse(time.DateOnly, tc.a)
		b, _ := time.Parse(time.DateOnly, tc.b)
		if got := monthsBetween(a, b); got != tc.want {
			t.Errorf("monthsBetween(%s, %s) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
	loop := func(a, b time.Time) int {
		n := 0
		for !monthBefore(b, n+1).Before(a) {
			n++
		}
		return n
	}
	b, _ := time.Parse(time.DateOnly, "2025-12-31")
	for d := 0; d < 800; d += 3 {
		bb := b.AddDate(0, 0, -d%40)
		a := b.AddDate(0, 0, -d)
		if got, want := monthsBetween(a, bb), loop(a, bb); got != want {
			t.Errorf("monthsBetween(%s, %s) = %d, the step count gives %d", a.Format(time.DateOnly), bb.Format(time.DateOnly), got, want)
		}
	}
}
