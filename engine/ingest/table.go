package ingest

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/povrisk/povrisk/datasets"
	"github.com/povrisk/povrisk/engine/fault"
	"github.com/povrisk/povrisk/engine/pqfile"
	"github.com/povrisk/povrisk/engine/warehouse"
)

// batchRows is the number of rows per Arrow record batch and Parquet row group.
const batchRows = 1 << 16

// sensitiveExtra names non-standard columns holding personal data; they are
// withheld in reject files (and never stored). Header names are compared in
// lower case, and a header containing one of sensitiveParts counts too.
var sensitiveExtra = map[string]bool{
	"name": true, "phone": true, "mobile": true, "telephone": true, "tel": true,
	"bank_account": true, "account": true, "address": true, "id_card": true,
	"姓名": true, "电话": true, "手机": true, "手机号": true, "银行账号": true, "身份证号": true,
}

var sensitiveParts = []string{"name", "phone", "mobile", "account", "address", "id_card", "idcard", "id_num", "idnum", "id_no",
	"姓名", "名字", "电话", "手机", "银行", "账号", "帐号", "卡号", "住址", "地址", "身份证", "证件"}

func sensitiveHeader(h string) bool {
	h = strings.ToLower(h)
	if sensitiveExtra[h] {
		return true
	}
	for _, p := range sensitiveParts {
		if strings.Contains(h, p) {
			return true
		}
	}
	return false
}

// noKey scrubs text where no pseudonym is wanted (header names).
var noKey = newPseudonymizer(nil)

// refs are the key sets of the referenced tables, in the merged state
// (previous version plus this drop). They are written only while their
// own table loads and read-only afterwards.
type refs struct {
	households *keySet
	persons    *keySet
}

// keySet interns the keys of a referenced table: each key gets a dense
// index; inDrop marks the keys seen in this drop.
type keySet struct {
	idx    *strTable
	inDrop []bool
}

func newKeySet() *keySet { return &keySet{idx: newStrTable()} }

func (k *keySet) lookup(b []byte) (int32, bool) { return k.idx.get(b) }

func (k *keySet) add(b []byte, inDrop bool) int32 {
	i, had := k.idx.insert(b)
	if !had {
		k.inDrop = append(k.inDrop, inDrop)
	}
	return i
}

// colSpec is one column of the standard as found in a file.
type colSpec struct {
	col   datasets.Column
	field int // index in the file's header; -1 when absent (nullable columns)
	enum  [][]byte
	ref   *keySet
	// ident: an identifier (key, reference, *_id): checked by checkIdent;
	// text: other free text, checked by checkText.
	ident, text bool
	lastDay     int32  // Date and Month: the last day accepted
	norm        []byte // id_number: the 18-character form of the current value
	// the last keys found in ref (ref is read-only while this table loads)
	recent refCache
}

// refCache holds the last four distinct keys found in a referenced key
// set, with their indices: drops list a household's (a person's) rows
// together, or those of a household's few persons interleaved, so most
// lookups end here instead of in the key set's large table. A key not
// held is most often one of the next few of the key set (the next
// household's persons: strTable.after).
type refCache struct {
	keys [4][]byte
	refs [4]int32
	n    int   // entries filled
	next int   // the entry replaced next
	last int32 // the index put last
}

func (c *refCache) get(b []byte) (int32, bool) {
	for i := 0; i < c.n; i++ {
		if string(c.keys[i]) == string(b) {
			return c.refs[i], true
		}
	}
	return 0, false
}

func (c *refCache) put(b []byte, ref int32) {
	k := c.next
	c.keys[k], c.refs[k], c.last = append(c.keys[k][:0], b...), ref, ref
	c.next = (k + 1) % len(c.keys)
	if c.n < len(c.keys) {
		c.n++
	}
}

type value struct {
	null bool
	i    int32
	mon  int32 // Month: y*12 + m - 1
	f    float64
	b    bool
	s    []byte
	ref  int32
}

