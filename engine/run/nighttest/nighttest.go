// Package nighttest builds a small but real runs directory for the tests
// of the packages that read one (engine/brief, cmd/povrisk): a generated
// drop, ingested, a small model trained, and six nights run by the real
// night, so that every reader is tested on exactly what `povrisk run`
// writes. It is imported only by tests.
package nighttest

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/povrisk/povrisk/datasets"
	"github.com/povrisk/povrisk/engine"
	"github.com/povrisk/povrisk/engine/civil"
	"github.com/povrisk/povrisk/engine/ingest"
	night "github.com/povrisk/povrisk/engine/run"
	"github.com/povrisk/povrisk/engine/train"
	"github.com/povrisk/povrisk/features/rules"
	"github.com/povrisk/povrisk/models/forest"
)

// Nights returns the as-of dates of the fixture, oldest first.
func Nights() []string { return slices.Clone(nights) }

// nights are the as-of dates of the fixture, oldest first; the
// 2025-12-30 night (not a month-end, run with AnyDay) gives the brief a
// "previous run" a day before the last.
var nights = []string{"2025-08-31", "2025-09-30", "2025-10-31", "2025-11-30", "2025-12-30", "2025-12-31"}

// StaleClaimsFrom: the fixture's medical claims stop before this date, so
// that the last nights see stale claims data (the brief's data warning, and
// the run's freshness warning), as a late data exchange would leave them.
const StaleClaimsFrom = "2025-10-01"

// Households is the size of the fixture drop: six counties of two
// provinces, a few hundred households each.
const Households = 1500

// Build writes root/drop, root/warehouse, root/models and the
// nights under root/runs, and returns root/runs. Deterministic: the same
// code gives byte-identical run directories (the audit log's times are
// fixed too).
func Build(root string) (string, error) {
	ctx := context.Background()
	drop, wh, models, runs := filepath.Join(root, "drop"), filepath.Join(root, "warehouse"), filepath.Join(root, "models"), filepath.Join(root, "runs")
	if _, err := datasets.Generate(ctx, datasets.GenerateOptions{Households: Households, Months: 24,
		Start: civil.Date(2024, 1, 1), Seed: 1, Out: drop, Truth: filepath.Join(root, "truth.csv")}); err != nil {
		return "", fmt.Errorf("generate: %w", err)
	}
	if err := truncateClaims(filepath.Join(drop, "medical_claims.csv"), StaleClaimsFrom); err != nil {
		return "", err
	}
	keyPath := filepath.Join(root, "key")
	if err := os.WriteFile(keyPath, []byte("brief-fixture-key-0123456789abcdef"), 0o600); err != nil {
		return "", err
	}
	// A fixed audit key too, so that the fixture's audit log is the same
	// bytes on every machine.
	auditKeyPath := filepath.Join(root, "audit.key")
	if err := os.WriteFile(auditKeyPath, []byte("62726965662066697874757265206175646974206b657920303132333435363738\n"), 0o600); err != nil {
		return "", err
	}
	key, err := ingest.LoadKey(keyPath)
	if err != nil {
		return "", err
	}
	db, err := engine.OpenDB("")
	if err != nil {
		return "", err
	}
	defer db.Close()
	if _, err := ingest.Run(ctx, db, ingest.Options{Drop: drop, Warehouse: wh, Key: key}); err != nil {
		return "", fmt.Errorf("ingest: %w", err)
	}
	fo := forest.DefaultOptions()
	fo.Trees, fo.Seed = 20, 1
	if _, err := train.Train(ctx, db, train.Options{Warehouse: wh, Models: models, Snapshots: 3, Forest: fo, Seed: 1, ProfileK: 4}); err != nil {
		return "", fmt.Errorf("train: %w", err)
	}
	pol := rules.SamplePolicy()
	for _, day := range nights {
		asOf, err := civil.Parse(day)
		if err != nil {
			return "", err
		}
		stamp := asOf.Add(23*time.Hour + 10*time.Minute)
		_, err = night.Run(ctx, db, night.Options{Warehouse: wh, Runs: runs, Models: models, Policy: pol, AuditKeyPath: auditKeyPath, AsOf: asOf, AnyDay: true,
			Command: "povrisk run --as-of " + day, User: "fixture", Now: func() time.Time { return stamp }})
		if err != nil {
			return "", fmt.Errorf("run %s: %w", day, err)
		}
	}
	return runs, nil
}

// truncateClaims drops the claims dated on or after from (YYYY-MM-DD
// sorts as text) from the generated medical_claims.csv.
func truncateClaims(path, from string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	recs, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	col := slices.Index(recs[0], "service_date")
	if col < 0 {
		return fmt.Errorf("%s has no service_date column", path)
	}
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	for i, r := range recs {
		if i == 0 || r[col] < from {
			w.Write(r)
		}
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return err
	}
	return os.WriteFile(path, buf.Bytes(), 0o600)
}
