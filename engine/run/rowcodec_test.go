package run

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"github.com/povrisk/povrisk/engine/rundir"
)

// filledRow sets every field of a rundir.Row to a value derived from
// seed, by reflection: a field the codec forgets reads back as zero.
func filledRow(seed int) rundir.Row {
	var r rundir.Row
	v := reflect.ValueOf(&r).Elem()
	for i := range v.NumField() {
		f := v.Field(i)
		k := seed*100 + i + 1
		switch f.Kind() {
		case reflect.String:
			f.SetString("值" + string(rune('a'+k%26)) + reflect.TypeOf(r).Field(i).Name)
		case reflect.Float64:
			f.SetFloat(float64(k) + 0.25)
		case reflect.Int32, reflect.Int:
			f.SetInt(int64(-k * 1000))
		case reflect.Bool:
			f.SetBool(true)
		default:
			panic("rundir.Row has a field of kind " + f.Kind().String() + ": teach rowcodec.go to carry it")
		}
	}
	return r
}

// TestRowCodecEveryField: rows with every field set (and the zero row,
// NaN and infinite figures, empty texts) read back equal, in batches of
// rowsBatch rows, then io.EOF.
func TestRowCodecEveryField(t *testing.T) {
	defer func(rb int) { rowsBatch = rb }(rowsBatch)
	rowsBatch = 3
	rows := []rundir.Row{filledRow(0), {}, filledRow(1), {Score: math.NaN(), NetIncomePC12m: math.Inf(-1), HouseholdID: "H\x00\xff"}, filledRow(2)}
	var buf bytes.Buffer
	if err := encodeRows(&buf, rows); err != nil {
		t.Fatal(err)
	}
	d := newRowDecoder(&buf)
	var got []rundir.Row
	for {
		b, err := d.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if len(b) > rowsBatch {
			t.Fatalf("a batch of %d rows", len(b))
		}
		got = append(got, b...)
	}
	if len(got) != len(rows) {
		t.Fatalf("%d rows back, want %d", len(got), len(rows))
	}
	for i := range rows {
		w, g := rows[i], got[i]
		if i == 3 { // NaN != NaN: compare the bits
			if !math.IsNaN(g.Score) || !math.IsInf(g.NetIncomePC12m, -1) {
				t.Errorf("row 3 figures %v %v", g.Score, g.NetIncomePC12m)
			}
			w.Score, g.Score = 0, 0
		}
		if !reflect.DeepEqual(w, g) {
			t.Errorf("row %d:\n got %+v\nwant %+v", i, g, w)
		}
	}
}

// TestRowDecoderBoundsCount: the shortest row (empty texts, zero numbers)
// is minRowBytes long and reads back; a batch whose row count claims more
// rows than its body can hold is refused before any row is allocated.
func TestRowDecoderBoundsCount(t *testing.T) {
	var buf bytes.Buffer
	if err := encodeRows(&buf, []rundir.Row{{}}); err != nil {
		t.Fatal(err)
	}
	// head (1 byte) + count (1 byte) + one row
	if got := buf.Len() - 2; got != minRowBytes {
		t.Fatalf("empty row encoded in %d bytes, minRowBytes %d", got, minRowBytes)
	}
	rows, err := newRowDecoder(bytes.NewReader(buf.Bytes())).next()
	if err != nil || len(rows) != 1 || rows[0] != (rundir.Row{}) {
		t.Fatalf("empty row read back as %v, %v", rows, err)
	}
	// One row with a text of 20,000 bytes whose batch claims 20,000 rows:
	// refused without allocating them (about 8 MB of Rows).
	buf.Reset()
	if err := encodeRows(&buf, []rundir.Row{{Reasons: strings.Repeat("x", 20000)}}); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	n, k := binary.Uvarint(b) // the body's length, in k bytes
	body := binary.AppendUvarint(nil, 20000)
	body = append(body, b[k+1:]...) // the one-byte count 1 replaced
	b = append(binary.AppendUvarint(nil, uint64(len(body))), body...)
	if uint64(len(body)) != n+2 {
		t.Fatalf("rebuilt body %d bytes, want %d", len(body), n+2)
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	rows, err = newRowDecoder(bytes.NewReader(b)).next()
	runtime.ReadMemStats(&after)
	if !errors.Is(err, errRows) {
		t.Errorf("20,000 rows claimed in a one-row body: %d rows, %v; want errRows", len(rows), err)
	}
	if a := after.TotalAlloc - before.TotalAlloc; a > 1<<20 {
		t.Errorf("refusing a damaged count allocated %d bytes", a)
	}
}

// FuzzRowDecoder: whatever the bytes of a rows file, the decoder returns
// rows or an error, never panics; a file encodeRows wrote reads back.
func FuzzRowDecoder(f *testing.F) {
	var buf bytes.Buffer
	encodeRows(&buf, []rundir.Row{filledRow(0), filledRow(1)})
	f.Add(buf.Bytes())
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Add([]byte{3, 1, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		d := newRowDecoder(bytes.NewReader(b))
		for range 100 {
			if _, err := d.next(); err != nil {
				return
			}
		}
	})
}