// tableLoader checks the rows of one file against one table of the standard.
type tableLoader struct {
	t        datasets.Table
	file     string // base name, for reject rows
	cols     []colSpec
	nfields  int // header width
	header   []string
	extra    []string // extra columns, ignored
	mask     []int8   // per header field: 0 clear, 1 ID-masked, 2 withheld
	masked   bool
	isExtra  []bool  // per header field: not a column of the standard
	idCount  []int64 // per header field: values that look like ID numbers
	refs     *refs
	own      *keySet // households/persons: the key set this table feeds
	keyCols  []int   // indices into cols of the key
	seen     *dupSet
	seen64   map[uint64]struct{}
	months   *monthSet // keys (reference, month): a bitmap per referenced key
	keyBuf   []byte
	vals     []value
	special  special // table-specific checks across columns (v1.1 tables)
	ps       *pseudonymizer
	validate bool

	schema *arrow.Schema
	cur    *batch // the batch being filled (batch.go)
	// Batches go to a writer goroutine, so that checking the next batch
	// overlaps with encoding this one; it hands them back on free once
	// written, to be filled again.
	batches chan *batch
	free    chan *batch
	wdone   chan error
	pw      *pqarrow.FileWriter
	out     *os.File
	outBuf  *bufio.Writer
	outHash *hashWriter // the bytes written to out

	rej    *csv.Writer
	rejRec []string
	rejBuf []string

	read, accepted, rejected int64
	progress                 func(read int64)
	reasons                  map[string]int64 // rejected rows per reason (noteReject)
	// wrapOut, when set, wraps the writer of the Parquet output (test
	// hooks, and marking write failures as such).
	wrapOut func(path string, w io.Writer) io.Writer
}

// newTableLoader prepares a loader from a file's header. It returns a
// *FileError when a non-nullable column is missing or the header is malformed.
func newTableLoader(t datasets.Table, file string, header []string, r *refs, key []byte, validate bool) (*tableLoader, error) {
	l := &tableLoader{t: t, file: file, nfields: len(header), header: header, refs: r, validate: validate}
	pos := make(map[string]int, len(header))
	for i, h := range header {
		if strings.ContainsRune(h, '\r') {
			return nil, &FileError{File: file, Err: fmt.Errorf("line 1, header field %d holds a carriage return: the lines of the file end in CR alone (an old Mac export?); save it with LF or CRLF line ends", i+1)}
		}
		h = strings.TrimSpace(h)
		if h == "" {
			return nil, &FileError{File: file, Err: fmt.Errorf("header field %d is empty", i+1)}
		}
		if !utf8.ValidString(h) {
			return nil, &FileError{File: file, Err: fmt.Errorf("header field %d is not valid text (wrong encoding? try --encoding gb18030)", i+1)}
		}
		if _, dup := pos[h]; dup {
			return nil, &FileError{File: file, Column: scrubNumbers(h, noKey), Err: errors.New("column appears twice in the header")}
		}
		pos[h] = i
	}
	l.mask = make([]int8, len(header))
	for _, c := range t.Columns {
		i, ok := pos[c.Name]
		if !ok {
			if !c.Nullable {
				return nil, &FileError{File: file, Column: c.Name, Err: errors.New("required column missing from the header")}
			}
			i = -1
		}
		cs := colSpec{col: c, field: i, lastDay: lastDayFor(t.Name, c)}
		if c.Kind == datasets.String && !c.Pseudonymised {
			cs.ident = isIdentifier(t, c)
			cs.text = !cs.ident
		}
		for _, v := range c.Values {
			cs.enum = append(cs.enum, []byte(v))
		}
		switch c.Ref {
		case "households":
			cs.ref = r.households
		case "persons":
			cs.ref = r.persons
		}
		if i >= 0 && (c.Pseudonymised || withheldColumn(c.Name)) {
			l.masked = true
			l.mask[i] = 1
			if withheldColumn(c.Name) {
				l.mask[i] = 2
			}
			if c.Pseudonymised && key == nil && !validate {
				return nil, &FileError{File: file, Column: c.Name, Err: ErrNoKey}
			}
		}
		l.cols = append(l.cols, cs)
	}
	l.isExtra = make([]bool, len(header))
	l.idCount = make([]int64, len(header))
	for i, h := range header {
		if _, ok := t.Column(strings.TrimSpace(h)); !ok {
			// A file without its header shows data as column names:
			// no ID number reaches the report that way either.
			l.extra = append(l.extra, safeText(scrubNumbers(strings.TrimSpace(h), noKey)))
			l.isExtra[i] = true
			if sensitiveHeader(strings.TrimSpace(h)) {
				l.masked = true
				l.mask[i] = 2
			}
		}
	}
	for _, k := range t.Key {
		for j, c := range l.cols {
			if c.col.Name == k {
				l.keyCols = append(l.keyCols, j)
			}
		}
	}
	switch {
	case t.Name == "households":
		l.own = r.households
	case t.Name == "persons":
		l.own = r.persons
	case len(t.Key) == 0:
		// No key: identical rows may be genuine repeated events (two
		// children's identical education aid); they are all kept.
	default:
		l.seen = newDupSet()
		l.seen64 = make(map[uint64]struct{})
		if len(l.keyCols) == 2 && l.cols[l.keyCols[0]].ref != nil && l.cols[l.keyCols[1]].col.Kind == datasets.Month {
			l.months = &monthSet{base: -1, bits: make([]uint64, len(l.cols[l.keyCols[0]].ref.inDrop))}
		}
	}
	l.special = specialOf(t.Name)
	l.ps = newPseudonymizer(key)
	l.vals = make([]value, len(l.cols))
	l.schema = t.ArrowSchema()
	l.cur = newBatch(t)
	return l, nil
}

