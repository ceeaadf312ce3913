package ingest

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
)

// TestNormalizeID: check characters and 15-digit conversions worked by
// hand with the GB 11643-1999 weights (7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2,
// sum mod 11 indexes "10X98765432").
func TestNormalizeID(t *testing.T) {
	tests := []struct {
		in, want string
		bad      string // part of the error, "" when valid
	}{
		{"11010519491231002X", "11010519491231002X", ""},
		{"11010519491231002x", "11010519491231002X", ""}, // lower-case x read as X
		{"520123198001011237", "520123198001011237", ""},
		{"52012319800101100X", "52012319800101100X", ""},
		{"110105491231002", "11010519491231002X", ""}, // legacy: 19 inserted, check X
		{"520123800101123", "520123198001011237", ""}, // legacy: check 7
		{"520123198001011234", "", "checksum"},
		{"11010519491231002Y", "", "digit"},
		{"5201231980010112X7", "", "digit"},
		{"52012319800101123", "", "17 characters"},
		{"520123198013011237", "", "birth date"}, // month 13
		{"520123801301123", "", "birth date"},    // legacy month 13
		{"52012380010112a", "", "digit"},
		{"", "", "0 characters"},
	}
	for _, tc := range tests {
		got, err := normalizeID(nil, []byte(tc.in))
		switch {
		case tc.bad == "" && (err != nil || string(got) != tc.want):
			t.Errorf("normalizeID(%s) = %s, %v; want %s", tc.in, got, err, tc.want)
		case tc.bad != "" && (err == nil || !strings.Contains(err.Error(), tc.bad) || !errors.Is(err, ErrType)):
			t.Errorf("normalizeID(%s) = %s, %v; want an error about %q", tc.in, got, err, tc.bad)
		case err != nil && strings.Contains(err.Error(), tc.in[:min(len(tc.in), 6)]) && tc.in != "":
			t.Errorf("normalizeID(%s): the error quotes the value: %v", tc.in, err)
		}
		if looksLikeID([]byte(tc.in)) != (tc.bad == "") {
			t.Errorf("looksLikeID(%s) = %v", tc.in, !(tc.bad == ""))
		}
	}
}

// TestPseudonymInRejects: the pseudonym of a reject is the warehouse's
// id_number_hash (HMAC-SHA-256 of the 18-character form, computed here
// with crypto/hmac directly), for a legacy number too; without a key there
// is a placeholder.
func TestPseudonymInRejects(t *testing.T) {
	mac := hmac.New(sha256.New, testKey)
	mac.Write([]byte("11010519491231002X"))
	want := "id:" + hex.EncodeToString(mac.Sum(nil))
	p := newPseudonymizer(testKey)
	for _, in := range []string{"11010519491231002X", "11010519491231002x", "110105491231002"} {
		if got := p.forReject([]byte(in)); got != want {
			t.Errorf("forReject(%s) = %s, want %s", in, got, want)
		}
	}
	if got := p.forReject([]byte("520123198001011234")); got != idNoKey {
		t.Errorf("forReject(bad checksum) = %s, want %s", got, idNoKey)
	}
	if got := newPseudonymizer(nil).forReject([]byte("11010519491231002X")); got != idNoKey {
		t.Errorf("forReject without key = %s", got)
	}
}

// TestScrubNumbers: long digit runs and mobile numbers leave reject text;
// region codes, dates and amounts stay.
func TestScrubNumbers(t *testing.T) {
	p := newPseudonymizer(nil)
	tests := []struct{ in, want string }{
		{"P1,H1,11010519491231002X,1949-12-31", "P1,H1,[ID number],1949-12-31"},
		{"a 110105491231002 b", "a [ID number] b"},
		{"acct 6222020200112233445", "acct [number]"},
		{"52012319800101123,x", "[number],x"}, // 17 digits: not an ID, still no digit of it
		{"tel 13800000001.", "tel [phone]."},
		{"520123102201,2024-01-01,1500.50,20240101", "520123102201,2024-01-01,1500.50,20240101"},
		{"12345678901", "12345678901"}, // 11 digits not starting 13-19
	}
	for _, tc := range tests {
		if got := scrubNumbers(tc.in, p); got != tc.want {
			t.Errorf("scrubNumbers(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestCheckIdent(t *testing.T) {
	ok := []string{"H001", "户001", "a.b_c/d:e", "P-1", "x"}
	bad := map[string]string{
		strings.Repeat("h", 65): "longer than 64",
		"H\x00001":              "control",
		"H\x1b[31m1":            "control",
		"=HYPERLINK(\"x\")":     "formula",
		"+cmd|' /C calc'!A0":    "formula",
		"-1":                    "formula",
		"@SUM(1)":               "formula",
		"H\t1":                  "control",
		"H\r1":                  "control",
		" H1":                   "space",
		"H1 ":                   "space",
		"H\u202e1":              "invisible",
		"H\u200b1":              "invisible",
		"H\u00851":              "control",
	}
	for _, s := range ok {
		if err := checkIdent([]byte(s)); err != nil {
			t.Errorf("checkIdent(%q) = %v", s, err)
		}
	}
	for s, want := range bad {
		err := checkIdent([]byte(s))
		if err == nil || !errors.Is(err, ErrText) || !strings.Contains(err.Error(), want) {
			t.Errorf("checkIdent(%q) = %v, want %q", s, err, want)
		}
	}
	if err := checkText([]byte("I63.9\nline two\ttab")); err != nil {
		t.Errorf("checkText: %v", err)
	}
	for _, s := range []string{"a\x00b", "\x1b[2J", strings.Repeat("x", MaxTextLen+1), "a\u202eb"} {
		if err := checkText([]byte(s)); !errors.Is(err, ErrText) {
			t.Errorf("checkText(%.20q) = %v, want ErrText", s, err)
		}
	}
}
