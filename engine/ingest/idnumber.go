package ingest

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"time"

	"github.com/povrisk/povrisk/datasets"
	"github.com/povrisk/povrisk/engine/civil"
)

// Resident ID numbers (GB 11643-1999): 6 digits of the county of
// registration, 8 of the birth date, 3 of sequence and a check character
// (0-9 or X). Legacy numbers (before 1999) have 15 digits: the county, a
// two-digit year (19xx), month, day and 3 of sequence, and no check.

func allDigits(b []byte) bool {
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return len(b) > 0
}

// validIDDate reports whether y, m, d (as digits) is a calendar day.
func validIDDate(y, m, d int) bool {
	return y >= 1800 && m >= 1 && m <= 12 && d >= 1 && d <= civil.DaysInMonth(y, time.Month(m))
}

// normalizeID checks an ID number and returns its 18-character form in
// dst[:0]: an 18-character number must have 17 digits, a valid birth date
// and the right check character (a lower-case x is read as X); a
// 15-digit legacy number is converted by the standard rule ("19" before
// the two-digit year, then the check character of GB 11643-1999). The
// error never quotes the value.
func normalizeID(dst, b []byte) ([]byte, error) {
	dst = dst[:0]
	switch len(b) {
	case 15:
		if !allDigits(b) {
			return nil, fmt.Errorf("%w: 15-character ID number has a character other than a digit", ErrType)
		}
		dst = append(dst, b[:6]...)
		dst = append(dst, '1', '9')
		dst = append(dst, b[6:]...)
	case 18:
		if !allDigits(b[:17]) || !(b[17] >= '0' && b[17] <= '9' || b[17] == 'X' || b[17] == 'x') {
			return nil, fmt.Errorf("%w: ID number has a character other than a digit (or a final X)", ErrType)
		}
		dst = append(dst, b...)
		if dst[17] == 'x' {
			dst[17] = 'X'
		}
	default:
		return nil, fmt.Errorf("%w: ID number has %d characters, want 18 (or a 15-digit legacy number)", ErrType, len(b))
	}
	y, _ := digits(dst[6:10])
	m, _ := digits(dst[10:12])
	d, _ := digits(dst[12:14])
	if !validIDDate(y, m, d) {
		return nil, fmt.Errorf("%w: ID number does not hold a valid birth date", ErrType)
	}
	c, err := datasets.IDCheckDigit(dst[:17])
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrType, err)
	}
	if len(b) == 15 {
		return append(dst[:17], c), nil
	}
	if dst[17] != c {
		return nil, fmt.Errorf("%w: ID number fails the GB 11643 checksum (mistyped digit?)", ErrType)
	}
	return dst, nil
}

// looksLikeID reports whether b is an ID number by its value: 18
// characters with a valid birth date and check character, or 15 digits
// with a valid birth date (19YYMMDD). Used to find personal data in
// columns whatever their header.
func looksLikeID(b []byte) bool {
	if len(b) != 15 && len(b) != 18 {
		return false
	}
	var buf [18]byte
	_, err := normalizeID(buf[:0], b)
	return err == nil
}

// LooksLikeIDNumber reports whether s is an ID number by its value (see
// looksLikeID): commands that take a household id use it to refuse an ID
// number without repeating it in their messages.
func LooksLikeIDNumber(s string) bool { return looksLikeID([]byte(s)) }

// pseudonymizer computes the pseudonym of an ID number: hex(HMAC-SHA-256(key,
// the 18-character form)), the value stored as id_number_hash. Without a
// key (validating) there is no pseudonym.
type pseudonymizer struct {
	mac    hash.Hash
	norm   [18]byte
	hexBuf [64]byte
}

func newPseudonymizer(key []byte) *pseudonymizer {
	p := &pseudonymizer{}
	if key != nil {
		p.mac = hmac.New(sha256.New, key)
	}
	return p
}

// sum returns the pseudonym of the normalised ID number id (valid until
// the next call), or nil without a key.
func (p *pseudonymizer) sum(id []byte) []byte {
	if p.mac == nil {
		return nil
	}
	p.mac.Reset()
	p.mac.Write(id)
	var s [sha256.Size]byte
	hex.Encode(p.hexBuf[:], p.mac.Sum(s[:0]))
	return p.hexBuf[:]
}

// idNoKey is written in reject files and reports in place of an ID number
// when there is no key to pseudonymise it with (validate).
const idNoKey = "[ID number]"

// forReject is what a reject file shows in place of a value holding an ID
// number: "id:" and its pseudonym when it is a valid ID number and there
// is a key (the same pseudonym as id_number_hash in the warehouse), else
// a placeholder. No digit of the value is kept.
func (p *pseudonymizer) forReject(b []byte) string {
	if p.mac != nil {
		if n, err := normalizeID(p.norm[:0], b); err == nil {
			return "id:" + string(p.sum(n))
		}
	}
	return idNoKey
}
