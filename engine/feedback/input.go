package feedback

import (
	"bytes"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/povrisk/povrisk/engine/fault"
)

// input is one file read: its rows, not yet checked.
type input struct {
	path, sha, format string
	asOf              string // work lists: _povrisk as_of (YYYY-MM-DD)
	county            string // work lists: _povrisk county_code
	sheets            []sheet
}

// sheet is one sheet of a work list, or the rows of a CSV file (name "").
type sheet struct {
	name string
	cols columns // the header texts, for reject rows
	rows []rawRow
}

// columns are the names of the input's columns as its header spells them.
type columns struct{ household, outcome, date, source, visitor, note string }

// rawRow is one row as read: trimmed cell texts.
type rawRow struct {
	row                                     int // the sheet's row number, or the CSV record's line
	household, outcome, date, visitor, note string
	source                                  string // CSV only; work-list rows are visits of source model
	date1904                                bool   // a serial number in date counts from 1904 (old Mac Excel)
	bad                                     string // a problem of the whole row found while reading (reason)
	badCode                                 string
}

// Header texts of the work list (docs/run-directory.md, R2 contract).
const (
	hHousehold = "户编号"
	hOutcome   = "核查结果"
	hDate      = "核查日期"
	hVisitor   = "核查人编号"
	hNote      = "备注"
	metaSheet  = "_povrisk"
	// eliminationSheet (issue 16) assesses monitored households, who are
	// on no visit list: it is never read for visits.
	eliminationSheet = "风险消除评估"
	// headerScan is how many rows are searched for the header row.
	headerScan = 20
)

// readInput reads one file by its content: a zip archive is a work list,
// anything else a CSV file.
func readInput(path string) (*input, error) {
	if _, err := fileSize(path); err != nil {
		return nil, err
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fault.Input(fmt.Errorf("read %s: %w", path, err))
	}
	sum := sha256.Sum256(b)
	in := &input{path: path, sha: hex.EncodeToString(sum[:])}
	if bytes.HasPrefix(b, []byte{0xD0, 0xCF, 0x11, 0xE0}) {
		return nil, fault.Wrap(fault.BadInput, fmt.Errorf("%s is an old binary workbook (.xls of Excel 97-2003, or .et of WPS): open it and save it as Excel .xlsx, then import that", filepath.Base(path)))
	}
	if bytes.HasPrefix(b, []byte("PK\x03\x04")) {
		in.format = "xlsx"
		err = readXLSX(in, b)
	} else {
		in.format = "csv"
		var s sheet
		s, err = readCSV(b)
		in.sheets = []sheet{s}
	}
	if err != nil {
		return nil, fault.Wrap(fault.BadInput, fmt.Errorf("%s: %w", filepath.Base(path), err))
	}
	return in, nil
}

// readXLSX reads a work list. Whatever the bytes, it returns an error
// rather than panicking.
func readXLSX(in *input, b []byte) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("the workbook cannot be read (%v): is it a damaged .xlsx file?", r)
		}
	}()
	f, err := excelize.OpenReader(bytes.NewReader(b), excelize.Options{UnzipSizeLimit: 1 << 30, UnzipXMLSizeLimit: 256 << 20})
	if err != nil {
		return fmt.Errorf("the workbook cannot be read (%v): is it an .xlsx file (not .xls or .et)? save it as Excel 2007-365 (.xlsx)", err)
	}
	defer f.Close()
	if err := readMeta(f, in); err != nil {
		return err
	}
	date1904 := false
	if p, err := f.GetWorkbookProps(); err == nil && p.Date1904 != nil {
		date1904 = *p.Date1904
	}
	for _, name := range f.GetSheetList() {
		if name == metaSheet || name == eliminationSheet {
			continue
		}
		rows, err := f.GetRows(name, excelize.Options{RawCellValue: true})
		if err != nil {
			return fmt.Errorf("sheet %s: %v", name, err)
		}
		s, ok, err := listSheet(name, rows, date1904)
		if err != nil {
			return fmt.Errorf("sheet %s: %w", name, err)
		}
		if ok {
			in.sheets = append(in.sheets, s)
		}
	}
	if len(in.sheets) == 0 {
		return fmt.Errorf("%w: no sheet has a header row with %s and %s in its first %d rows", ErrNotWorkList, hHousehold, hOutcome, headerScan)
	}
	return nil
}

// readMeta reads the very hidden sheet _povrisk (keys in A, values in B).
func readMeta(f *excelize.File, in *input) error {
	idx, err := f.GetSheetIndex(metaSheet)
	if err != nil || idx < 0 {
		return fmt.Errorf("%w: no %s sheet (the hidden sheet naming the run and the county); import the work list povrisk wrote, filled in, not a copy of its cells", ErrNotWorkList, metaSheet)
	}
	rows, err := f.GetRows(metaSheet, excelize.Options{RawCellValue: true})
	if err != nil {
		return fmt.Errorf("sheet %s: %v", metaSheet, err)
	}
	meta := map[string]string{}
	for _, r := range rows {
		if len(r) >= 2 {
			meta[trim(r[0])] = trim(r[1])
		}
	}
	if !strings.HasPrefix(meta["format"], "povrisk-worklist/") {
		return fmt.Errorf("%w: sheet %s has format %q, want povrisk-worklist/1", ErrNotWorkList, metaSheet, cut(meta["format"]))
	}
	if meta["format"] != "povrisk-worklist/1" {
		return fmt.Errorf("work list format %q is newer than this povrisk reads (povrisk-worklist/1): upgrade povrisk", cut(meta["format"]))
	}
	in.asOf, in.county = meta["as_of"], meta["county_code"]
	// Written as text YYYY-MM-DD; a spreadsheet that turned it into a date
	// cell gives a serial number, read back to the same day.
	d, ok := parseVisitDate(in.asOf, false)
	if !ok {
		return fmt.Errorf("sheet %s: as_of %q is not a date YYYY-MM-DD", metaSheet, cut(in.asOf))
	}
	in.asOf = formatDays(d)
	if len(in.county) != 6 || !allDigits(in.county) {
		return fmt.Errorf("sheet %s: county_code %q is not a 6-digit county code", metaSheet, cut(in.county))
	}
	return nil
}