// open starts the Parquet output (when out != "") and the reject file (when
// rej != nil).
func (l *tableLoader) open(out string, rej io.Writer) error {
	if rej != nil {
		l.rej = csv.NewWriter(rej)
		l.rejRec = make([]string, 5)
		if err := l.rej.Write([]string{"file", "line", "column", "reason", "original"}); err != nil {
			return err
		}
	}
	if out == "" {
		return nil
	}
	f, err := os.OpenFile(out, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return fault.Wrap(fault.Write, err)
	}
	l.out = f
	// The file is hashed as it is written: the warehouse manifest records
	// its size and SHA-256 without reading it back.
	l.outHash = &hashWriter{w: f, h: sha256.New()}
	var w io.Writer = l.outHash
	if l.wrapOut != nil {
		w = l.wrapOut(out, l.outHash)
	}
	l.outBuf = bufio.NewWriterSize(w, 1<<20)
	// Dictionaries pay for enums, regions and small ints; for amounts
	// and ids they cost more time than they save space (snappy still
	// compresses repeated ids), and so do they for dates: arrow-go's
	// dictionary encoder boxes every int32 into an interface (an
	// allocation per value), where PLAIN is a copy and snappy takes the
	// repeats. The rest of the settings are engine/pqfile's.
	// A pseudonym (a hash) gets no min/max statistics: its range is
	// every row group's, so they prune nothing and cost a comparison of
	// 64 bytes per row.
	var noDict, noStats []string
	for _, c := range l.t.Columns {
		switch c.Kind {
		case datasets.Money, datasets.String, datasets.Date, datasets.Month:
			noDict = append(noDict, c.StoredName())
		}
		if c.Pseudonymised {
			noStats = append(noStats, c.StoredName())
		}
	}
	props := pqfile.Props(l.schema, pqfile.Settings{CreatedBy: "povrisk ingest", RowGroup: batchRows, NoDict: noDict, NoStats: noStats})
	l.pw, err = pqarrow.NewFileWriter(l.schema, l.outBuf, props, pqfile.ArrowProps())
	if err != nil {
		return err
	}
	// At most three batches exist: one being filled, one queued, one
	// being written.
	batches, free, done := make(chan *batch, 1), make(chan *batch, 2), make(chan error, 1)
	l.batches, l.free, l.wdone = batches, free, done
	go func() {
		var werr error
		// Range over the local channel: stopWriter sets l.batches to nil,
		// possibly before this goroutine first runs.
		for b := range batches {
			if werr == nil {
				rec := b.record(l.schema)
				// Write ends the row group: nothing of rec's buffers is
				// kept (statistics are copied), so the batch may be refilled.
				if err := l.pw.Write(rec); err != nil {
					werr = fmt.Errorf("write parquet: %w", err)
				}
				rec.Release()
			}
			select {
			case free <- b:
			default:
			}
		}
		done <- werr
	}()
	return nil
}

