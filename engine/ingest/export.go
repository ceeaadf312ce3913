package ingest

import (
	"errors"
	"unicode/utf8"
)

// The checks and masks of this package, for other readers of the
// standard's tables (engine/feedback reads visit outcomes from work
// lists): the same rules, not copies of them.

// CheckIdentifier applies the standard's identifier rules (household_id,
// visitor_code, ...): valid UTF-8, not empty, at most MaxKeyLen bytes,
// printable, no leading or trailing space, no leading = + - @, and no ID
// number. The error never quotes a value holding an ID number.
func CheckIdentifier(s string) error {
	b := []byte(s)
	switch {
	case len(b) == 0:
		return ErrMissing
	case !utf8.Valid(b):
		return errNotUTF8
	case holdsID(b):
		return errors.Join(ErrPersonal, errors.New("holds what looks like a resident ID number"))
	}
	return checkIdent(b)
}

// CheckText applies the standard's free-text rules (a diagnosis, a note):
// valid UTF-8, at most MaxTextLen bytes, no control character but tab and
// line ends, no direction override. The error never quotes the text.
func CheckText(s string) error {
	b := []byte(s)
	if !utf8.Valid(b) {
		return errNotUTF8
	}
	return checkText(b)
}

// RedactIDNumbers replaces every ID number in s (18 characters with a
// valid GB 11643 checksum, or a 15-digit legacy number) by "[ID number]"
// and returns the text and how many were replaced.
func RedactIDNumbers(s string) (string, int) {
	n := 0
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
		if j-i == 17 && j < len(s) && (s[j] == 'X' || s[j] == 'x') {
			j++
		}
		if k := j - i; (k == 15 || k == 18) && looksLikeID([]byte(s[i:j])) {
			out = append(append(out, s[last:i]...), idNoKey...)
			last = j
			n++
		}
		i = j
	}
	if n == 0 {
		return s, 0
	}
	return string(append(out, s[last:]...)), n
}

// MaskForReject is a value as a reject file may show it: runs of 14 or
// more digits (ID numbers, bank accounts) replaced by [ID number] or
// [number], mobile numbers by [phone], control characters escaped, cut to
// 4096 bytes, and a leading = + - @ neutralised for spreadsheets.
func MaskForReject(s string) string {
	return neutralCell(safeText(cutText(scrubNumbers(s, noKey))))
}
