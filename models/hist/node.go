package hist

import (
	"encoding/binary"
	"math"
)

// Node is one node of a flat tree, the layout of the forest and of the
// boosted trees: children come after their parent, the root is node 0, so
// Left == 0 marks a leaf. What Value holds is the learner's (the forest: a
// share of class 1; the boosted trees: a step in log-odds).
type Node struct {
	Threshold float64 // a row goes left when x[Feature] <= Threshold
	Value     float64
	Feature   uint32
	Left      uint32 // 0 for a leaf
	Right     uint32 // Left+1 for an internal node
	Flags     uint32 // bit 0: NaN goes left
}

// NodeBytes is the size of a node in a tree file.
const NodeBytes = 32

// PutNode writes n into b[:NodeBytes], little endian.
func PutNode(b []byte, n *Node) {
	le := binary.LittleEndian
	le.PutUint32(b[0:], n.Feature)
	le.PutUint32(b[4:], n.Left)
	le.PutUint32(b[8:], n.Right)
	le.PutUint32(b[12:], n.Flags)
	le.PutUint64(b[16:], math.Float64bits(n.Threshold))
	le.PutUint64(b[24:], math.Float64bits(n.Value))
}

// GetNode reads the node PutNode wrote into b.
func GetNode(b []byte) Node {
	le := binary.LittleEndian
	return Node{Feature: le.Uint32(b[0:]), Left: le.Uint32(b[4:]), Right: le.Uint32(b[8:]), Flags: le.Uint32(b[12:]),
		Threshold: math.Float64frombits(le.Uint64(b[16:])), Value: math.Float64frombits(le.Uint64(b[24:]))}
}