// hashWriter hashes and counts the bytes its writer took.
type hashWriter struct {
	w io.Writer
	h hash.Hash
	n int64
}

func (hw *hashWriter) Write(p []byte) (int, error) {
	n, err := hw.w.Write(p)
	hw.h.Write(p[:n])
	hw.n += int64(n)
	return n, err
}

// stored is the state of the Parquet output after close: rows, bytes
// and SHA-256 (File and Name are the caller's); nil without an output.
func (l *tableLoader) stored() *warehouse.TableState {
	if l.outHash == nil {
		return nil
	}
	return &warehouse.TableState{Rows: l.accepted, Bytes: l.outHash.n, SHA256: hex.EncodeToString(l.outHash.h.Sum(nil))}
}

// stopWriter waits for the writer goroutine and returns its error.
func (l *tableLoader) stopWriter() error {
	if l.batches == nil {
		return nil
	}
	close(l.batches)
	l.batches = nil
	return <-l.wdone
}

// row checks the current record of rr; an accepted row is appended to the
// batch, a rejected one written to the reject file.
func (l *tableLoader) row(rr *rowReader, perr error) error {
	l.read++
	if perr != nil {
		return l.reject(rr, &RowError{File: l.file, Line: rr.start, Err: perr}, false)
	}
	if rr.numFields() != l.nfields {
		return l.reject(rr, &RowError{File: l.file, Line: rr.start,
			Err: fmt.Errorf("%w: %d fields, the header has %d", ErrFieldCount, rr.numFields(), l.nfields)}, false)
	}
	l.scanExtra(rr)
	for j := range l.cols {
		c := &l.cols[j]
		v := &l.vals[j]
		*v = value{null: true}
		if c.field < 0 {
			continue
		}
		b := rr.field(c.field)
		if c.col.Kind != datasets.String {
			b = trimSpace(b)
		}
		if len(b) == 0 {
			if !c.col.Nullable {
				return l.reject(rr, &RowError{File: l.file, Line: rr.start, Column: c.col.Name, Err: ErrMissing}, true)
			}
			continue
		}
		v.null = false
		if err := l.checkField(c, v, b); err != nil {
			return l.reject(rr, &RowError{File: l.file, Line: rr.start, Column: c.col.Name, Err: err}, true)
		}
	}
	if l.special != noSpecial {
		if col, err := l.checkSpecial(); err != nil {
			return l.reject(rr, &RowError{File: l.file, Line: rr.start, Column: col, Err: err}, true)
		}
	}
	if err := l.checkKey(); err != nil {
		return l.reject(rr, &RowError{File: l.file, Line: rr.start, Column: strings.Join(l.t.Key, "+"), Err: err}, true)
	}
	l.accepted++
	return l.appendRow()
}

// scanExtra counts the values of extra columns that look like ID numbers
// (the report names such columns; reject files never show them).
func (l *tableLoader) scanExtra(rr *rowReader) {
	if len(l.extra) == 0 {
		return
	}
	for i, x := range l.isExtra {
		if x {
			if f := trimSpace(rr.field(i)); (len(f) == 15 || len(f) == 18) && looksLikeID(f) {
				l.idCount[i]++
			}
		}
	}
}

