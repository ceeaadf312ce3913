package rundir

// The parts of summary.json added for the office loop (issue 13), the risk
// elimination (issue 16) and the fairness audit (issue 14). Each is nil or
// empty when the night had nothing to say (the warehouse has no
// visit_outcomes, no household is monitored, the model's card has no
// audit): readers say so, and never recompute these figures.

// Place is a county or township with its name ("" when the warehouse's
// regions table does not name it: show the code).
type Place struct {
	Code string `json:"code"`
	Name string `json:"name"`
}

// Visits is what the home visits recorded in the warehouse's
// visit_outcomes found: the visits dated after the previous run's as-of
// date up to this night's (Since, AsOf], or the 31 days to the as-of
// date without a previous run.
type Visits struct {
	Present    bool   `json:"present"` // the warehouse holds visit_outcomes
	Since      string `json:"since"`   // visits dated after this day are counted
	Visited    int    `json:"visited"`
	Confirmed  int    `json:"confirmed"`
	NoRisk     int    `json:"no_risk"`
	NotReached int    `json:"not_reached"`
	Moved      int    `json:"moved"`
	Other      int    `json:"other"`
	// BySource: model (povrisk's list), rule (rule-only visits), other.
	BySource []SourceVisits `json:"by_source"`
	Counties []CountyVisits `json:"counties"`
}

// SourceVisits are the visits of one source. Precision is confirmed /
// (confirmed + no_risk): of the households reached and judged, the share
// found at risk (nil when none was).
type SourceVisits struct {
	Source    string   `json:"source"`
	Visited   int      `json:"visited"`
	Confirmed int      `json:"confirmed"`
	NoRisk    int      `json:"no_risk"`
	Precision *float64 `json:"precision"`
}

// CountyVisits are the visits of one county.
type CountyVisits struct {
	Place
	Visited    int            `json:"visited"`
	Confirmed  int            `json:"confirmed"`
	NoRisk     int            `json:"no_risk"`
	NotReached int            `json:"not_reached"`
	Moved      int            `json:"moved"`
	Other      int            `json:"other"`
	BySource   []SourceVisits `json:"by_source"`
}

// Elimination is the night's risk-elimination assessment (风险消除) of
// the households monitored on the as-of date (elimination.parquet).
type Elimination struct {
	Monitored int `json:"monitored"`
	Ready     int `json:"ready"`   // 可消除
	Defer     int `json:"defer"`   // 暂缓消除
	NotMet    int `json:"not_met"` // 不满足
	// RelapseModel is the id of the relapse model used ("" none: the
	// defer verdict then rests on the months since identification only).
	RelapseModel string `json:"relapse_model"`
	// Relapses12m: households eliminated in the 12 months to the as-of
	// date and identified again since.
	Relapses12m int                 `json:"relapses_12m"`
	Counties    []CountyElimination `json:"counties"`
}

// CountyElimination is one county's elimination assessment.
type CountyElimination struct {
	Place
	Monitored   int    `json:"monitored"`
	Ready       int    `json:"ready"`
	Defer       int    `json:"defer"`
	NotMet      int    `json:"not_met"`
	TopUnmet    string `json:"top_unmet"` // the condition most often unmet ("" none)
	Relapses12m int    `json:"relapses_12m"`
}

// Watch is the watch after elimination (回头看): households whose risk
// was eliminated in the 12 months to the as-of date, now eligible again.
type Watch struct {
	Eliminated12m int           `json:"eliminated_12m"`
	InTopK        int           `json:"in_top_k"`
	High          int           `json:"high"`
	Counties      []CountyWatch `json:"counties"`
}

// CountyWatch is one county's watch.
type CountyWatch struct {
	Place
	Eliminated12m int `json:"eliminated_12m"`
	InTopK        int `json:"in_top_k"`
	High          int `json:"high"`
}
