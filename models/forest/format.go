package forest

import (
	"errors"
	"fmt"
	"github.com/povrisk/povrisk/models/hist"
	"io"
	"math"
)

// Version is the model file format version written by WriteTo; Read
// accepts only this version.
const Version = 1

const (
	magic     = "PVRF"
	nodeBytes = hist.NodeBytes
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
	n, err := hist.WriteFrame(w, magic, Version, h, func(bw io.Writer) {
		var b [nodeBytes]byte
		for _, t := range f.trees {
			for i := range t {
				hist.PutNode(b[:], &t[i])
				bw.Write(b[:])
			}
		}
	})
	if err != nil {
		return n, fmt.Errorf("write forest: %w", err)
	}
	return n, nil
}

// Read reads a forest written by WriteTo. It rejects other format
// versions, truncated or corrupted files (CRC-32) and trees that could not
// be walked safely.
func Read(r io.Reader) (*Forest, error) {
	var h header
	fr, err := hist.OpenFrame(r, magic, Version, &h)
	if err != nil {
		return nil, fmt.Errorf("read forest: %w: %w", ErrFormat, err)
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
	for t, cnt := range h.Nodes {
		if cnt < 1 || cnt > math.MaxInt32 {
			return nil, fmt.Errorf("read forest: %w: tree %d has %d nodes", ErrFormat, t, cnt)
		}
		buf, err := fr.Next(cnt * nodeBytes)
		if err != nil {
			return nil, fmt.Errorf("read forest: %w: tree %d: %w", ErrFormat, t, err)
		}
		b := buf
		nodes := make([]Node, cnt)
		for i := range nodes {
			nodes[i] = hist.GetNode(b[i*nodeBytes:])
			if err := checkNode(&nodes[i], i, cnt, p); err != nil {
				return nil, fmt.Errorf("read forest: %w: tree %d node %d: %s", ErrFormat, t, i, err)
			}
		}
		f.trees[t] = nodes
	}
	if err := fr.Close(); err != nil {
		return nil, fmt.Errorf("read forest: %w: %w", ErrFormat, err)
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
