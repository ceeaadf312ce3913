package ingest

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/povrisk/povrisk/datasets"
	"github.com/povrisk/povrisk/engine/civil"
)

// Bounds of identifiers and free text (documented in docs/contracts.md).
const (
	// MaxKeyLen is the longest identifier accepted (household_id,
	// person_id, claim_id, event_id, employer_id), in bytes.
	MaxKeyLen = 64
	// MaxTextLen is the longest free-text field accepted (diagnosis,
	// regions.name, visit_outcomes.note), in bytes.
	MaxTextLen = 4096
)

// isIdentifier reports whether column c of table t is an identifier: a
// String column of the key, a reference, or named *_id or *_code
// (visit_outcomes.visitor_code).
func isIdentifier(t datasets.Table, c datasets.Column) bool {
	if c.Ref != "" || strings.HasSuffix(c.Name, "_id") || strings.HasSuffix(c.Name, "_code") {
		return true
	}
	for _, k := range t.Key {
		if k == c.Name {
			return true
		}
	}
	return false
}

// checkIdent checks an identifier (valid UTF-8 already): at most MaxKeyLen
// bytes; printable characters only (no control character, no ANSI escape,
// no tab, CR or LF, no invisible or direction-changing character); no
// leading or trailing space; no leading = + - @, which spreadsheets read
// as a formula.
func checkIdent(b []byte) error {
	if len(b) > MaxKeyLen {
		return fmt.Errorf("%w: identifier of %d bytes, longer than %d", ErrText, len(b), MaxKeyLen)
	}
	switch b[0] {
	case '=', '+', '-', '@':
		return fmt.Errorf("%w: identifier %s starts with %q, which spreadsheets read as a formula", ErrText, quoteVal(b), b[0])
	case ' ':
		return fmt.Errorf("%w: identifier %s starts with a space", ErrText, quoteVal(b))
	}
	if b[len(b)-1] == ' ' {
		return fmt.Errorf("%w: identifier %s ends with a space", ErrText, quoteVal(b))
	}
	for i := 0; i < len(b); {
		r, n := rune(b[i]), 1
		if r >= 0x80 {
			r, n = utf8.DecodeRune(b[i:])
		}
		if badRune(r) {
			return fmt.Errorf("%w: identifier %s holds the control or invisible character %U", ErrText, quoteVal(b), r)
		}
		i += n
	}
	return nil
}

// checkText checks free text (valid UTF-8 already): at most MaxTextLen
// bytes, no control character but tab and line ends, no ANSI escape.
func checkText(b []byte) error {
	if len(b) > MaxTextLen {
		return fmt.Errorf("%w: text of %d bytes, longer than %d", ErrText, len(b), MaxTextLen)
	}
	for i := 0; i < len(b); {
		c := b[i]
		if c < 0x80 {
			if c < 0x20 && c != '\t' && c != '\n' && c != '\r' || c == 0x7f {
				return fmt.Errorf("%w: text holds the control character %U at byte %d (the text is not repeated: it may be personal data)", ErrText, rune(c), i)
			}
			i++
			continue
		}
		r, n := utf8.DecodeRune(b[i:])
		if r >= 0x80 && r <= 0x9f || isBidi(r) {
			return fmt.Errorf("%w: text holds the control or invisible character %U at byte %d (the text is not repeated: it may be personal data)", ErrText, r, i)
		}
		i += n
	}
	return nil
}

// badRune: a character an identifier may not hold.
func badRune(r rune) bool {
	switch {
	case r < 0x20, r == 0x7f, r >= 0x80 && r <= 0x9f:
		return true
	case r == 0xa0, r == 0xad, r >= 0x2000 && r <= 0x200f, r == 0x2028, r == 0x2029, r == 0x205f, r == 0x3000, r == 0xfeff, r == utf8.RuneError:
		return true // spaces other than ' ', zero-width and soft-hyphen characters, BOM
	}
	return isBidi(r)
}

// isBidi: the characters that change the direction of text ("Trojan source").
func isBidi(r rune) bool {
	return r >= 0x202a && r <= 0x202e || r >= 0x2066 && r <= 0x2069 || r == 0x061c
}

