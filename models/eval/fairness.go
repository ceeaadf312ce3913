package eval

// Fairness is an audit of a top-k list by group, in the manner of
// aequitas: for each group of each attribute, the confusion figures of the
// list with bootstrap intervals, and disparity ratios against the
// attribute's reference group. engine/train computes it on the latest
// rolling origin; the model card holds it, summary.json copies it, the
// brief's annex and notebook 04 show it.
type Fairness struct {
	Share      float64         `json:"share"`      // the list: the county top share (e.g. 0.05)
	AsOf       string          `json:"as_of"`      // the origin audited
	Level      float64         `json:"level"`      // interval level (0.9)
	Replicates int             `json:"replicates"` // bootstrap replicates
	MinCell    int             `json:"min_cell"`   // groups smaller than this are suppressed
	Groups     []GroupFairness `json:"groups"`
	Notes      []string        `json:"notes"`
}

// Interval is a figure with its bootstrap interval (all NaN-free: a figure
// that cannot be computed is nil in its parent).
type Interval struct {
	Value float64 `json:"value"`
	Lo    float64 `json:"lo"`
	Hi    float64 `json:"hi"`
}

// GroupFairness is one group of one attribute. Attributes: county,
// poverty_status, disability_1_2 (a member of disability grade 1-2),
// elderly_only, no_labour. Metrics are nil when undefined (no positives
// for TPR, ...) or when the group is suppressed.
type GroupFairness struct {
	Attribute  string `json:"attribute"`
	Group      string `json:"group"`
	Reference  bool   `json:"reference"` // the attribute's reference group (the largest)
	Size       int    `json:"size"`
	Suppressed bool   `json:"suppressed"` // fewer than MinCell households (or positives): figures withheld

	Prevalence          *Interval `json:"prevalence"`
	PredictedPrevalence *Interval `json:"predicted_prevalence"`
	Precision           *Interval `json:"precision"`
	TPR                 *Interval `json:"tpr"`
	FPR                 *Interval `json:"fpr"`
	FDR                 *Interval `json:"fdr"`
	FOR                 *Interval `json:"for"`
	// Disparity: metric name (tpr, fpr, fdr, for, precision,
	// predicted_prevalence) -> ratio to the reference group's value.
	Disparity map[string]float64 `json:"disparity"`
	// Flagged: the metrics whose disparity lies outside [0.8, 1.25].
	Flagged []string `json:"flagged"`
}
