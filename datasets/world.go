package datasets

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"strconv"
	"time"

	"github.com/povrisk/povrisk/engine/civil"
)

// This file holds the simulated world that every household shares: the
// calendar, the region tree, the disasters by region, and the generators of
// names, phone numbers and ID numbers.

// day is a calendar day as days since 1970-01-01 (the Arrow date32 value).
type day int32

// dayOf converts a civil date to a day (proleptic Gregorian).
func dayOf(y, m, d int) day { return day(civil.DaysFromCivil(y, m, d)) }

// ymd converts a day back to year, month, day.
func (t day) ymd() (y, m, d int) { return civil.CivilFromDays(int64(t)) }

// appendDate appends YYYY-MM-DD.
func appendDate(b []byte, t day) []byte {
	y, m, d := t.ymd()
	b = append4(b, y)
	b = append(b, '-', byte('0'+m/10), byte('0'+m%10), '-', byte('0'+d/10), byte('0'+d%10))
	return b
}

func append4(b []byte, y int) []byte {
	return append(b, byte('0'+y/1000%10), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10))
}

// calendar maps month indexes of the simulation (0 = the start month) to
// civil months.
type calendar struct {
	y0, m0 int // the start month
	months int
}

// ym returns the civil year and month of month index i (may be negative).
func (c calendar) ym(i int) (int, int) {
	k := c.y0*12 + (c.m0 - 1) + i
	y := k / 12
	if k < 0 && k%12 != 0 {
		y--
	}
	return y, k - y*12 + 1
}

// first is the first day of month i.
func (c calendar) first(i int) day { y, m := c.ym(i); return dayOf(y, m, 1) }

// last is the last day of month i.
func (c calendar) last(i int) day { return c.first(i+1) - 1 }

// days is the number of days in month i.
func (c calendar) days(i int) int { return int(c.first(i+1) - c.first(i)) }

// month is the calendar month (1-12) of index i.
func (c calendar) month(i int) int { _, m := c.ym(i); return m }

// appendMonth appends YYYY-MM.
func (c calendar) appendMonth(b []byte, i int) []byte {
	y, m := c.ym(i)
	b = append4(b, y)
	return append(b, '-', byte('0'+m/10), byte('0'+m%10))
}

// dayIn returns a uniformly drawn day of month i.
func (c calendar) dayIn(r *rand.Rand, i int) day { return c.first(i) + day(r.IntN(c.days(i))) }

// monthOf returns the month index of a day.
func (c calendar) monthOf(t day) int {
	y, m, _ := t.ymd()
	return (y*12 + m - 1) - (c.y0*12 + c.m0 - 1)
}

// county is one simulated county: its 6-digit code, its Chinese name, and
// where its townships and villages start in the world's county-major lists.
type county struct {
	code, name string
	towns      int // townships
	firstTown  int // index of its first township in world.townships
	firstVill  int // index of its first village in world.villages
}

// villages is the number of villages of c.
func (c county) villages() int { return c.towns * villagesPerTown }

// simCounties are real county codes of Guizhou (52) and Yunnan (53), so that
// two provincial monitoring lines apply. A world of more counties adds
// simulated ones (simulatedCounties).
var simCounties = []county{
	{code: "520121", name: "开阳县"},
	{code: "520123", name: "修文县"},
	{code: "520326", name: "务川仡佬族苗族自治县"},
	{code: "530426", name: "峨山彝族自治县"},
	{code: "530623", name: "盐津县"},
	{code: "530627", name: "镇雄县"},
}

const (
	townshipsPerCounty = 6 // of the real counties
	villagesPerTown    = 8
	// DefaultCounties is the number of counties of a generated drop when
	// GenerateOptions.Counties is 0: the real ones of simCounties.
	DefaultCounties = 6
	// MaxCounties bounds GenerateOptions.Counties (China has about 2,800
	// county-level divisions).
	MaxCounties = 3000
	// Townships of a simulated county: minTowns to maxTowns, uniformly, so
	// that its households (drawn uniformly over villages) vary fourfold as
	// real counties do.
	minTowns, maxTowns = 3, 12
)