// plannedAhead lists the date columns that may lie after the export date.
// The standard names none explicitly; the planned end of an assistance
// programme (its approval period, 审批期限) is routinely recorded ahead,
// so assistance.end_date is accepted up to maxYear.
var plannedAhead = map[string]bool{"assistance.end_date": true}

// lastDayFor is the last day a Date or Month column of table accepts: the
// export date, or the end of maxYear for a planned-ahead column.
func lastDayFor(table string, c datasets.Column) int32 {
	if plannedAhead[table+"."+c.Name] {
		return daysFromCivil(maxYear, 12, 31)
	}
	return exportDay()
}

// exportDay is the export date of the drop: the standard has no field for
// it, so it is the date of the ingest, taken at UTC+14 (the latest date on
// Earth at this moment), so that no time zone of an exporting office makes
// today's rows look ahead.
func exportDay() int32 {
	t := time.Now().In(time.FixedZone("UTC+14", 14*3600))
	return daysFromCivil(t.Year(), int(t.Month()), t.Day())
}

func formatDay(d int32) string {
	y, m, dd := civilFromDays(d)
	return civil.Format(civil.Date(y, time.Month(m), dd))
}

// scrubNumbers replaces, in text meant for a reject file, every run of 14
// or more digits (an optional final X included) by the ID number's
// pseudonym (p.forReject) or "[number]", and every 11-digit mobile number
// (1[3-9]...) by "[phone]": a digit of an ID number, a bank account or a
// phone never reaches a reject file, whatever column it sits in. Region
// codes (12 digits), dates and amounts are left alone.
func scrubNumbers(s string, p *pseudonymizer) string {
	var out []byte
	last := 0
	for i := 0; i < len(s); {
		if s[i] < '0' || s[i] > '9' {
			i++
			continue
		}
		j := i
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			j++
		}
		if j < len(s) && (s[j] == 'X' || s[j] == 'x') && j-i == 17 {
			j++
		}
		var rep string
		switch n := j - i; {
		case n >= 14:
			rep = "[number]"
			if looksLikeID([]byte(s[i:j])) {
				rep = p.forReject([]byte(s[i:j]))
			}
		case n == 11 && s[i] == '1' && s[i+1] >= '3':
			rep = "[phone]"
		}
		if rep != "" {
			out = append(append(out, s[last:i]...), rep...)
			last = j
		}
		i = j
	}
	if out == nil {
		return s
	}
	return string(append(out, s[last:]...))
}

// maxOriginal is the longest original text kept in a reject row, in bytes.
const maxOriginal = 4096

// cutText cuts s to maxOriginal bytes (at a character boundary), saying so.
func cutText(s string) string {
	if len(s) <= maxOriginal {
		return s
	}
	cut := maxOriginal
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + fmt.Sprintf("... (cut: %d bytes in all)", len(s))
}

// safeText escapes, in text for a reject file, the characters that would
// act on a terminal or hide text: control characters other than tab and
// line ends, DEL, C1 controls and direction overrides become \x{HH} or
// \u{HHHH} (braced, so that their hex digits never join a digit run).
func safeText(s string) string {
	clean := true
	for _, r := range s {
		if controlRune(r) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			fmt.Fprintf(&b, "\\x{%02x}", s[i])
		case controlRune(r) && r < 0x80:
			fmt.Fprintf(&b, "\\x{%02x}", r)
		case controlRune(r):
			fmt.Fprintf(&b, "\\u{%04x}", r)
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

func controlRune(r rune) bool {
	return r < 0x20 && r != '\t' && r != '\n' && r != '\r' || r == 0x7f || r >= 0x80 && r <= 0x9f || isBidi(r)
}

// neutralCell keeps a spreadsheet from reading a reject cell as a formula:
// a cell starting with = + - @ (or a tab or CR) gets a leading apostrophe.
func neutralCell(s string) string {
	if s != "" && strings.IndexByte("=+-@\t\r", s[0]) >= 0 {
		return "'" + s
	}
	return s
}
