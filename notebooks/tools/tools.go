//go:build tools

// Package tools pins what the notebooks need from outside the povrisk
// module: the GoNB Jupyter kernel and the goimports and gopls it calls
// (built by notebooks/install.sh), and the libraries the notebooks' own Go
// code imports besides povrisk (gonbui, gonum/plot), whose versions and
// go.sum hashes notebooks/gonb-module.sh copies into each notebook's module.
package tools

import (
	_ "github.com/janpfeifer/gonb"
	_ "github.com/janpfeifer/gonb/gonbui"
	_ "golang.org/x/tools/cmd/goimports"
	_ "golang.org/x/tools/gopls"
	_ "gonum.org/v1/plot"
	_ "gonum.org/v1/plot/plotter"
	_ "gonum.org/v1/plot/vg"
	_ "gonum.org/v1/plot/vg/draw"
	_ "gonum.org/v1/plot/vg/vgsvg"
)