// checkField decodes and checks the non-empty field b of column c into v.
func (l *tableLoader) checkField(c *colSpec, v *value, b []byte) error {
	var err error
	switch c.col.Kind {
	case datasets.String:
		err = l.checkString(c, v, b)
	case datasets.Region:
		err = checkRegion(b, c.col.RegionLengths)
		v.s = b
	case datasets.Enum:
		known := false
		for _, e := range c.enum {
			if string(e) == string(b) {
				known = true
				break
			}
		}
		if !known {
			err = fmt.Errorf("%w: %s %s is not one of %s", ErrCode, c.col.Name, quoteVal(b), strings.Join(c.col.Values, "|"))
		}
		v.s = b
	case datasets.Date, datasets.Month:
		if c.col.Kind == datasets.Date {
			v.i, err = parseDate(b)
		} else {
			v.i, v.mon, err = parseMonthNum(b)
		}
		if err == nil && v.i > c.lastDay {
			err = fmt.Errorf("%w: %s is after %s (the export date: dates in %s may not lie ahead)", ErrDate, quoteVal(b), formatDay(c.lastDay), c.col.Name)
		}
	case datasets.Money:
		if v.f, err = parseMoney(b); err == nil {
			err = checkMoney(v.f, b)
		}
	case datasets.Int:
		v.i, err = parseInt(b, c.col.Min, c.col.Max)
	case datasets.Bool:
		v.b, err = parseBool(b)
	}
	if err != nil {
		return encodingReason(b, err)
	}
	if c.ref != nil {
		// Drops list a household's (a person's) rows together: the
		// keys of the previous rows save most lookups.
		var ok bool
		if v.ref, ok = c.recent.get(b); !ok {
			if v.ref, ok = c.ref.idx.after(c.recent.last, b); !ok {
				if v.ref, ok = c.ref.lookup(b); !ok {
					return fmt.Errorf("%w: %s %s is not in %s", ErrOrphan, c.col.Name, quoteVal(b), c.col.Ref)
				}
			}
			c.recent.put(b, v.ref)
		}
	}
	return nil
}

// checkString checks a String field: valid UTF-8; an ID number (converted
// to its 18-character form in c.norm); an identifier (checkIdent) or free
// text (checkText), neither of which may hold an ID number.
func (l *tableLoader) checkString(c *colSpec, v *value, b []byte) error {
	v.s = b
	if !c.col.Pseudonymised && plainASCII(b, c.ident) {
		return nil
	}
	if !utf8.Valid(b) {
		return errNotUTF8
	}
	if c.col.Pseudonymised {
		n, err := normalizeID(c.norm[:0], b)
		if err != nil {
			return err
		}
		c.norm, v.s = n, n
		return nil
	}
	var err error
	if c.ident {
		err = checkIdent(b)
	} else {
		err = checkText(b)
	}
	if err == nil && holdsID(b) {
		err = fmt.Errorf("%w: %s holds what looks like a resident ID number (18 characters with a valid GB 11643 checksum, or a 15-digit legacy number); ID numbers go in persons.id_number only", ErrPersonal, c.col.Name)
	}
	return err
}

// plainASCII is the common case of checkString in one pass: printable
// ASCII (no control character; tab and line ends allowed in text), no run
// of 15 digits or more (so no ID number: holdsID), within the length
// bound, and for an identifier no leading formula character or space and
// no trailing space. It returns true only where checkIdent (or checkText)
// and holdsID accept b; anything else takes the full checks, which
// decide and word the reason.
func plainASCII(b []byte, ident bool) bool {
	if ident {
		if len(b) > MaxKeyLen {
			return false
		}
		switch b[0] {
		case '=', '+', '-', '@', ' ':
			return false
		}
		if b[len(b)-1] == ' ' {
			return false
		}
	} else if len(b) > MaxTextLen {
		return false
	}
	run := 0
	for _, ch := range b {
		switch {
		case ch >= '0' && ch <= '9':
			if run++; run >= 15 {
				return false
			}
			continue
		case ch >= 0x20 && ch < 0x7f:
		case !ident && (ch == '\t' || ch == '\n' || ch == '\r'):
		default:
			return false
		}
		run = 0
	}
	return true
}

