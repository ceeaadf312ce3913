package hist

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"slices"
)

// The framing of the tree files (models/forest and models/boost, their
// FORMAT.md): a 4-byte magic, the format version (uint32, little
// endian), the length of the JSON header (uint32), the header, the
// trees' nodes, and the CRC-32 (IEEE) of everything before it. The one
// writer and reader of it; each package keeps its header and nodes.

// MaxHeader bounds the JSON header a reader accepts.
const MaxHeader = 64 << 20

// WriteFrame writes the framed file: header encoded as JSON, then the
// bytes body writes, then the checksum. It returns the bytes written.
func WriteFrame(w io.Writer, magic string, version uint32, header any, body func(w io.Writer)) (int64, error) {
	js, err := json.Marshal(header)
	if err != nil {
		return 0, fmt.Errorf("encode header: %w", err)
	}
	cw := &countWriter{w: w}
	crc := crc32.NewIEEE()
	bw := bufio.NewWriterSize(io.MultiWriter(cw, crc), 1<<16)
	var pre [12]byte
	copy(pre[:4], magic)
	binary.LittleEndian.PutUint32(pre[4:], version)
	binary.LittleEndian.PutUint32(pre[8:], uint32(len(js)))
	bw.Write(pre[:])
	bw.Write(js)
	body(bw)
	if err := bw.Flush(); err != nil {
		return cw.n, err
	}
	var sum [4]byte
	binary.LittleEndian.PutUint32(sum[:], crc.Sum32())
	if _, err := cw.Write(sum[:]); err != nil {
		return cw.n, err
	}
	return cw.n, nil
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// FrameReader reads a framed file: OpenFrame has read and decoded the
// header; Next reads the nodes; Close checks the checksum. Its errors
// say what is wrong, for the caller to wrap with its ErrFormat.
type FrameReader struct {
	br  *bufio.Reader
	tr  io.Reader
	crc hash.Hash32
	buf []byte
}

// OpenFrame checks the magic and the version and decodes the JSON header
// into header.
func OpenFrame(r io.Reader, magic string, version uint32, header any) (*FrameReader, error) {
	f := &FrameReader{crc: crc32.NewIEEE(), br: bufio.NewReaderSize(r, 1<<16)}
	f.tr = io.TeeReader(f.br, f.crc)
	var pre [12]byte
	if _, err := io.ReadFull(f.tr, pre[:]); err != nil {
		return nil, err
	}
	if string(pre[:4]) != magic {
		return nil, fmt.Errorf("magic %q, want %q", pre[:4], magic)
	}
	if v := binary.LittleEndian.Uint32(pre[4:]); v != version {
		return nil, fmt.Errorf("format version %d, this povrisk reads version %d (retrain the model or use the povrisk release that wrote it)", v, version)
	}
	hl := binary.LittleEndian.Uint32(pre[8:])
	if hl > MaxHeader {
		return nil, fmt.Errorf("header of %d bytes", hl)
	}
	js, err := readN(f.tr, nil, int(hl))
	if err != nil {
		return nil, fmt.Errorf("header: %w", err)
	}
	if err := json.Unmarshal(js, header); err != nil {
		return nil, fmt.Errorf("header: %w", err)
	}
	return f, nil
}

// Next returns the next n bytes of the file (valid until the next call).
func (f *FrameReader) Next(n int) ([]byte, error) {
	var err error
	f.buf, err = readN(f.tr, f.buf, n)
	return f.buf, err
}

// Close reads the checksum and compares it with the bytes read.
func (f *FrameReader) Close() error {
	want := f.crc.Sum32()
	var sum [4]byte
	if _, err := io.ReadFull(f.br, sum[:]); err != nil {
		return fmt.Errorf("checksum: %w", err)
	}
	if got := binary.LittleEndian.Uint32(sum[:]); got != want {
		return fmt.Errorf("checksum %08x, content hashes to %08x (file corrupted)", got, want)
	}
	return nil
}

// readN reads n bytes into buf, growing it as the bytes arrive, so that a
// corrupt length cannot make a reader allocate more than the file holds.
func readN(r io.Reader, buf []byte, n int) ([]byte, error) {
	if n < 0 {
		return buf[:0], errors.New("negative length")
	}
	const chunk = 1 << 20
	buf = buf[:0]
	for len(buf) < n {
		k := min(n-len(buf), chunk)
		buf = slices.Grow(buf, k)
		m, err := io.ReadFull(r, buf[len(buf):len(buf)+k])
		buf = buf[:len(buf)+m]
		if err != nil {
			return buf, err
		}
	}
	return buf, nil
}