// worldCounties returns the n counties of a world: the first n real ones,
// then simulated ones drawn from r (alternately in Guizhou and Yunnan; a
// code of prefecture 21-99 not among the real ones, a name of two
// syllables and 县, and minTowns to maxTowns townships), each with its
// offsets into the county-major township and village lists.
func worldCounties(n int, r *rand.Rand) []county {
	cs := make([]county, 0, n)
	used := map[string]bool{}
	names := map[string]bool{}
	for _, c := range simCounties[:min(n, len(simCounties))] {
		c.towns = townshipsPerCounty
		cs = append(cs, c)
		used[c.code], names[c.name] = true, true
	}
	next := [2]int{} // simulated counties so far, per province
	for len(cs) < n {
		p := len(cs) % 2
		var c county
		for {
			k := next[p]
			next[p]++
			c.code = fmt.Sprintf("%s%02d%02d", [2]string{"52", "53"}[p], 21+k/99, 1+k%99)
			if !used[c.code] {
				break
			}
		}
		for {
			c.name = twoSyllables(r) + "县"
			if !names[c.name] {
				break
			}
		}
		c.towns = minTowns + r.IntN(maxTowns-minTowns+1)
		used[c.code], names[c.name] = true, true
		cs = append(cs, c)
	}
	towns, vills := 0, 0
	for i := range cs {
		cs[i].firstTown, cs[i].firstVill = towns, vills
		towns += cs[i].towns
		vills += cs[i].villages()
	}
	return cs
}

// twoSyllables draws a place name of two different syllables.
func twoSyllables(r *rand.Rand) string {
	a := r.IntN(len(placeSyllables))
	b := (a + 1 + r.IntN(len(placeSyllables)-1)) % len(placeSyllables)
	return placeSyllables[a] + placeSyllables[b]
}

// village is one 12-digit region with its Chinese name.
type village struct {
	code   string
	name   string
	county int // index into world.counties
	town   int // township index within the county
	idx    int // index into world.villages
}

// disasterEvent is a disaster recorded for a region prefix.
type disasterEvent struct {
	id       string
	prefix   string // 6, 9 or 12 digits
	month    int
	start    day
	kind     string
	severity int
}

// world is what every household shares.
type world struct {
	cal       calendar
	seed      uint64
	counties  []county
	townships []township // county-major, county.towns per county
	villages  []village
	disasters []disasterEvent
	byVillage [][]int // disaster indexes exposing each village, in month order
	// disasterRate is the expected monthly shock weight of disasters on a
	// fully farming household of each village (for the truth).
	disasterRate []float64
}

// Syllables and endings of the simulated place names (names are public,
// not personal data; they are drawn, not real).
var (
	placeSyllables = []string{"青", "松", "石", "龙", "凤", "河", "山", "坪", "田", "花", "桥", "竹", "岩", "水", "新", "安", "和", "平", "兴", "云", "白", "黄", "金", "马", "乐", "丰", "长", "大", "清", "鹿", "茶", "梅"}
	villageEnds    = []string{"村", "寨村", "坝村", "沟村", "湾村"}
)

// township is one 9-digit region with its Chinese name.
type township struct {
	code, name string
	street     bool // a 街道 (its villages are mostly 社区)
}