// holdsID reports whether b is, or holds among other text, an ID number:
// a run of 18 digits (or 17 and a final X), or of 15 digits, that
// looksLikeID. A number in a free-text field (a diagnosis, a note) is as
// personal as one in a column of its own: stored, it would reach the
// warehouse in clear.
func holdsID(b []byte) bool {
	for i := 0; i < len(b); {
		if b[i] < '0' || b[i] > '9' {
			i++
			continue
		}
		j := i
		for j < len(b) && b[j] >= '0' && b[j] <= '9' {
			j++
		}
		if j-i == 17 && j < len(b) && (b[j] == 'X' || b[j] == 'x') {
			j++
		}
		if n := j - i; (n == 15 || n == 18) && looksLikeID(b[i:j]) {
			return true
		}
		i = j
	}
	return false
}

var errNotUTF8 = fmt.Errorf("%w: not valid UTF-8 (is the file GB18030? try --encoding gb18030)", ErrEncoding)

// encodingReason replaces the reason of a rejected field that is not
// valid text: a decoding problem explains itself better than "unknown
// code" with garbled bytes.
func encodingReason(b []byte, err error) error {
	if errors.Is(err, ErrEncoding) {
		return err
	}
	if !utf8.Valid(b) {
		return errNotUTF8
	}
	if bytes.ContainsRune(b, utf8.RuneError) {
		return fmt.Errorf("%w: holds U+FFFD, a character the decoder could not read (is the file UTF-8 read as GB18030? try --encoding utf-8)", ErrEncoding)
	}
	return err
}

func trimSpace(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}

// checkKey rejects a duplicate key (or, for tables without a key, a
// duplicate row) within the drop, and registers the key.
func (l *tableLoader) checkKey() error {
	if l.own != nil {
		k := l.vals[l.keyCols[0]].s
		i, had := l.own.idx.insert(k)
		if !had {
			l.own.inDrop = append(l.own.inDrop, true)
			return nil
		}
		if l.own.inDrop[i] {
			return fmt.Errorf("%w: %s %q appears earlier in the file", ErrDuplicate, l.t.Key[0], k)
		}
		l.own.inDrop[i] = true
		return nil
	}
	if len(l.keyCols) == 0 {
		return nil
	}
	if l.months != nil {
		ref, day := l.vals[l.keyCols[0]], l.vals[l.keyCols[1]]
		if dup, ok := l.months.add(ref.ref, day.mon); ok {
			if dup {
				return l.dupErr()
			}
			return nil
		}
	}
	kb := l.keyBuf[:0]
	for _, j := range l.keyCols {
		v := &l.vals[j]
		c := &l.cols[j]
		switch {
		case v.null:
			kb = append(kb, 0xff)
		case c.ref != nil:
			kb = appendU32(kb, uint32(v.ref))
		case c.col.Kind == datasets.Date || c.col.Kind == datasets.Month || c.col.Kind == datasets.Int:
			kb = appendU32(kb, uint32(v.i))
		case c.col.Kind == datasets.Money:
			kb = strconv.AppendFloat(kb, v.f, 'g', -1, 64)
			kb = append(kb, 0)
		case c.col.Kind == datasets.Bool:
			if v.b {
				kb = append(kb, 1)
			} else {
				kb = append(kb, 0)
			}
		default:
			kb = append(kb, v.s...)
			kb = append(kb, 0)
		}
	}
	l.keyBuf = kb
	if l.seen64 != nil && len(kb) == 8 {
		k := uint64(kb[0]) | uint64(kb[1])<<8 | uint64(kb[2])<<16 | uint64(kb[3])<<24 |
			uint64(kb[4])<<32 | uint64(kb[5])<<40 | uint64(kb[6])<<48 | uint64(kb[7])<<56
		if _, dup := l.seen64[k]; dup {
			return l.dupErr()
		}
		l.seen64[k] = struct{}{}
		return nil
	}
	if l.seen.insert(kb) {
		return l.dupErr()
	}
	return nil
}

func (l *tableLoader) dupErr() error {
	return fmt.Errorf("%w: (%s) appears earlier in the file", ErrDuplicate, strings.Join(l.t.Key, ", "))
}

func appendU32(b []byte, v uint32) []byte {
	return append(b, byte(v), byte(v>>8), byte(v>>16), byte(v>>24))
}

