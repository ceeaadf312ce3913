package boost

import (
	"errors"
	"fmt"
	"io"
	"math"

	"github.com/povrisk/povrisk/models/hist"
)

// Version is the model file format version written by WriteTo; Read
// accepts only this version.
const Version = 1

const (
	magic     = "PVRB"
	nodeBytes = hist.NodeBytes
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

// WriteTo writes the model in the format of FORMAT.md.
func (m *Model) WriteTo(w io.Writer) (int64, error) {
	h := header{Format: "povrisk-boost", Options: m.params, Features: m.names, Bins: m.cuts, Init: m.init,
		Importances: m.imp, TrainLoss: m.loss, ValidLoss: m.valLoss, Nodes: []int{}}
	for _, t := range m.trees {
		h.Nodes = append(h.Nodes, len(t))
	}
	n, err := hist.WriteFrame(w, magic, Version, h, func(bw io.Writer) {
		var b [nodeBytes]byte
		for _, t := range m.trees {
			for i := range t {
				hist.PutNode(b[:], &t[i])
				bw.Write(b[:])
			}
		}
	})
	if err != nil {
		return n, fmt.Errorf("write boosted trees: %w", err)
	}
	return n, nil
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// Read reads a model written by WriteTo. Whatever the bytes, it returns a
// model or an error wrapping ErrFormat: other format versions, truncated or
// corrupted files (CRC-32) and trees that could not be walked safely are
// rejected.
func Read(r io.Reader) (*Model, error) {
	var h header
	fr, err := hist.OpenFrame(r, magic, Version, &h)
	if err != nil {
		return nil, fmt.Errorf("read boosted trees: %w: %w", ErrFormat, err)
	}
	p := len(h.Features)
	if h.Format != "povrisk-boost" || p == 0 || len(h.Bins) != p || len(h.Importances) != p || len(h.TrainLoss) != len(h.Nodes)+1 || !finite(h.Init) {
		return nil, fmt.Errorf("read boosted trees: %w: header (format %q) has %d features, %d bin lists, %d importances, %d losses for %d trees, init %v",
			ErrFormat, h.Format, p, len(h.Bins), len(h.Importances), len(h.TrainLoss), len(h.Nodes), h.Init)
	}
	m := &Model{params: h.Options, names: h.Features, cuts: h.Bins, init: h.Init, imp: h.Importances, loss: h.TrainLoss, valLoss: h.ValidLoss}
	m.trees = make([][]Node, len(h.Nodes))
	for t, cnt := range h.Nodes {
		if cnt < 1 || cnt > math.MaxInt32/nodeBytes {
			return nil, fmt.Errorf("read boosted trees: %w: tree %d has %d nodes", ErrFormat, t, cnt)
		}
		buf, err := fr.Next(cnt * nodeBytes)
		if err != nil {
			return nil, fmt.Errorf("read boosted trees: %w: tree %d: %w", ErrFormat, t, err)
		}
		nodes := make([]Node, cnt)
		for i := range nodes {
			nodes[i] = hist.GetNode(buf[i*nodeBytes:])
			if err := checkNode(&nodes[i], i, cnt, p); err != nil {
				return nil, fmt.Errorf("read boosted trees: %w: tree %d node %d: %s", ErrFormat, t, i, err)
			}
		}
		m.trees[t] = nodes
	}
	if err := fr.Close(); err != nil {
		return nil, fmt.Errorf("read boosted trees: %w: %w", ErrFormat, err)
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