// listSheet finds the header row and reads the data rows of one sheet;
// ok is false for a sheet without the header (汇总, 说明, ...).
func listSheet(name string, rows [][]string, date1904 bool) (sheet, bool, error) {
	s := sheet{name: name}
	hdr := -1
	var pos map[string]int
	for r := 0; r < len(rows) && r < headerScan; r++ {
		p := map[string]int{}
		for c, v := range rows[r] {
			if v = trim(v); v != "" {
				if _, dup := p[v]; !dup {
					p[v] = c
				}
			}
		}
		if _, ok := p[hHousehold]; ok {
			if _, ok := p[hOutcome]; ok {
				hdr, pos = r, p
				break
			}
		}
	}
	if hdr < 0 {
		return s, false, nil
	}
	if _, ok := pos[hDate]; !ok {
		return s, false, fmt.Errorf("the header row (row %d) has no column %s", hdr+1, hDate)
	}
	s.cols = columns{household: hHousehold, outcome: hOutcome, date: hDate, visitor: hVisitor, note: hNote}
	cell := func(r []string, h string) string {
		c, ok := pos[h]
		if !ok || c >= len(r) {
			return ""
		}
		return trim(r[c])
	}
	for r := hdr + 1; r < len(rows); r++ {
		row := rawRow{row: r + 1, household: cell(rows[r], hHousehold), outcome: cell(rows[r], hOutcome),
			date: cell(rows[r], hDate), visitor: cell(rows[r], hVisitor), note: cell(rows[r], hNote)}
		if row.household == "" && row.outcome == "" && row.date == "" && row.visitor == "" && row.note == "" {
			continue // no cell at all: not a row of the list
		}
		row.date1904 = date1904
		s.rows = append(s.rows, row)
	}
	return s, true, nil
}

// CSV columns of the visit_outcomes table.
var csvRequired = []string{"household_id", "visit_date", "outcome"}

// readCSV reads a CSV file in the visit_outcomes format: a header row;
// UTF-8 with or without BOM, or GB18030 when it is not valid UTF-8.
func readCSV(b []byte) (sheet, error) {
	b = bytes.TrimPrefix(b, []byte{0xEF, 0xBB, 0xBF})
	if !utf8.Valid(b) {
		d, err := simplifiedchinese.GB18030.NewDecoder().Bytes(b)
		if err != nil {
			return sheet{}, fmt.Errorf("neither UTF-8 nor GB18030 text: %v", err)
		}
		b = d
	}
	s := sheet{cols: columns{household: "household_id", outcome: "outcome", date: "visit_date", source: "source", visitor: "visitor_code", note: "note"}}
	r := csv.NewReader(bytes.NewReader(b))
	r.FieldsPerRecord = -1
	r.ReuseRecord = false
	header, err := r.Read()
	if err == io.EOF {
		return s, errors.New("empty file: no header row")
	}
	if err != nil {
		return s, fmt.Errorf("header: %v", err)
	}
	pos := map[string]int{}
	for i, h := range header {
		h = strings.ToLower(trim(h))
		if _, dup := pos[h]; dup && h != "" {
			return s, fmt.Errorf("column %s appears twice in the header", cut(h))
		}
		pos[h] = i
	}
	for _, c := range csvRequired {
		if _, ok := pos[c]; !ok {
			return s, fmt.Errorf("column %s: required column missing from the header (want household_id, visit_date, outcome, and optionally source, visitor_code, note)", c)
		}
	}
	get := func(rec []string, c string) string {
		i, ok := pos[c]
		if !ok || i >= len(rec) {
			return ""
		}
		return trim(rec[i])
	}
	for {
		rec, err := r.Read()
		if err == io.EOF {
			return s, nil
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return s, fmt.Errorf("line %d: %v (a quote not closed?)", pe.StartLine, pe.Err)
			}
			return s, err
		}
		line, _ := r.FieldPos(0)
		row := rawRow{row: line, household: get(rec, "household_id"), outcome: get(rec, "outcome"), date: get(rec, "visit_date"),
			source: get(rec, "source"), visitor: get(rec, "visitor_code"), note: get(rec, "note")}
		if len(rec) != len(header) {
			row.bad, row.badCode = fmt.Sprintf("该行有 %d 个字段，表头有 %d 个", len(rec), len(header)), "field_count"
		}
		s.rows = append(s.rows, row)
	}
}

// trim removes spaces of any kind (full-width and no-break spaces
// included) and zero-width characters around a cell.
func trim(s string) string {
	return strings.TrimFunc(s, func(r rune) bool { return unicode.IsSpace(r) || r == '\u200b' || r == '\ufeff' })
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// cut shortens a value quoted in an error (masked: it may be anything).
func cut(s string) string {
	if len(s) > 40 {
		s = s[:40]
		for len(s) > 0 && !utf8.ValidString(s) {
			s = s[:len(s)-1]
		}
		s += "..."
	}
	return maskCell(s)
}
