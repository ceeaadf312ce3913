package run

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"

	"github.com/povrisk/povrisk/engine/rundir"
)

// A part's rows file (rows.bin) holds its ranked rows in batches of
// rowsBatch rows: per batch, the byte length of its body (uvarint), then
// the body: the row count (uvarint) and each row's fields in the order of
// rundir.Row (texts as uvarint length and bytes, floats as their 8 bytes
// little-endian, int32 and int as zig-zag varints, the three flags in one
// byte). It replaces gob, whose reflection over 32 fields was a tenth of
// the write stage: a batch is decoded from one string, each text a slice
// of it. TestRowCodecEveryField fails when rundir.Row gains a field the
// codec does not carry.

// rowTexts is the number of text fields of a row.
const rowTexts = 22

// rowStrings are the addresses of r's text fields, in the codec's order.
func rowStrings(r *rundir.Row) [rowTexts]*string {
	return [rowTexts]*string{&r.HouseholdID, &r.RegionCode, &r.CountyCode, &r.TownshipCode, &r.PovertyStatus, &r.Tier,
		&r.Profile, &r.ProfileZh, &r.Rules, &r.RiskTypes, &r.RiskTypesZh, &r.PrimaryRiskType, &r.Reasons, &r.ReasonsEn,
		&r.TopDriver, &r.Conflicts, &r.Measures, &r.MeasuresZh, &r.CountyName, &r.TownshipName, &r.VillageName, &r.EliminatedDate}
}

// appendRow appends r's encoding to b.
func appendRow(b []byte, r *rundir.Row) []byte {
	for _, s := range rowStrings(r) {
		b = binary.AppendUvarint(b, uint64(len(*s)))
		b = append(b, *s...)
	}
	for _, f := range [3]float64{r.Score, r.NetIncomePC12m, r.OOPMedical12m} {
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(f))
	}
	for _, v := range [4]int64{int64(r.Rank), int64(r.RankCounty), int64(r.RankTownship), int64(r.Index)} {
		b = binary.AppendVarint(b, v)
	}
	var flags byte
	for i, f := range [3]bool{r.InTopK, r.Watch, r.Entered} {
		if f {
			flags |= 1 << i
		}
	}
	return append(b, flags)
}

// encodeRows writes rows in batches of rowsBatch rows (the merge reads a
// part's rows a batch at a time: streamRows).
func encodeRows(w io.Writer, rows []rundir.Row) error {
	var body, head []byte
	for lo := 0; lo < len(rows); lo += rowsBatch {
		batch := rows[lo:min(lo+rowsBatch, len(rows))]
		body = binary.AppendUvarint(body[:0], uint64(len(batch)))
		for i := range batch {
			body = appendRow(body, &batch[i])
		}
		head = binary.AppendUvarint(head[:0], uint64(len(body)))
		if _, err := w.Write(head); err != nil {
			return err
		}
		if _, err := w.Write(body); err != nil {
			return err
		}
	}
	return nil
}

// minRowBytes is the shortest encoding of a row: a length byte per text,
// 8 bytes per float, a byte per varint, the flags.
const minRowBytes = rowTexts + 3*8 + 4 + 1

// rowDecoder reads the batches encodeRows wrote.
type rowDecoder struct {
	r   *bufio.Reader
	buf bytes.Buffer
}

func newRowDecoder(r io.Reader) *rowDecoder { return &rowDecoder{r: bufio.NewReaderSize(r, 256<<10)} }

// errRows is a rows file that is not encodeRows's.
var errRows = errors.New("malformed rows batch")

// next decodes the next batch (io.EOF at the end of the file).
func (d *rowDecoder) next() ([]rundir.Row, error) {
	n, err := binary.ReadUvarint(d.r)
	if err == io.EOF {
		return nil, io.EOF
	}
	if err != nil || n > 1<<40 {
		return nil, fmt.Errorf("%w: %v", errRows, err)
	}
	// Read as the bytes come (a damaged length allocates no more than the file holds).
	d.buf.Reset()
	if m, err := d.buf.ReadFrom(io.LimitReader(d.r, int64(n))); err != nil || uint64(m) != n {
		return nil, fmt.Errorf("%w: %d of %d bytes (%v)", errRows, m, n, err)
	}
	s := d.buf.String() // the batch's texts are slices of s
	p := &rowParser{s: s}
	count := p.uvarint()
	if p.bad || count > uint64(len(s)-p.off)/minRowBytes {
		// A damaged count would allocate a Row (about 400 bytes) per byte of the batch.
		return nil, errRows
	}
	rows := make([]rundir.Row, count)
	for i := range rows {
		r := &rows[i]
		for _, f := range rowStrings(r) {
			*f = p.text()
		}
		r.Score, r.NetIncomePC12m, r.OOPMedical12m = p.float(), p.float(), p.float()
		r.Rank, r.RankCounty, r.RankTownship = int32(p.varint()), int32(p.varint()), int32(p.varint())
		r.Index = int(p.varint())
		flags := p.byte()
		r.InTopK, r.Watch, r.Entered = flags&1 != 0, flags&2 != 0, flags&4 != 0
		if p.bad {
			return nil, errRows
		}
	}
	if len(p.s) != p.off {
		return nil, errRows
	}
	return rows, nil
}

// rowParser reads the fields of a batch body; bad is set (and zero
// values returned) once it runs past the end or meets a bad number.
type rowParser struct {
	s   string
	off int
	bad bool
}

func (p *rowParser) uvarint() uint64 {
	var v uint64
	for shift := uint(0); shift < 64; shift += 7 {
		if p.off >= len(p.s) {
			p.bad = true
			return 0
		}
		c := p.s[p.off]
		p.off++
		v |= uint64(c&0x7f) << shift
		if c < 0x80 {
			return v
		}
	}
	p.bad = true
	return 0
}

func (p *rowParser) varint() int64 {
	u := p.uvarint()
	return int64(u>>1) ^ -int64(u&1)
}

func (p *rowParser) text() string {
	n := p.uvarint()
	if p.bad || n > uint64(len(p.s)-p.off) {
		p.bad = true
		return ""
	}
	t := p.s[p.off : p.off+int(n)]
	p.off += int(n)
	return t
}

func (p *rowParser) float() float64 {
	if len(p.s)-p.off < 8 {
		p.bad = true
		return 0
	}
	var v uint64
	for i := 7; i >= 0; i-- {
		v = v<<8 | uint64(p.s[p.off+i])
	}
	p.off += 8
	return math.Float64frombits(v)
}

func (p *rowParser) byte() byte {
	if p.off >= len(p.s) {
		p.bad = true
		return 0
	}
	c := p.s[p.off]
	p.off++
	return c
}
