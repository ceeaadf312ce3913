package hist

import (
	"bytes"
	"io"
	"strings"
	"testing"
)

// TestFrame: a framed file reads back its header and body; a flipped body
// byte fails the checksum, another magic or version is refused, and a
// header length beyond the file is an error, not an allocation.
func TestFrame(t *testing.T) {
	type hdr struct{ A int }
	var b bytes.Buffer
	n, err := WriteFrame(&b, "TEST", 3, hdr{A: 7}, func(w io.Writer) { w.Write([]byte("0123456789")) })
	if err != nil || n != int64(b.Len()) || n != 12+int64(len(`{"A":7}`))+10+4 {
		t.Fatalf("wrote %d bytes (%d buffered), err %v", n, b.Len(), err)
	}
	read := func(data []byte, magic string, version uint32) (string, error) {
		var h hdr
		f, err := OpenFrame(bytes.NewReader(data), magic, version, &h)
		if err != nil {
			return "", err
		}
		body, err := f.Next(10)
		if err != nil {
			return "", err
		}
		if h.A != 7 {
			t.Errorf("header %+v", h)
		}
		s := string(body)
		return s, f.Close()
	}
	if body, err := read(b.Bytes(), "TEST", 3); err != nil || body != "0123456789" {
		t.Errorf("read back %q, %v", body, err)
	}
	bad := bytes.Clone(b.Bytes())
	bad[len(bad)-6] ^= 1
	if _, err := read(bad, "TEST", 3); err == nil || !strings.Contains(err.Error(), "checksum") {
		t.Errorf("flipped body byte: %v", err)
	}
	if _, err := read(b.Bytes(), "PVRF", 3); err == nil || !strings.Contains(err.Error(), "magic") {
		t.Errorf("other magic: %v", err)
	}
	if _, err := read(b.Bytes(), "TEST", 4); err == nil || !strings.Contains(err.Error(), "version") {
		t.Errorf("other version: %v", err)
	}
	long := bytes.Clone(b.Bytes())
	long[8], long[9], long[10] = 0xff, 0xff, 0xff // 16 MB of header in a 40-byte file
	if _, err := read(long, "TEST", 3); err == nil {
		t.Error("a header longer than the file was read")
	}
}
