package ingest

import (
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/apache/arrow-go/v18/parquet/file"
)

// The Arrow schema that arrow-go stores in a Parquet footer (key
// ARROW:schema: base64 of an IPC message, a flatbuffer) is decoded by
// arrow-go without verification: a corrupt vector length makes it
// allocate hundreds of gigabytes (a fatal out-of-memory, which recover
// cannot catch), and a cyclic offset recurses without end. checkArrowSchema
// walks the flatbuffer first, checking every offset and vector length
// against the buffer and bounding the depth, so that a corrupt schema is
// an error. The layout is Arrow's format/Schema.fbs and Message.fbs.

var errBadArrowSchema = errors.New("the stored Arrow schema (ARROW:schema) is corrupt")

// checkArrowSchema checks the ARROW:schema metadata of a Parquet file, if any.
func checkArrowSchema(rdr *file.Reader) error {
	kv := rdr.MetaData().KeyValueMetadata()
	if kv == nil {
		return nil
	}
	s := kv.FindValue("ARROW:schema")
	if s == nil {
		return nil
	}
	var dec []byte
	var err error
	if len(*s)%4 == 0 {
		dec, err = base64.StdEncoding.DecodeString(*s)
	}
	if len(dec) == 0 || err != nil {
		if dec, err = base64.RawStdEncoding.DecodeString(*s); err != nil {
			return fmt.Errorf("%w: %v", errBadArrowSchema, err)
		}
	}
	// IPC framing: an optional 0xFFFFFFFF continuation, the length, the message.
	if len(dec) >= 4 && binary.LittleEndian.Uint32(dec) == 0xFFFFFFFF {
		dec = dec[4:]
	}
	if len(dec) < 4 {
		return errBadArrowSchema
	}
	n := binary.LittleEndian.Uint32(dec)
	if uint64(n) > uint64(len(dec)-4) {
		return errBadArrowSchema
	}
	fb := fbuf{b: dec[4 : 4+n]}
	if !fb.message() {
		return errBadArrowSchema
	}
	return nil
}

// fbuf verifies a flatbuffer: every position read is inside b, vectors
// fit in b, nesting is at most maxFBDepth and tables at most maxFBTables.
type fbuf struct {
	b      []byte
	tables int
}

const maxFBDepth, maxFBTables = 64, 1 << 16

func (f *fbuf) u32(p int) (int, bool) {
	if p < 0 || p+4 > len(f.b) {
		return 0, false
	}
	return int(binary.LittleEndian.Uint32(f.b[p:])), true
}

// table checks the table at p and returns its vtable position.
func (f *fbuf) table(p int) (vt int, ok bool) {
	f.tables++
	if f.tables > maxFBTables || p < 0 || p+4 > len(f.b) {
		return 0, false
	}
	vt = p - int(int32(binary.LittleEndian.Uint32(f.b[p:])))
	if vt < 0 || vt+4 > len(f.b) {
		return 0, false
	}
	vsize := int(binary.LittleEndian.Uint16(f.b[vt:]))
	tsize := int(binary.LittleEndian.Uint16(f.b[vt+2:]))
	if vsize < 4 || vsize%2 != 0 || vt+vsize > len(f.b) || p+tsize > len(f.b) {
		return 0, false
	}
	return vt, true
}

// field returns the position of slot i of the table at p (0: absent).
func (f *fbuf) field(p, vt, i int) int {
	vsize := int(binary.LittleEndian.Uint16(f.b[vt:]))
	o := 4 + 2*i
	if o+2 > vsize {
		return 0
	}
	off := int(binary.LittleEndian.Uint16(f.b[vt+o:]))
	if off == 0 {
		return 0
	}
	return p + off
}

// ref follows the offset stored in slot i; 0 when absent, -1 when bad.
func (f *fbuf) ref(p, vt, i int) int {
	q := f.field(p, vt, i)
	if q == 0 {
		return 0
	}
	off, ok := f.u32(q)
	if !ok || q+off >= len(f.b) {
		return -1
	}
	return q + off
}

// vector checks the vector in slot i with elements of size elem and
// returns the position of its first element and its length.
func (f *fbuf) vector(p, vt, i, elem int) (start, n int, ok bool) {
	q := f.ref(p, vt, i)
	if q <= 0 {
		return 0, 0, q == 0
	}
	n, ok = f.u32(q)
	if !ok || n > (len(f.b)-q-4)/elem {
		return 0, 0, false
	}
	return q + 4, n, true
}

// tables checks a vector of tables in slot i, each with check.
func (f *fbuf) tableVector(p, vt, i, depth int, check func(p, depth int) bool) bool {
	start, n, ok := f.vector(p, vt, i, 4)
	if !ok {
		return false
	}
	for k := 0; k < n; k++ {
		e := start + 4*k
		off, _ := f.u32(e)
		if !check(e+off, depth+1) {
			return false
		}
	}
	return true
}

func (f *fbuf) message() bool {
	root, ok := f.u32(0)
	if !ok {
		return false
	}
	vt, ok := f.table(root)
	if !ok {
		return false
	}
	if h := f.ref(root, vt, 2); h < 0 || h > 0 && !f.schema(h) {
		return false
	}
	return f.tableVector(root, vt, 4, 0, f.keyValue)
}

func (f *fbuf) schema(p int) bool {
	vt, ok := f.table(p)
	if !ok {
		return false
	}
	if _, _, ok := f.vector(p, vt, 3, 8); !ok {
		return false
	}
	return f.tableVector(p, vt, 1, 0, f.arrowField) && f.tableVector(p, vt, 2, 0, f.keyValue)
}

func (f *fbuf) keyValue(p, depth int) bool {
	vt, ok := f.table(p)
	if !ok {
		return false
	}
	_, _, ok1 := f.vector(p, vt, 0, 1)
	_, _, ok2 := f.vector(p, vt, 1, 1)
	return ok1 && ok2
}

// arrowField checks a Field: name, type (Timestamp's zone and Union's type
// ids are its only vectors), dictionary, children, metadata.
func (f *fbuf) arrowField(p, depth int) bool {
	if depth > maxFBDepth {
		return false
	}
	vt, ok := f.table(p)
	if !ok {
		return false
	}
	if _, _, ok := f.vector(p, vt, 0, 1); !ok {
		return false
	}
	typeType := 0
	if q := f.field(p, vt, 2); q > 0 {
		if q >= len(f.b) {
			return false
		}
		typeType = int(f.b[q])
	}
	if t := f.ref(p, vt, 3); t < 0 {
		return false
	} else if t > 0 {
		tvt, ok := f.table(t)
		if !ok {
			return false
		}
		const timestamp, union = 10, 14
		if typeType == timestamp || typeType == union {
			elem := 1
			if typeType == union {
				elem = 4
			}
			if _, _, ok := f.vector(t, tvt, 1, elem); !ok {
				return false
			}
		}
	}
	if d := f.ref(p, vt, 4); d < 0 {
		return false
	} else if d > 0 {
		dvt, ok := f.table(d)
		if !ok {
			return false
		}
		if it := f.ref(d, dvt, 1); it < 0 {
			return false
		} else if it > 0 {
			if _, ok := f.table(it); !ok {
				return false
			}
		}
	}
	return f.tableVector(p, vt, 5, depth, f.arrowField) && f.tableVector(p, vt, 6, depth, f.keyValue)
}
