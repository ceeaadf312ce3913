package boost

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"slices"

	"github.com/povrisk/povrisk/models/hist"
)

// Version is the model file format version written by WriteTo; Read
// accepts only this version.
const Version = 1

const (
	magic     = "PVRB"
	nodeBytes = 32
	maxHeader = 64 << 20
)

// ErrFormat is wrapped by every error about a malformed model file.
var ErrFormat = errors.New("not a valid povrisk boosted-trees file")

// header is the JSON part of a model file.
type header struct {
	Format      string      `json:"format"`
	Options     Params      `json:"options"`
	Features    []string    `json:"features"`
	Bins        []hist.Cuts `json:"bins"`
	Init        float64     `json:"init"`
	Importances []float64   `json:"importances"`
	TrainLoss   []float64   `json:"train_loss"`
	ValidLoss   []float64   `json:"valid_loss,omitempty"`
	Nodes       []int       `json:"nodes"` // node count of each tree
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

// WriteTo writes the model in the format of FORMAT.md.
func (m *Model) WriteTo(w io.Writer) (int64, error) {
	h := header{Format: "povrisk-boost", Options: m.params, Features: m.names, Bins: m.cuts, Init: m.init,
		Importances: m.imp, TrainLoss: m.loss, ValidLoss: m.valLoss, Nodes: []int{}}
	for _, t := range m.trees {
		h.Nodes = append(h.Nodes, len(t))
	}
	js, err := json.Marshal(h)
	if err != nil {
		return 0, fmt.Errorf("write boosted trees: encode header: %w", err)
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
	for _, t := range m.trees {
		for i := range t {
			putNode(b[:], &t[i])
			bw.Write(b[:])
		}
	}
	if err := bw.Flush(); err != nil {
		return cw.n, fmt.Errorf("write boosted trees: %w", err)
	}
	var sum [4]byte
	binary.LittleEndian.PutUint32(sum[:], crc.Sum32())
	if _, err := cw.Write(sum[:]); err != nil {
		return cw.n, fmt.Errorf("write boosted trees: %w", err)
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

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// Read reads a model written by WriteTo. Whatever the bytes, it returns a
// model or an error wrapping ErrFormat: other format versions, truncated or
// corrupted files (CRC-32) and trees that could not be walked safely are
// rejected.
func Read(r io.Reader) (*Model, error) {
	crc := crc32.NewIEEE()
	br := bufio.NewReaderSize(r, 1<<16)
	tr := io.TeeReader(br, crc)
	var pre [12]byte
	if _, err := io.ReadFull(tr, pre[:]); err != nil {
		return nil, fmt.Errorf("read boosted trees: %w: %w", ErrFormat, err)
	}
	if string(pre[:4]) != magic {
		return nil, fmt.Errorf("read boosted trees: %w: magic %q, want %q", ErrFormat, pre[:4], magic)
	}
	if v := binary.LittleEndian.Uint32(pre[4:]); v != Version {
		return nil, fmt.Errorf("read boosted trees: %w: format version %d, this povrisk reads version %d (retrain the model or use the povrisk release that wrote it)", ErrFormat, v, Version)
	}
	hl := binary.LittleEndian.Uint32(pre[8:])
	if hl > maxHeader {
		return nil, fmt.Errorf("read boosted trees: %w: header of %d bytes", ErrFormat, hl)
	}
	js, err := readN(tr, nil, int(hl))
	if err != nil {
		return nil, fmt.Errorf("read boosted trees: %w: header: %w", ErrFormat, err)
	}
	var h header
	if err := json.Unmarshal(js, &h); err != nil {
		return nil, fmt.Errorf("read boosted trees: %w: header: %w", ErrFormat, err)
	}
	p := len(h.Features)
	if h.Format != "povrisk-boost" || p == 0 || len(h.Bins) != p || len(h.Importances) != p || len(h.TrainLoss) != len(h.Nodes)+1 || !finite(h.Init) {
		return nil, fmt.Errorf("read boosted trees: %w: header (format %q) has %d features, %d bin lists, %d importances, %d losses for %d trees, init %v",
			ErrFormat, h.Format, p, len(h.Bins), len(h.Importances), len(h.TrainLoss), len(h.Nodes), h.Init)
	}
	m := &Model{params: h.Options, names: h.Features, cuts: h.Bins, init: h.Init, imp: h.Importances, loss: h.TrainLoss, valLoss: h.ValidLoss}
	m.trees = make([][]Node, len(h.Nodes))
	var buf []byte
	for t, cnt := range h.Nodes {
		if cnt < 1 || cnt > math.MaxInt32/nodeBytes {
			return nil, fmt.Errorf("read boosted trees: %w: tree %d has %d nodes", ErrFormat, t, cnt)
		}
		if buf, err = readN(tr, buf, cnt*nodeBytes); err != nil {
			return nil, fmt.Errorf("read boosted trees: %w: tree %d: %w", ErrFormat, t, err)
		}
		nodes := make([]Node, cnt)
		for i := range nodes {
			nodes[i] = getNode(buf[i*nodeBytes:])
			if err := checkNode(&nodes[i], i, cnt, p); err != nil {
				return nil, fmt.Errorf("read boosted trees: %w: tree %d node %d: %s", ErrFormat, t, i, err)
			}
		}
		m.trees[t] = nodes
	}
	want := crc.Sum32()
	var sum [4]byte
	if _, err := io.ReadFull(br, sum[:]); err != nil {
		return nil, fmt.Errorf("read boosted trees: %w: checksum: %w", ErrFormat, err)
	}
	if got := binary.LittleEndian.Uint32(sum[:]); got != want {
		return nil, fmt.Errorf("read boosted trees: %w: checksum %08x, content hashes to %08x (file corrupted)", ErrFormat, got, want)
	}
	return m, nil
}

func checkNode(n *Node, i, cnt, p int) error {
	if !finite(n.Value) {
		return fmt.Errorf("value %v is not finite", n.Value)
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
// corrupt length cannot make Read allocate more than the file holds.
func readN(r io.Reader, buf []byte, n int) ([]byte, error) {
	const chunk = 1 << 20
	buf = buf[:0]
	for len(buf) < n {
		k := min(n-len(buf), chunk)
		buf = slices.Grow(buf, k)
		got, err := io.ReadFull(r, buf[len(buf):len(buf)+k])
		buf = buf[:len(buf)+got]
		if err != nil {
			return buf, err
		}
	}
	return buf, nil
}