func (l *tableLoader) appendRow() error {
	b := l.cur
	b.begin()
	n := b.n
	for j := range l.cols {
		v := &l.vals[j]
		cb := &b.cols[j]
		if v.null {
			cb.null()
			continue
		}
		c := &l.cols[j]
		switch c.col.Kind {
		case datasets.String, datasets.Region, datasets.Enum:
			if c.col.Pseudonymised && l.ps.mac == nil {
				cb.null() // validating without a key: nothing is stored
			} else if c.col.Pseudonymised {
				// v.s is the 18-character form (normalizeID).
				cb.str(n, l.ps.sum(v.s))
			} else {
				cb.str(n, v.s)
			}
		case datasets.Date, datasets.Month:
			cb.int32(n, v.i)
		case datasets.Money:
			cb.float64(n, v.f)
		case datasets.Int:
			cb.int32(n, v.i)
		case datasets.Bool:
			cb.bool(n, v.b)
		}
	}
	b.end()
	if b.n >= batchRows {
		return l.flush()
	}
	return nil
}

// flush hands the current batch to the writer goroutine (or, without an
// output, empties it) and starts the next one.
func (l *tableLoader) flush() error {
	if l.cur.n == 0 {
		return nil
	}
	if l.progress != nil {
		l.progress(l.read)
	}
	if l.batches == nil {
		l.cur.reset()
		return nil
	}
	select {
	case l.batches <- l.cur:
	case err := <-l.wdone:
		// the writer failed and stopped
		l.wdone <- err
		return err
	}
	select {
	case b := <-l.free:
		b.reset()
		l.cur = b
	default:
		l.cur = newBatch(l.t)
	}
	return nil
}

// close finishes the Parquet file and the reject file.
func (l *tableLoader) close() error {
	if err := l.flush(); err != nil {
		l.stopWriter()
		return err
	}
	if err := l.stopWriter(); err != nil {
		return err
	}
	if l.rej != nil {
		l.rej.Flush()
		if err := l.rej.Error(); err != nil {
			return fmt.Errorf("write rejects: %w", err)
		}
	}
	if l.pw == nil {
		return nil
	}
	if err := l.pw.Close(); err != nil {
		l.out.Close()
		return fmt.Errorf("close parquet: %w", err)
	}
	if err := l.outBuf.Flush(); err != nil {
		l.out.Close()
		return err
	}
	if err := l.out.Close(); err != nil {
		return fault.Wrap(fault.Write, err)
	}
	return nil
}

// abort discards the outputs after a file error.
func (l *tableLoader) abort() {
	l.stopWriter()
	if l.out != nil {
		l.out.Close()
	}
}

// reject writes the row to the reject file. fieldsOK tells whether the row
// was split into the header's fields, so that personal columns can be
// masked in the original text; a malformed row of a file with personal data
// has its original withheld. In every case long digit runs (ID numbers,
// bank accounts, phones) are scrubbed from the reason and the original
// (scrubNumbers), the original is cut to maxOriginal bytes, and cells that
// a spreadsheet would read as formulas are neutralised.
func (l *tableLoader) reject(rr *rowReader, e *RowError, fieldsOK bool) error {
	l.rejected++
	l.noteReject(e)
	if l.rej == nil {
		return nil
	}
	l.rejRec[0] = e.File
	l.rejRec[1] = strconv.Itoa(e.Line)
	l.rejRec[2] = e.Column
	l.rejRec[3] = neutralCell(scrubNumbers(reason(e.Err), l.ps))
	switch {
	case !l.masked:
		l.rejRec[4] = scrubNumbers(string(rr.raw), l.ps)
	case !fieldsOK:
		l.rejRec[4] = "(withheld: malformed row in a file with personal data)"
	default:
		l.rejRec[4] = l.maskedLine(rr)
	}
	l.rejRec[4] = neutralCell(safeText(cutText(l.rejRec[4])))
	return l.rej.Write(l.rejRec)
}

// reason is the text of a reject: the sentinel's wording and the detail.
func reason(err error) string { return err.Error() }

