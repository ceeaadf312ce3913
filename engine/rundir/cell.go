package rundir

import (
	"strings"
	"unicode/utf8"
)

// formulaStarts are the first characters that make Excel or WPS read a
// cell as a formula (or as DDE): = + - @, tab and carriage return, their
// full-width forms and the small forms ﹦ ﹢ ﹣ ﹫, which input methods
// type and WPS normalises.
const formulaStarts = "=+-@\t\r＝＋－＠﹦﹢﹣﹫"

// Cell neutralises a text cell of a CSV file meant for offices: a cell
// whose first character would start a formula (=HYPERLINK(...), +cmd|...,
// @SUM, -2+3) gets a leading apostrophe, which spreadsheets show as text
// and do not evaluate. Other cells are returned unchanged, so that the
// files of ordinary data keep their bytes. Numbers are written by
// FormatFloat and never pass through Cell: a negative amount stays a
// number.
func Cell(s string) string {
	if s == "" {
		return s
	}
	r, _ := utf8.DecodeRuneInString(s)
	if strings.ContainsRune(formulaStarts, r) {
		return "'" + s
	}
	return s
}
