package forest

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/povrisk/povrisk/models/hist"
	"hash/crc32"
	"io"
	"math"
	"slices"
)

// Version is the model file format version written by WriteTo; Read
// accepts only this version.
const Version = 1

const (
	magic     = "PVRF"
	nodeBytes = 32
	maxHeader = 64 << 20
)

// ErrFormat is wrapped by every error about a malformed model file.
var ErrFormat = errors.New("not a valid povrisk forest file")

// header is the JSON part of a model file.
type header struct {
	Format      string      `json:"format"`
	Options     Params      `json:"options"`
	Features    []string    `json:"features"`
	Bins        []hist.Cuts `json:"bins"`
	Importances []float64   `json:"importances"`
	OOBScore    *float64    `json:"oob_score"` // null without bootstrap
	Nodes       []int       `json:"nodes"`     // node count of each tree
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

// WriteTo writes the forest in the format of FORMAT.md.
func (f *Forest) WriteTo(w io.Writer) (int64, error) {
	h := header{Format: "povrisk-forest", Options: f.params, Features: f.names, Bins: f.cuts, Importances: f.imp}
	if !math.IsNaN(f.oob) {
		v := f.oob
		h.OOBScore = &v
	}
	for _, t := range f.trees {
		h.Nodes = append(h.Nodes, len(t))
	}
	js, err := json.Marshal(h)
	if err != nil {
		return 0, fmt.Errorf("write forest: encode header: %w", err)
	}
	cw := &countWriter{w: w}
	crc := crc32.NewIEEE()
	bw := bufio.NewWriterSize(io.MultiWriter(cw, crc), 1<<16)
	var pre [12]byte
	copy(pre[:4], magic)
	binary.LittleEndian.PutUint32(pre[4:], Version)
	binary.LittleEndian.PutUint32(pre[8:], uint32(len(js)))
	bw.Write(pre[:])
	bw.Write(js)
	var b [nodeBytes]byte
	for _, t := range f.trees {
		for i := range t {
			putNode(b[:], &t[i])
			bw.Write(b[:])
		}
	}
	if err := bw.Flush(); err != nil {
		return cw.n, fmt.Errorf("write forest: %w", err)
	}
	var sum [4]byte
	binary.LittleEndian.PutUint32(sum[:], crc.Sum32())
	if _, err := cw.Write(sum[:]); err != nil {
		return cw.n, fmt.Errorf("write forest: %w", err)
	}
	return cw.n, nil
}

func putNode(b []byte, n *Node) {
	le := binary.LittleEndian
	le.PutUint32(b[0:], n.Feature)
	le.PutUint32(b[4:], n.Left)
	le.PutUint32(b[8:], n.Right)
	le.PutUint32(b[12:], n.Flags)
	le.PutUint64(b[16:], math.Float64bits(n.Threshold))
	le.PutUint64(b[24:], math.Float64bits(n.Value))
}

func getNode(b []byte) Node {
	le := binary.LittleEndian
	return Node{Feature: le.Uint32(b[0:]), Left: le.Uint32(b[4:]), Right: le.Uint32(b[8:]), Flags: le.Uint32(b[12:]),
		Threshold: math.Float64frombits(le.Uint64(b[16:])), Value: math.Float64frombits(le.Uint64(b[24:]))}
}

// Read reads a forest written by WriteTo. It rejects other format
// versions, truncated or corrupted files (CRC-32) and trees that could not
// be walked safely.
func Read(r io.Reader) (*Forest, error) {
	crc := crc32.NewIEEE()
	br := bufio.NewReaderSize(r, 1<<16)
	tr := io.TeeReader(br, crc)
	var pre [12]byte
	if _, err := io.ReadFull(tr, pre[:]); err != nil {
		return nil, fmt.Errorf("read forest: %w: %w", ErrFormat, err)
	}
	if string(pre[:4]) != magic {
		return nil, fmt.Errorf("read forest: %w: magic %q, want %q", ErrFormat, pre[:4], magic)
	}
	if v := binary.LittleEndian.Uint32(pre[4:]); v != Version {
		return nil, fmt.Errorf("read forest: %w: format version %d, this povrisk reads version %d (retrain the model or use the povrisk release that wrote it)", ErrFormat, v, Version)
	}
	hl := binary.LittleEndian.Uint32(pre[8:])
	if hl > maxHeader {
		return nil, fmt.Errorf("read forest: %w: header of %d bytes", ErrFormat, hl)
	}
	js := make([]byte, hl)
	if _, err := io.ReadFull(tr, js); err != nil {
		return nil, fmt.Errorf("read forest: %w: header: %w", ErrFormat, err)
	}
	var h header
	if err := json.Unmarshal(js, &h); err != nil {
		return nil, fmt.Errorf("read forest: %w: header: %w", ErrFormat, err)
	}
	p := len(h.Features)
	if p == 0 || len(h.Bins) != p || len(h.Importances) != p || len(h.Nodes) == 0 {
		return nil, fmt.Errorf("read forest: %w: header has %d features, %d bin lists, %d importances, %d trees",
			ErrFormat, p, len(h.Bins), len(h.Importances), len(h.Nodes))
	}
	f := &Forest{params: h.Options, names: h.Features, cuts: h.Bins, imp: h.Importances, oob: math.NaN()}
	if h.OOBScore != nil {
		f.oob = *h.OOBScore
	}
	f.trees = make([][]Node, len(h.Nodes))
	var buf []byte
	for t, cnt := range h.Nodes {
		if cnt < 1 || cnt > math.MaxInt32 {
			return nil, fmt.Errorf("read forest: %w: tree %d has %d nodes", ErrFormat, t, cnt)
		}
		var err error
		if buf, err = readN(tr, buf, cnt*nodeBytes); err != nil {
			return nil, fmt.Errorf("read forest: %w: tree %d: %w", ErrFormat, t, err)
		}
		b := buf
		nodes := make([]Node, cnt)
		for i := range nodes {
			nodes[i] = getNode(b[i*nodeBytes:])
			if err := checkNode(&nodes[i], i, cnt, p); err != nil {
				return nil, fmt.Errorf("read forest: %w: tree %d node %d: %s", ErrFormat, t, i, err)
			}
		}
		f.trees[t] = nodes
	}
	want := crc.Sum32()
	var sum [4]byte
	if _, err := io.ReadFull(br, sum[:]); err != nil {
		return nil, fmt.Errorf("read forest: %w: checksum: %w", ErrFormat, err)
	}
	if got := binary.LittleEndian.Uint32(sum[:]); got != want {
		return nil, fmt.Errorf("read forest: %w: checksum %08x, content hashes to %08x (file corrupted)", ErrFormat, got, want)
	}
	return f, nil
}

func checkNode(n *Node, i, cnt, p int) error {
	if !(n.Value >= 0 && n.Value <= 1) {
		return fmt.Errorf("value %v outside [0,1]", n.Value)
	}
	if n.Left == 0 {
		if n.Right != 0 {
			return errors.New("leaf with a right child")
		}
		return nil
	}
	switch {
	case int(n.Left) <= i || int(n.Right) >= cnt || n.Right != n.Left+1:
		return fmt.Errorf("children %d, %d not adjacent, after the node and within %d nodes", n.Left, n.Right, cnt)
	case int(n.Feature) >= p:
		return fmt.Errorf("feature %d of %d", n.Feature, p)
	case math.IsNaN(n.Threshold):
		return errors.New("threshold is NaN")
	}
	return nil
}

// readN reads n bytes into buf, growing it as the bytes arrive, so that a
// corrupt node count cannot make Read allocate more than the file holds.
func readN(r io.Reader, buf []byte, n int) ([]byte, error) {
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