// newWorld builds the world of a seed with n counties (0: DefaultCounties).
// The default world is the one every drop had before worlds had a size: its
// counties, names and disasters are drawn the same way.
func newWorld(seed uint64, cal calendar, n int) *world {
	if n <= 0 {
		n = DefaultCounties
	}
	w := &world{cal: cal, seed: seed, counties: worldCounties(n, rand.New(rand.NewPCG(seed, streamCounties)))}
	w.nameRegions(rand.New(rand.NewPCG(seed, streamNames)))
	r := rand.New(rand.NewPCG(seed, streamWorld))
	// The world stream drew three syllables per village name before names
	// had their own stream; those draws are kept so that the disasters of a
	// seed stay where they were.
	for _, c := range w.counties {
		for range c.villages() {
			r.IntN(24)
			r.IntN(24)
			r.IntN(5)
		}
	}
	w.byVillage = make([][]int, len(w.villages))
	w.disasterRate = make([]float64, len(w.villages))
	add := func(prefix string, m int, sev int, kind string, villages []int) {
		e := disasterEvent{
			id:     "D" + strconv.Itoa(100001+len(w.disasters)),
			prefix: prefix, month: m, start: cal.dayIn(r, m), kind: kind, severity: sev,
		}
		w.disasters = append(w.disasters, e)
		for _, v := range villages {
			w.byVillage[v] = append(w.byVillage[v], len(w.disasters)-1)
		}
	}
	for m := 0; m < cal.months; m++ {
		cm := cal.month(m)
		for _, c := range w.counties {
			base, nv := c.firstVill, c.villages()
			if chance(r, countyDisasterP) {
				vs := make([]int, nv)
				for i := range vs {
					vs[i] = base + i
				}
				add(c.code, m, drawSeverity(r), drawKind(r, cm), vs)
			}
			if chance(r, townDisasterP) {
				t := r.IntN(c.towns)
				vs := make([]int, villagesPerTown)
				for i := range vs {
					vs[i] = base + t*villagesPerTown + i
				}
				add(fmt.Sprintf("%s%03d", c.code, 101+t), m, drawSeverity(r), drawKind(r, cm), vs)
			}
			if chance(r, villageDisasterP) {
				v := base + r.IntN(nv)
				add(w.villages[v].code, m, drawSeverity(r), drawKind(r, cm), []int{v})
			}
		}
	}
	// Expected monthly disaster shock weight per village: the rates above
	// times the mean weight of a severity draw.
	mean := 0.0
	for s := 1; s <= 4; s++ {
		mean += severityProb[s] * disasterWeight[s]
	}
	for v := range w.villages {
		c := w.counties[w.villages[v].county]
		w.disasterRate[v] = (countyDisasterP + townDisasterP/float64(c.towns) + villageDisasterP/float64(c.villages())) * mean
	}
	return w
}

// nameRegions draws the townships and villages of every county with their
// names (two different syllables and an ending), from the names stream (so
// that names move no other draw): a
// county's first township is a 街道 one time in two (the county seat),
// the others a 镇 (two in three) or a 乡; villages end in 村 or one of its
// variants, or in 社区 (mostly under a 街道). Names are unique within their
// parent: a name drawn twice is drawn again.
func (w *world) nameRegions(r *rand.Rand) {
	two := func() string { return twoSyllables(r) }
	for ci, c := range w.counties {
		used := map[string]bool{}
		for t := 0; t < c.towns; t++ {
			var tw township
			for {
				tw = township{code: fmt.Sprintf("%s%03d", c.code, 101+t)}
				switch u := r.Float64(); {
				case t == 0 && u < 0.5:
					tw.name, tw.street = two()+"街道", true
				case u < 0.67 || t == 0:
					tw.name = two() + "镇"
				default:
					tw.name = two() + "乡"
				}
				if !used[tw.name] {
					break
				}
			}
			used[tw.name] = true
			w.townships = append(w.townships, tw)
			vused := map[string]bool{}
			for v := 0; v < villagesPerTown; v++ {
				var name string
				for {
					community := 0.05
					if tw.street {
						community = 0.6
					}
					if chance(r, community) {
						name = two() + "社区"
					} else {
						name = two() + villageEnds[r.IntN(len(villageEnds))]
					}
					if !vused[name] {
						break
					}
				}
				vused[name] = true
				w.villages = append(w.villages, village{
					code: fmt.Sprintf("%s%03d", tw.code, 201+v), name: name,
					county: ci, town: t, idx: len(w.villages),
				})
			}
		}
	}
}

// regionRows writes the regions table: every county, township and village
// in code order (simulated counties are not drawn in code order).
func (w *world) regionRows(b *tableBuf) {
	order := make([]int, len(w.counties))
	for i := range order {
		order[i] = i
	}
	sort.Slice(order, func(i, j int) bool { return w.counties[order[i]].code < w.counties[order[j]].code })
	for _, ci := range order {
		c := w.counties[ci]
		b.s(c.code).s(c.name)
		for t := 0; t < c.towns; t++ {
			tw := w.townships[c.firstTown+t]
			b.s(tw.code).s(tw.name)
			for v := 0; v < villagesPerTown; v++ {
				vl := w.villages[c.firstVill+t*villagesPerTown+v]
				b.s(vl.code).s(vl.name)
			}
		}
	}
}

// Monthly chances, per county, of a disaster recorded for the whole county,
// for one of its townships, and for one of its villages.
const (
	countyDisasterP  = 0.01
	townDisasterP    = 0.08
	villageDisasterP = 0.25
)

var severityProb = [5]float64{0, 0.08, 0.22, 0.40, 0.30}

