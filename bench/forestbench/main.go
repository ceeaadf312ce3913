// Command forestbench trains povrisk's random forest (or, with -kind boost,
// its boosted trees) on a numeric CSV
// (header row, one label column of 0/1, empty cells missing), scores a test
// CSV with the same columns, and prints one JSON line of figures. It is the
// Go side of bench/train.sh; the peers are in bench/train_peers.py.
package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/povrisk/povrisk/models"
	"github.com/povrisk/povrisk/models/boost"
	"github.com/povrisk/povrisk/models/forest"
)

func main() {
	train := flag.String("train", "", "training CSV")
	test := flag.String("test", "", "test CSV")
	label := flag.String("label", "label", "label column (0/1)")
	trees := flag.Int("trees", 100, "trees")
	workers := flag.Int("workers", 2, "goroutines")
	seed := flag.Uint64("seed", 1, "seed")
	model := flag.String("model", "", "write the model file here (optional)")
	cpu := flag.String("cpuprofile", "", "write a CPU profile of training here")
	minLeaf := flag.Int("min-leaf", 0, "MinLeaf (0: DefaultOptions)")
	pred := flag.String("pred", "", "write test-set P(class 1), one per line, here (optional)")
	kind := flag.String("kind", "forest", "forest (models/forest) or boost (models/boost, Options{} with -trees rounds)")
	reps := flag.Int("reps", 1, "fit this many times; fit_seconds and fit_cpu_seconds are the medians, fit_wall_min and fit_cpu_min the least (on a shared machine the least is the run least disturbed)")
	flag.Parse()
	if *cpu != "" {
		fh, err := os.Create(*cpu)
		if err == nil {
			pprof.StartCPUProfile(fh)
			defer pprof.StopCPUProfile()
		}
	}
	if err := run(*kind, *train, *test, *label, *trees, *workers, *seed, *minLeaf, max(1, *reps), *model, *pred); err != nil {
		fmt.Fprintln(os.Stderr, "forestbench:", err)
		pprof.StopCPUProfile()
		os.Exit(1)
	}
}

// trained is what run needs of either model.
type trained interface {
	models.Classifier
	WriteTo(w io.Writer) (int64, error)
}

// fit trains the model of kind and returns it with its figures for the JSON line.
func fit(kind string, X models.Matrix, y []int, trees, workers int, seed uint64, minLeaf int) (trained, map[string]any, error) {
	switch kind {
	case "forest":
		o := forest.DefaultOptions()
		o.Trees, o.Workers, o.Seed = trees, workers, seed
		if minLeaf > 0 {
			o.MinLeaf = minLeaf
		}
		f, err := forest.Fit(context.Background(), X, y, o)
		if err != nil {
			return nil, nil, err
		}
		return f, map[string]any{"tool": "povrisk", "min_leaf": f.Params().MinLeaf, "oob_auc": f.OOBScore()}, nil
	case "boost":
		o := boost.Options{Trees: trees, Workers: workers, Seed: seed, MinLeaf: minLeaf}
		m, err := boost.Fit(context.Background(), X, y, o)
		if err != nil {
			return nil, nil, err
		}
		return m, map[string]any{"tool": "povrisk-boost", "min_leaf": m.Params().MinLeaf, "rounds": m.NumTrees()}, nil
	}
	return nil, nil, fmt.Errorf("-kind %q: want forest or boost", kind)
}