// maskedLine re-serialises the record with personal fields masked: an ID
// number column by its pseudonym (or a placeholder without a key), other
// personal columns by ***, and digit runs scrubbed everywhere.
func (l *tableLoader) maskedLine(rr *rowReader) string {
	var sb strings.Builder
	for i := 0; i < rr.numFields(); i++ {
		if i > 0 {
			sb.WriteByte(',')
		}
		f := rr.field(i)
		var s string
		switch {
		case len(f) == 0:
		case l.mask[i] == 1:
			s = l.ps.forReject(trimSpace(f))
		case l.mask[i] == 2:
			s = "***"
		default:
			s = scrubNumbers(string(f), l.ps)
		}
		if strings.ContainsAny(s, "\",\n\r") || (s != "" && (s[0] == ' ' || s[0] == '\t')) {
			s = `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
		}
		sb.WriteString(s)
	}
	return sb.String()
}

// PersonalColumn is a column found to hold personal data: by its values
// (ID numbers, whatever the header) or by its header (names, phones,
// accounts). Its values are never stored and never written in clear.
type PersonalColumn struct {
	Column string `json:"column"`
	// IDNumbers counts the values that are ID numbers (valid GB 11643
	// checksum, or 15-digit legacy numbers with a valid birth date).
	IDNumbers int64  `json:"id_numbers"`
	ByHeader  bool   `json:"by_header"` // the header names personal data
	Action    string `json:"action"`
}

// personalColumns lists the extra columns holding personal data.
func (l *tableLoader) personalColumns() []PersonalColumn {
	var out []PersonalColumn
	for i, h := range l.header {
		if !l.isExtra[i] || l.idCount[i] == 0 && l.mask[i] != 2 {
			continue
		}
		out = append(out, PersonalColumn{Column: safeText(scrubNumbers(strings.TrimSpace(h), noKey)), IDNumbers: l.idCount[i], ByHeader: l.mask[i] == 2,
			Action: "not a column of the standard: dropped, never stored; pseudonymised or withheld in reject files"})
	}
	return out
}

// PersonalSummary describes the personal columns of a table for a report line,
// without any value: "column 户主身份证号码: 41 ID numbers; column name: by header".
func (t *TableReport) PersonalSummary() string {
	var parts []string
	for _, p := range t.Personal {
		s := "column " + p.Column + ": "
		switch {
		case p.IDNumbers > 0 && p.ByHeader:
			s += fmt.Sprintf("%d ID numbers, header names personal data", p.IDNumbers)
		case p.IDNumbers > 0:
			s += fmt.Sprintf("%d ID numbers", p.IDNumbers)
		default:
			s += "header names personal data"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, "; ")
}

// loadCSV runs every record of rr through the loader.
func (l *tableLoader) loadCSV(ctx context.Context, rr *rowReader) error {
	for n := 0; ; n++ {
		if n&0xfff == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		err := rr.next()
		if err == io.EOF {
			return nil
		}
		if err != nil && !errors.Is(err, ErrQuote) {
			return &FileError{File: l.file, Err: fmt.Errorf("read line %d: %w", rr.line, err)}
		}
		if err := l.row(rr, err); err != nil {
			return err
		}
	}
}

func arrowDate(days int32) arrow.Date32 { return arrow.Date32(days) }

// monthSet records (reference index, month) keys as one 64-bit window of
// months per referenced key: a month outside the window (set by the first
// key seen) is left to the general key map.
type monthSet struct {
	base int // month number (year*12+month-1) of bit 0; -1 until the first key
	bits []uint64
}

// add records the key (mon: the month's number, y*12 + m - 1); ok is
// false when the month is outside the window.
func (s *monthSet) add(ref int32, mon int32) (dup, ok bool) {
	if int(ref) >= len(s.bits) {
		return false, false
	}
	mn := int(mon)
	if s.base < 0 {
		s.base = mn - 16
	}
	off := mn - s.base
	if off < 0 || off >= 64 {
		return false, false
	}
	w := &s.bits[ref]
	bit := uint64(1) << uint(off)
	if *w&bit != 0 {
		return true, true
	}
	*w |= bit
	return false, true
}
