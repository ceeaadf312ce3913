// Package whatif answers "what would this night look like under another
// policy file": the rule screen and the elimination verdicts of a run
// directory recomputed under a new policy from the run's own features,
// without retraining (povrisk whatif).
package whatif

// Result is what whatif prints with --json and what the brief's annex
// presents. Counts are households; "flagged" means tripping at least one
// rule of the screen (a rule's own counts are per rule).
type Result struct {
	Run          string `json:"run"`           // the run directory's as-of date
	PolicyBefore string `json:"policy_before"` // sha256 of the run's policy file
	PolicyAfter  string `json:"policy_after"`  // sha256 of the new policy file
	// Changes lists the settings that differ (e.g. "line 2025 贵州 4800 -> 5000").
	Changes []string `json:"changes"`

	FlaggedBefore int `json:"flagged_before"`
	FlaggedAfter  int `json:"flagged_after"`
	Entered       int `json:"entered"` // flagged after, not before
	Left          int `json:"left"`    // flagged before, not after

	Rules    []RuleChange   `json:"rules"`
	Counties []CountyChange `json:"counties"`

	// Elimination verdicts of the monitored households, before and after
	// (verdict -> households; nil when the run has no elimination.parquet).
	EliminationBefore map[string]int `json:"elimination_before"`
	EliminationAfter  map[string]int `json:"elimination_after"`

	// Cost of the suggested measures for the flagged households, yuan per
	// year at the unit costs given (the brief's defaults unless --unit-costs).
	CostBefore float64 `json:"cost_before"`
	CostAfter  float64 `json:"cost_after"`
	// UnitCosts are the unit costs used (measure code -> yuan per household-year).
	UnitCosts map[string]float64 `json:"unit_costs"`
}

// RuleChange is one rule's households flagged before and after.
type RuleChange struct {
	Rule          string `json:"rule"`
	FlaggedBefore int    `json:"flagged_before"`
	FlaggedAfter  int    `json:"flagged_after"`
	Entered       int    `json:"entered"`
	Left          int    `json:"left"`
}

// CountyChange is one county's households flagged before and after.
type CountyChange struct {
	Code              string         `json:"code"`
	Name              string         `json:"name"`
	FlaggedBefore     int            `json:"flagged_before"`
	FlaggedAfter      int            `json:"flagged_after"`
	Entered           int            `json:"entered"`
	Left              int            `json:"left"`
	EliminationBefore map[string]int `json:"elimination_before"`
	EliminationAfter  map[string]int `json:"elimination_after"`
	CostBefore        float64        `json:"cost_before"`
	CostAfter         float64        `json:"cost_after"`
}