func run(kind, trainPath, testPath, label string, trees, workers int, seed uint64, minLeaf, reps int, model, predPath string) error {
	X, y, err := readCSV(trainPath, label)
	if err != nil {
		return err
	}
	Xt, yt, err := readCSV(testPath, label)
	if err != nil {
		return err
	}
	var f trained
	var figures map[string]any
	var walls, cpus []float64
	for range reps {
		cpu0 := cpuSeconds()
		start := time.Now()
		var err error
		if f, figures, err = fit(kind, X, y, trees, workers, seed, minLeaf); err != nil {
			return err
		}
		walls = append(walls, time.Since(start).Seconds())
		cpus = append(cpus, cpuSeconds()-cpu0)
	}
	fitSec, fitCPU := median(walls), median(cpus)
	if reps > 1 {
		figures["fit_cpu_min"] = slices.Min(cpus)
		figures["fit_wall_min"] = slices.Min(walls)
		figures["reps"] = reps
	}
	p := make([]float64, Xt.Rows)
	cpu0 := cpuSeconds()
	start := time.Now()
	f.PredictProba(Xt, p)
	pred := time.Since(start).Seconds()
	predCPU := cpuSeconds() - cpu0
	if predPath != "" {
		var b strings.Builder
		for _, v := range p {
			b.WriteString(strconv.FormatFloat(v, 'g', -1, 64))
			b.WriteByte('\n')
		}
		if err := os.WriteFile(predPath, []byte(b.String()), 0o644); err != nil {
			return err
		}
	}
	if model != "" {
		fh, err := os.Create(model)
		if err != nil {
			return err
		}
		if _, err := f.WriteTo(fh); err != nil {
			return err
		}
		if err := fh.Close(); err != nil {
			return err
		}
	}
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	for k, v := range map[string]any{
		"train_rows": X.Rows, "test_rows": Xt.Rows, "features": X.NumCols(),
		"fit_seconds": fitSec, "fit_cpu_seconds": fitCPU, "predict_seconds": pred, "predict_cpu_seconds": predCPU, "peak_rss_mb": float64(ru.Maxrss) / 1024,
		"auc": auc(yt, p), "precision_at_5pct": precisionAt(yt, p, 0.05),
	} {
		figures[k] = v
	}
	return json.NewEncoder(os.Stdout).Encode(figures)
}

// median is the median of v (the mean of the middle two when len(v) is even).
func median(v []float64) float64 {
	s := slices.Sorted(slices.Values(v))
	return (s[(len(s)-1)/2] + s[len(s)/2]) / 2
}

// cpuSeconds is the process's user + system CPU time so far.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(syscall.TimevalToNsec(ru.Utime) + syscall.TimevalToNsec(ru.Stime)).Seconds()
}

func readCSV(path, label string) (models.Matrix, []int, error) {
	fh, err := os.Open(path)
	if err != nil {
		return models.Matrix{}, nil, err
	}
	defer fh.Close()
	r := csv.NewReader(fh)
	r.ReuseRecord = true
	head, err := r.Read()
	if err != nil {
		return models.Matrix{}, nil, fmt.Errorf("read %s: %w", path, err)
	}
	head = slices.Clone(head)
	li := slices.Index(head, label)
	if li < 0 {
		return models.Matrix{}, nil, fmt.Errorf("read %s: no label column %q", path, label)
	}
	var names []string
	for j, h := range head {
		if j != li {
			names = append(names, h)
		}
	}
	cols := make([][]float64, len(names))
	var y []int
	for line := 2; ; line++ {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return models.Matrix{}, nil, fmt.Errorf("read %s: %w", path, err)
		}
		k := 0
		for j, s := range rec {
			if j == li {
				v, err := strconv.Atoi(s)
				if err != nil {
					return models.Matrix{}, nil, fmt.Errorf("read %s line %d column %s: %w", path, line, head[j], err)
				}
				y = append(y, v)
				continue
			}
			v := math.NaN()
			if s != "" && s != "NA" {
				if v, err = strconv.ParseFloat(s, 64); err != nil {
					return models.Matrix{}, nil, fmt.Errorf("read %s line %d column %s: %w", path, line, head[j], err)
				}
			}
			cols[k] = append(cols[k], v)
			k++
		}
	}
	return models.Matrix{Rows: len(y), Cols: cols, Names: names}, y, nil
}

// auc is the Mann-Whitney ROC AUC with ties counted half.
func auc(y []int, s []float64) float64 {
	idx := make([]int, len(y))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(a, b int) int { return cmpF(s[a], s[b]) })
	var n1, rs float64
	for k := 0; k < len(idx); {
		e := k
		for e < len(idx) && s[idx[e]] == s[idx[k]] {
			e++
		}
		for _, i := range idx[k:e] {
			if y[i] == 1 {
				n1++
				rs += float64(k+e+1) / 2
			}
		}
		k = e
	}
	n0 := float64(len(y)) - n1
	return (rs - n1*(n1+1)/2) / (n0 * n1)
}

// precisionAt is the share of positives among the top share of rows by
// score (ties broken by row order).
func precisionAt(y []int, s []float64, share float64) float64 {
	idx := make([]int, len(y))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return cmpF(s[b], s[a]) })
	k := max(1, int(math.Round(share*float64(len(y)))))
	pos := 0
	for _, i := range idx[:k] {
		pos += y[i]
	}
	return float64(pos) / float64(k)
}

func cmpF(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
