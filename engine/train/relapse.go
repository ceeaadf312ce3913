package train

import (
	"context"
	"database/sql"
	"errors"
	"math"
	"time"

	"github.com/povrisk/povrisk/engine/fault"
	"github.com/povrisk/povrisk/features"
	"github.com/povrisk/povrisk/models/registry"
)

// relapseLabels gives, at an as-of date D, the households whose risk was
// eliminated in the month ending D, positive when identified again in
// (D, D+H] (features.RelapseLabels); a variable so that tests can stand in.
var relapseLabels labelFunc = features.RelapseLabels

// DefaultRelapseSnapshots is the relapse model's default number of
// monthly training snapshots: eliminations are few in any one month.
const DefaultRelapseSnapshots = 12

// TrainRelapse trains the relapse model: the probability that a household
// whose risk is eliminated on the as-of date is identified again within
// the horizon, learned from the eliminations of past months (one row per
// household eliminated in the month ending each snapshot date), with the
// same rolling-origin validation and calibration as Train and one
// configuration (Options.Grid's first, else Options.Forest); it is saved
// as a registry model of kind "relapse" (no profiles, no fairness audit).
func TrainRelapse(ctx context.Context, db *sql.DB, o Options) (registry.Card, error) {
	if o.Snapshots == 0 {
		o.Snapshots = DefaultRelapseSnapshots
	}
	o = o.withDefaults()
	if o.Models == "" {
		return registry.Card{}, fault.Wrap(fault.Usage, errors.New("train --relapse: no models directory"))
	}
	start := time.Now()
	b, plan, err := prepare(ctx, db, o)
	if err != nil {
		return registry.Card{}, err
	}
	b.labels = relapseLabels
	b.keep = func(_ features.Label, labelled bool) bool { return labelled }
	c := Config{}
	if len(o.Grid) > 0 {
		c = o.Grid[0]
	}
	f, err := fitAll(ctx, b, plan, []Config{c}, o, false)
	if err != nil {
		return registry.Card{}, err
	}
	card := makeCard(b, o, f, nil)
	card.Kind = registry.KindRelapse
	card.Notes = append(card.Notes, "relapse model: rows are the households whose risk was eliminated in the month ending each snapshot date; positive: identified again within the horizon")
	card.TrainSeconds = math.Round(time.Since(start).Seconds()*10) / 10
	id, err := registry.Save(o.Models, f.model, nil, card)
	if err != nil {
		return registry.Card{}, err
	}
	o.logf("saved relapse model %s in %s", id, o.Models)
	return registry.ReadCard(o.Models, id)
}
