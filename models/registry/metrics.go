package registry

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"

	"github.com/povrisk/povrisk/models/eval"
)

// Metrics are the figures of a temporal evaluation on the test snapshot
// (engine/train computes them; the card and the commands read them). The
// maps keyed by share (PrecisionAt, ...) use ShareKey: "0.01", "0.05",
// "0.1".
type Metrics struct {
	TestAsOf      string   `json:"test_as_of"`
	DataEnd       string   `json:"data_end"`
	TrainAsOf     []string `json:"train_as_of"`
	HorizonMonths int      `json:"horizon_months"`
	Model         string   `json:"model,omitempty"` // the saved model evaluated (train.Evaluate with ModelID)
	TrainRows     int      `json:"train_rows"`
	TrainPositive int      `json:"train_positive"`
	TestRows      int      `json:"test_rows"`
	TestPositive  int      `json:"test_positive"`
	BaseRate      float64  `json:"base_rate"`

	AUC         float64            `json:"auc"`
	PRAUC       float64            `json:"pr_auc"`
	Brier       float64            `json:"brier"`
	PrecisionAt map[string]float64 `json:"precision_at"`
	RecallAt    map[string]float64 `json:"recall_at"`
	// County figures: each county ranks its own households, k = CountyShare
	// of them; CountyPrecision pools the counties (hits / visits).
	CountyShare     float64               `json:"county_share"`
	CountyPrecision float64               `json:"county_precision"`
	Counties        []eval.GroupPrecision `json:"counties"`
	Calibration     []eval.CalibrationBin `json:"calibration"` // 10 equal-width bins

	// The rule screen alone (the baseline): score = number of rules tripped.
	RulesAUC              float64            `json:"rules_auc"`
	RulesPRAUC            float64            `json:"rules_pr_auc"`
	RulesPrecisionAt      map[string]float64 `json:"rules_precision_at"`
	RulesRecallAt         map[string]float64 `json:"rules_recall_at"`
	RulesCountyPrecision  float64            `json:"rules_county_precision"`
	RulesFlagged          int                `json:"rules_flagged"`           // test households with at least one rule tripped
	RulesFlaggedPrecision float64            `json:"rules_flagged_precision"` // positives among them / flagged

	// With ground truth (a simulated drop): the simulator's own
	// probabilities as a score, the best any model could do.
	OracleAUC         *float64           `json:"oracle_auc,omitempty"`
	OraclePRAUC       *float64           `json:"oracle_pr_auc,omitempty"`
	OraclePrecisionAt map[string]float64 `json:"oracle_precision_at,omitempty"`
	AUCShareOfOracle  *float64           `json:"auc_share_of_oracle,omitempty"` // (auc-0.5)/(oracle_auc-0.5): share of the achievable lift over chance
	AUCRatioToOracle  *float64           `json:"auc_ratio_to_oracle,omitempty"` // auc/oracle_auc

	// Rolling origins (latest first; the figures above are the latest
	// origin's): each origin's figures, and the mean and population
	// standard deviation over origins of auc, pr_auc, brier,
	// county_precision, precision_at_<share>, rules_auc and
	// rules_county_precision.
	Origins     []OriginMetrics    `json:"origins,omitempty"`
	OriginsMean map[string]float64 `json:"origins_mean,omitempty"`
	OriginsSD   map[string]float64 `json:"origins_sd,omitempty"`

	Notes []string `json:"notes,omitempty"`
}

// ShareKey is the key of a top-of-list share in the maps of Metrics
// (0.05 -> "0.05").
func ShareKey(share float64) string { return strconv.FormatFloat(share, 'f', -1, 64) }

// Precision is the model's precision in the top share of the list (0
// when not computed).
func (m Metrics) Precision(share float64) float64 { return m.PrecisionAt[ShareKey(share)] }

// RulesPrecision is the rule screen's precision in the top share.
func (m Metrics) RulesPrecision(share float64) float64 { return m.RulesPrecisionAt[ShareKey(share)] }

// metricsFields has the fields of Metrics without its MarshalJSON.
type metricsFields Metrics

// MarshalJSON encodes the metrics with every object's keys in sorted
// order, as model cards have always carried them (the card's bytes do not
// depend on the order of the fields above). It fails when a figure is NaN
// or infinite, which JSON cannot carry.
func (m Metrics) MarshalJSON() ([]byte, error) {
	b, err := json.Marshal(metricsFields(m))
	if err != nil {
		return nil, fmt.Errorf("encode metrics of test snapshot %s (a figure is NaN: check that the test snapshot has both outcomes): %w", m.TestAsOf, err)
	}
	var sorted map[string]any
	if err := json.Unmarshal(b, &sorted); err != nil {
		return nil, fmt.Errorf("encode metrics of test snapshot %s: %w", m.TestAsOf, err)
	}
	return json.Marshal(sorted)
}

// IsZero reports whether no metrics were recorded (a card saved without
// an evaluation).
func (m Metrics) IsZero() bool { return reflect.ValueOf(m).IsZero() }

// fields is the metrics as the JSON object of the card, keyed by JSON
// name, for the card's generic table (nil when there are none or a figure
// cannot be encoded).
func (m Metrics) fields() map[string]any {
	if m.IsZero() {
		return nil
	}
	b, err := json.Marshal(metricsFields(m))
	if err != nil {
		return nil
	}
	var out map[string]any
	if json.Unmarshal(b, &out) != nil {
		return nil
	}
	return out
}