// drawSeverity draws a disaster severity (1 worst) with severityProb.
func drawSeverity(r *rand.Rand) int {
	return 1 + pickIndex(r.Float64(), severityProb[1:4])
}

// drawKind draws a disaster kind typical of the calendar month.
func drawKind(r *rand.Rand, m int) string {
	u := r.Float64()
	switch {
	case u < 0.06:
		return []string{"earthquake", "fire", "epidemic", "other"}[r.IntN(4)]
	case m >= 5 && m <= 9:
		return []string{"flood", "flood", "landslide", "hail"}[r.IntN(4)]
	case m >= 2 && m <= 4:
		return []string{"drought", "drought", "hail"}[r.IntN(3)]
	default:
		return []string{"frost", "frost", "drought"}[r.IntN(3)]
	}
}

// RNG streams: each household draws from PCG(seed, household<<8 | stream).
const (
	streamWorld uint64 = 1<<63 | 1
	streamNames uint64 = 1<<63 | 2
	// streamCounties draws the simulated counties of a larger world (the
	// default world draws nothing from it).
	streamCounties uint64 = 1<<63 | 3
	streamSim      uint64 = 1
	streamDirty    uint64 = 2
)

var surnames = []string{"王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭", "何", "罗", "高", "林", "龙", "吴", "田", "杨", "石", "潘", "韦"}
var givenChars = []string{"明", "华", "国", "建", "军", "平", "文", "志", "勇", "秀", "英", "芳", "兰", "玉", "红", "梅", "丽", "强", "伟", "云", "海", "春", "福", "德", "成", "金", "贵", "琴", "霞", "艳"}

func drawGiven(r *rand.Rand) string {
	g := givenChars[r.IntN(len(givenChars))]
	if r.IntN(3) > 0 {
		g += givenChars[r.IntN(len(givenChars))]
	}
	return g
}

var phonePrefixes = []string{"130", "131", "132", "135", "136", "137", "138", "139", "150", "151", "152", "157", "158", "159", "166", "177", "180", "182", "183", "186", "187", "188", "189", "198"}

func drawPhone(r *rand.Rand) string {
	b := make([]byte, 0, 11)
	b = append(b, phonePrefixes[r.IntN(len(phonePrefixes))]...)
	for len(b) < 11 {
		b = append(b, byte('0'+r.IntN(10)))
	}
	return string(b)
}

// idWeights are the GB 11643-1999 weights of the first 17 digits.
var idWeights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}

// IDCheckDigit returns the GB 11643-1999 check character ('0'-'9' or 'X')
// of the first 17 digits of a resident ID number: the one check-digit rule
// of povrisk (the simulator writes it, ingest checks it). Anything but 17
// ASCII digits is an error (which never quotes the input: it is personal
// data).
func IDCheckDigit[T ~string | ~[]byte](first17 T) (byte, error) {
	if len(first17) != 17 {
		return 0, fmt.Errorf("ID check digit: %d characters, want the first 17 digits of an ID number", len(first17))
	}
	s := 0
	for i := 0; i < 17; i++ {
		c := first17[i]
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("ID check digit: character %d is not a digit", i+1)
		}
		s += int(c-'0') * idWeights[i]
	}
	return "10X98765432"[s%11], nil
}

// makeIDNumber builds an 18-digit ID number: county code, birth date, a
// sequence whose last digit is odd for men and even for women, check digit.
func makeIDNumber(r *rand.Rand, countyCode string, birth day, male bool) string {
	b := make([]byte, 0, 18)
	b = append(b, countyCode...)
	y, m, d := birth.ymd()
	b = append4(b, y)
	b = append(b, byte('0'+m/10), byte('0'+m%10), byte('0'+d/10), byte('0'+d%10))
	b = append(b, byte('0'+r.IntN(10)), byte('0'+r.IntN(10)))
	last := r.IntN(5) * 2
	if male {
		last++
	}
	b = append(b, byte('0'+last))
	c, err := IDCheckDigit(b)
	if err != nil {
		panic("datasets: " + err.Error()) // b is 17 digits by construction
	}
	b = append(b, c)
	return string(b)
}

// startOf normalises a start time to the first day of its month (UTC).
func startOf(t time.Time) calendar {
	return calendar{y0: t.Year(), m0: int(t.Month())}
}

// time is the UTC midnight of the day.
func (t day) time() time.Time {
	y, m, d := t.ymd()
	return civil.Date(y, time.Month(m), d)
}
