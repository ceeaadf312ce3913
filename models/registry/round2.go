package registry

import (
	"encoding/json"

	"github.com/povrisk/povrisk/models/eval"
)

// Model kinds (Card.Kind).
const (
	KindIdentification = "identification" // "" on cards saved before kinds: the same
	KindRelapse        = "relapse"        // a household whose risk is eliminated is identified again
)

// Model families (Card.Family).
const (
	FamilyForest = "forest" // "" on older cards: the same
	FamilyBoost  = "boost"
)

// OriginMetrics are the figures of one rolling origin: a model trained
// only on snapshots whose labels end by TestAsOf, scored on TestAsOf.
// PrecisionAtLo/Hi bound PrecisionAt over the orderings of scores tied at
// the cut (eval.PrecisionAtShareTies).
type OriginMetrics struct {
	TestAsOf             string             `json:"test_as_of"`
	TrainAsOf            []string           `json:"train_as_of"`
	TrainRows            int                `json:"train_rows"`
	TrainPositive        int                `json:"train_positive"`
	TestRows             int                `json:"test_rows"`
	TestPositive         int                `json:"test_positive"`
	AUC                  float64            `json:"auc"`
	PRAUC                float64            `json:"pr_auc"`
	Brier                float64            `json:"brier"`
	PrecisionAt          map[string]float64 `json:"precision_at"`
	PrecisionAtLo        map[string]float64 `json:"precision_at_lo"`
	PrecisionAtHi        map[string]float64 `json:"precision_at_hi"`
	CountyPrecision      float64            `json:"county_precision"`
	RulesAUC             float64            `json:"rules_auc"`
	RulesPRAUC           float64            `json:"rules_pr_auc"`
	RulesPrecisionAt     map[string]float64 `json:"rules_precision_at"`
	RulesCountyPrecision float64            `json:"rules_county_precision"`
	OracleAUC            *float64           `json:"oracle_auc,omitempty"`
}

// ConfigScore is one configuration of the selection grid and its scores
// over the rolling origins (one entry per origin, latest first).
type ConfigScore struct {
	Name                string          `json:"name"`
	Family              string          `json:"family"`
	Snapshots           int             `json:"snapshots"`
	Params              json.RawMessage `json:"params"` // the family's options as given in the grid
	AUC                 []float64       `json:"auc"`
	CountyPrecision     []float64       `json:"county_precision"`
	MeanAUC             float64         `json:"mean_auc"`
	SDAUC               float64         `json:"sd_auc"`
	MeanCountyPrecision float64         `json:"mean_county_precision"`
	SDCountyPrecision   float64         `json:"sd_county_precision"`
	MeanPRAUC           float64         `json:"mean_pr_auc"`
	WithinTolerance     bool            `json:"within_tolerance"` // mean AUC within Tolerance of the best
}

// Selection is how the saved model's configuration was chosen.
type Selection struct {
	Rule       string        `json:"rule"`
	Tolerance  float64       `json:"tolerance"`
	EvalTrees  int           `json:"eval_trees"` // trees of the forests fitted on the origins (the saved model has its own count)
	Origins    []string      `json:"origins"`    // test as-of dates, latest first
	Configs    []ConfigScore `json:"configs"`
	Chosen     string        `json:"chosen"`
	BestAUC    string        `json:"best_auc"` // the configuration with the best mean AUC
	Regret     float64       `json:"regret"`   // best mean AUC - chosen's mean AUC
	BestFamily string        `json:"best_family"`
	// FamilyMargin: chosen family's best mean county precision minus the
	// other family's best (0 with one family).
	FamilyMargin float64  `json:"family_margin"`
	Notes        []string `json:"notes,omitempty"`
}

// CalibrationCandidate is a method's held-out figures on the other origins.
type CalibrationCandidate struct {
	Method      string  `json:"method"`
	LogLoss     float64 `json:"log_loss"`
	Brier       float64 `json:"brier"`
	Evaluations int     `json:"evaluations"` // held-out origins it was scored on
}

// CalibrationReport says how the saved model's scores were calibrated.
type CalibrationReport struct {
	Method      string                 `json:"method"`
	FittedOn    string                 `json:"fitted_on"` // the latest origin's test as-of
	Rows        int                    `json:"rows"`
	Candidates  []CalibrationCandidate `json:"candidates"`
	ECE         float64                `json:"ece"`           // held out: the chosen method on the other origins (in-sample on the latest when there are none)
	ECEInSample float64                `json:"ece_in_sample"` // on the latest origin, where it was fitted
	ECERaw      float64                `json:"ece_raw"`       // uncalibrated scores, same rows as ECE
	HeldOut     bool                   `json:"held_out"`      // ECE and Bins are held out
	Bins        []eval.CalibrationBin  `json:"bins"`          // 10 quantile bins, same rows as ECE
	Notes       []string               `json:"notes,omitempty"`
}

// CountySample is the negatives kept of one county.
type CountySample struct {
	County    string  `json:"county"`
	Negatives int     `json:"negatives"`
	Kept      int     `json:"kept"`
	Weight    float64 `json:"weight"` // weight of each kept negative: Negatives / Kept
}

// Sampling says how the training rows were sampled when the snapshots
// exceeded MaxRows: every positive kept (weight 1), negatives sampled per
// county at one rate, each kept negative weighted by its county's
// Negatives/Kept.
type Sampling struct {
	MaxRows   int            `json:"max_rows"`
	Rows      int            `json:"rows"` // before sampling
	Kept      int            `json:"kept"`
	Positives int            `json:"positives"`
	Rate      float64        `json:"rate"` // target share of negatives kept
	Applied   bool           `json:"applied"`
	Counties  []CountySample `json:"counties"`
	Notes     []string       `json:"notes,omitempty"`
}
