package features

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/povrisk/povrisk/engine/civil"
	"github.com/povrisk/povrisk/features/rules"
)

// The verdicts of an elimination assessment.
const (
	VerdictReady  = "ready"   // 可消除: every condition met, low relapse risk
	VerdictDefer  = "defer"   // 暂缓消除: conditions met, but identified too recently or a high relapse risk
	VerdictNotMet = "not_met" // 不满足: a condition is not met (Unmet names it)
)

// The conditions of an assessment (Condition.Name), in this order.
const (
	CondIncome  = "income_stable"           // income per head of the short window and of 12 months at or above the line
	CondRigid   = "rigid_resolved"          // no large rigid expenditure left
	CondEdu     = "education"               // compulsory education secured (no dropout)
	CondMedical = "medical"                 // basic medical care secured (proxy: every claim had insurance paying)
	CondHousing = "housing"                 // safe housing secured
	CondWater   = "water"                   // safe drinking water secured
	CondLabour  = "labour"                  // a household without labour clears the line without assistance
	CondMonths  = "months_since_identified" // identified long enough ago (not met: defer, not not_met)
)

// Condition is one condition of risk elimination for a household.
type Condition struct {
	Name string
	Met  bool
	Fact string // zh, with the numbers
}

// Assessment is the risk elimination assessment of one household monitored
// on the as-of date (POLICY.md, "Risk elimination"). The scalar fields are
// the facts: EliminationConditions recomputes Line, RigidResolved,
// Conditions and Unmet from them under any policy, EliminationVerdict the
// Verdict (whatif does both from elimination.parquet, whose columns are
// these field names in snake_case).
type Assessment struct {
	HouseholdID, RegionCode string
	AsOf                    string // YYYY-MM-DD
	IdentifiedDate          string // of the open monitoring event; "" when unknown
	MonthsSinceIdentified   int    // -1 when unknown
	HouseholdSize           int

	IncomePC6m  float64 // net income per head of the policy's income_months, annualised; NaN without records
	IncomePC12m float64 // net income per head of the 12 months; NaN without records
	Line        float64 // monitoring line of the as-of year

	RigidExpenditure float64 // out-of-pocket medical + non-compulsory fees net of aid, rigid_months
	RigidMedical     float64 // its out-of-pocket medical part
	RigidIncome      float64 // the household's net income of the same months
	RigidResolved    bool

	DropoutChildren int  // children of compulsory age out of school
	UninsuredClaims int  // claims of the 12 months with a cost and nothing paid by insurance
	Education       bool // the three guarantees and safe water secured
	Medical         bool
	Housing         bool
	Water           bool

	NoLabour            bool
	AssistanceAmount    float64 // yearly amount of the assistance received on the as-of date
	IncomePCNoAssist12m float64 // (12-month net income - AssistanceAmount) / size; NaN without records

	Conditions []Condition
	Unmet      []string // names of the conditions not met
	Relapse    float64  // NaN: no relapse model
	Verdict    string   // ready | defer | not_met
}

// AssessElimination assesses every household monitored on asOf (an open
// monitoring event, or the snapshot status for a household without any
// event: the households the ranking leaves out), sorted by household_id,
// with the [elimination] thresholds of pol (nil: the sample policy).
// Relapse is NaN (no model): the caller sets it and calls
// EliminationVerdict again when it has a relapse model.
func AssessElimination(ctx context.Context, db *sql.DB, w Tables, asOf time.Time, pol *rules.Policy) ([]Assessment, error) {
	return AssessEliminationIn(ctx, db, w, asOf, pol, nil)
}

// AssessEliminationIn is AssessElimination for the households of the
// counties given (Options.Counties: nil means every county), as a shard
// of a night needs: a household's assessment does not depend on which
// other counties are assessed with it.
func AssessEliminationIn(ctx context.Context, db *sql.DB, w Tables, asOf time.Time, pol *rules.Policy, counties []string) ([]Assessment, error) {
	if pol == nil {
		pol = rules.SamplePolicy()
	}
	var out []Assessment
	el := pol.Elimination
	// monitoredOnly: the session holds the monitored households only, and
	// f_status already.
	err := withSession(ctx, db, w, asOf, pol, Options{Counties: counties, monitoredOnly: true}, func(conn *sql.Conn, present map[string]bool) error {
		for _, fam := range []string{"demographics", "labour", "assistance"} {
			if _, err := conn.ExecContext(ctx, "CREATE OR REPLACE TEMP TABLE f_"+fam+" AS\n"+familySQL(fam)); err != nil {
				return fmt.Errorf("elimination: family %s: %w", fam, err)
			}
		}
		rows, err := conn.QueryContext(ctx, familySQL("elimination"), el.IncomeMonths, el.RigidMonths, el.CompulsoryAgeMin, el.CompulsoryAgeMax)
		if err != nil {
			return fmt.Errorf("elimination: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			a, err := scanAssessment(rows, el.IncomeMonths)
			if err != nil {
				return fmt.Errorf("elimination: %w", err)
			}
			a.AsOf = civil.Format(asOf)
			out = append(out, a)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	for i := range out {
		if err := EliminationConditions(&out[i], pol); err != nil {
			return nil, err
		}
		EliminationVerdict(&out[i], pol)
	}
	return out, nil
}

// scanAssessment reads one row of sql/elimination.sql.
func scanAssessment(rows *sql.Rows, incomeMonths int) (Assessment, error) {
	var a Assessment
	var ident sql.NullString
	var months sql.NullInt64
	var net12, netInc sql.NullFloat64
	var housing, water, noLabor sql.NullBool
	if err := rows.Scan(&a.HouseholdID, &a.RegionCode, &ident, &months, &a.HouseholdSize, &net12, &netInc,
		&a.RigidIncome, &a.RigidMedical, &a.RigidExpenditure, &a.DropoutChildren, &a.UninsuredClaims,
		&housing, &water, &noLabor, &a.AssistanceAmount); err != nil {
		return a, err
	}
	// RigidExpenditure was scanned with the fees only: add the medical part.
	a.RigidExpenditure = round2(a.RigidExpenditure + a.RigidMedical)
	a.IdentifiedDate = ident.String
	a.MonthsSinceIdentified = -1
	if months.Valid {
		a.MonthsSinceIdentified = int(months.Int64)
	}
	a.IncomePC6m, a.IncomePC12m, a.IncomePCNoAssist12m = math.NaN(), math.NaN(), math.NaN()
	if a.HouseholdSize > 0 {
		n := float64(a.HouseholdSize)
		if netInc.Valid {
			a.IncomePC6m = round2(netInc.Float64 * 12 / float64(incomeMonths) / n)
		}
		if net12.Valid {
			a.IncomePC12m = round2(net12.Float64 / n)
			a.IncomePCNoAssist12m = round2((net12.Float64 - a.AssistanceAmount) / n)
		}
	}
	a.Education = a.DropoutChildren == 0
	a.Medical = a.UninsuredClaims == 0
	a.Housing = housing.Valid && housing.Bool
	a.Water = water.Valid && water.Bool
	a.NoLabour = noLabor.Valid && noLabor.Bool
	a.Relapse = math.NaN()
	return a, nil
}

func round2(v float64) float64 { return math.Round(v*100) / 100 }

// EliminationConditions sets a's Line (the monitoring line of the as-of
// year for its region under pol), RigidResolved, Conditions and Unmet from
// its facts and pol's [elimination] thresholds. The guarantees (Education,
// Medical, Housing, Water) are facts of the data, not of the policy.
func EliminationConditions(a *Assessment, pol *rules.Policy) error {
	asOf, err := civil.Parse(a.AsOf)
	if err != nil {
		return fmt.Errorf("elimination of household %s: as-of date %q: %w", a.HouseholdID, a.AsOf, err)
	}
	line, err := pol.Line(a.RegionCode, asOf.Year())
	if err != nil {
		return fmt.Errorf("elimination of household %s: %w", a.HouseholdID, err)
	}
	el := pol.Elimination
	a.Line = line.Value
	lineZh := fmt.Sprintf("%d年监测线%s元", asOf.Year(), rules.Thousands(a.Line))
	var cs []Condition
	add := func(name string, met bool, fact string) { cs = append(cs, Condition{name, met, fact}) }

	incMet := known(a.IncomePC6m) && known(a.IncomePC12m) && a.IncomePC6m >= a.Line && a.IncomePC12m >= a.Line
	add(CondIncome, incMet, fmt.Sprintf("近%d个月人均纯收入（折年）%s元，近12个月人均纯收入%s元，%s%s",
		el.IncomeMonths, yuanOrNone(a.IncomePC6m), yuanOrNone(a.IncomePC12m), lineZh, map[bool]string{true: "，均不低于监测线", false: "，未稳定在监测线以上"}[incMet]))

	limit := el.RigidIncomeShare * a.RigidIncome
	a.RigidResolved = a.RigidMedical <= el.RigidMedicalMax && (a.RigidExpenditure == 0 || a.RigidIncome > 0 && a.RigidExpenditure <= limit)
	add(CondRigid, a.RigidResolved, fmt.Sprintf("近%d个月医疗自付%s元、非义务教育净支出%s元，合计%s元；同期家庭纯收入%s元（上限：医疗自付%s元、合计不超过纯收入的%s%%）",
		el.RigidMonths, rules.Thousands(a.RigidMedical), rules.Thousands(a.RigidExpenditure-a.RigidMedical), rules.Thousands(a.RigidExpenditure),
		rules.Thousands(a.RigidIncome), rules.Thousands(el.RigidMedicalMax), strconv.FormatFloat(el.RigidIncomeShare*100, 'f', -1, 64)))

	if a.Education {
		add(CondEdu, true, fmt.Sprintf("无%d-%d岁义务教育阶段失学辍学儿童", el.CompulsoryAgeMin, el.CompulsoryAgeMax))
	} else {
		add(CondEdu, false, fmt.Sprintf("%d名%d-%d岁儿童近12个月无在学记录", a.DropoutChildren, el.CompulsoryAgeMin, el.CompulsoryAgeMax))
	}
	if a.Medical {
		add(CondMedical, true, "近12个月就医结算均有医保报销")
	} else {
		add(CondMedical, false, fmt.Sprintf("近12个月%d次就医结算无医保报销（基本医疗保险待核实）", a.UninsuredClaims))
	}
	add(CondHousing, a.Housing, map[bool]string{true: "住房安全有保障", false: "住房安全未保障或无鉴定记录"}[a.Housing])
	add(CondWater, a.Water, map[bool]string{true: "饮水安全有保障", false: "饮水安全未保障或无记录"}[a.Water])

	if !a.NoLabour {
		add(CondLabour, true, "家庭有劳动力")
	} else {
		met := known(a.IncomePCNoAssist12m) && a.IncomePCNoAssist12m >= a.Line
		add(CondLabour, met, fmt.Sprintf("家庭无劳动力：扣除年救助帮扶%s元后近12个月人均纯收入%s元，%s%s", rules.Thousands(a.AssistanceAmount),
			yuanOrNone(a.IncomePCNoAssist12m), map[bool]string{true: "不低于", false: "低于"}[met], lineZh))
	}
	if a.MonthsSinceIdentified < 0 {
		add(CondMonths, false, "无识别日期记录")
	} else {
		add(CondMonths, a.MonthsSinceIdentified >= el.MinMonthsSinceIdentified, fmt.Sprintf("%s识别为监测对象，已%d个月（不少于%d个月方可消除）",
			a.IdentifiedDate, a.MonthsSinceIdentified, el.MinMonthsSinceIdentified))
	}
	a.Conditions, a.Unmet = cs, nil
	for _, c := range cs {
		if !c.Met {
			a.Unmet = append(a.Unmet, c.Name)
		}
	}
	return nil
}

func yuanOrNone(v float64) string {
	if !known(v) {
		return "无记录"
	}
	return rules.Thousands(v)
}

func known(v float64) bool { return !math.IsNaN(v) }

// EliminationVerdict sets a.Verdict from a.Conditions, a.Relapse and
// a.MonthsSinceIdentified: not_met when a condition other than the months
// since identification is not met; else defer when identified fewer than
// pol's min_months_since_identified months ago (or on an unknown date) or
// when the relapse probability is known and at or above relapse_defer;
// else ready. Relapse NaN (no model) defers on the months rule only.
func EliminationVerdict(a *Assessment, pol *rules.Policy) {
	for _, c := range a.Conditions {
		if !c.Met && c.Name != CondMonths {
			a.Verdict = VerdictNotMet
			return
		}
	}
	if a.MonthsSinceIdentified < pol.Elimination.MinMonthsSinceIdentified || !math.IsNaN(a.Relapse) && a.Relapse >= pol.Elimination.RelapseDefer {
		a.Verdict = VerdictDefer
		return
	}
	a.Verdict = VerdictReady
}

// RelapseLabels returns, for the households whose risk was eliminated in
// the month ending asOf (an eliminated_date in the calendar month of asOf,
// on or before asOf), whether they were identified again in (asOf,
// asOf+horizonMonths]: Label.Positive and the RiskType of the first new
// identification. Their feature rows come from Compute at the same asOf:
// Compute gives every household registered on or before asOf a row,
// monitored or not, and on asOf these households are no longer monitored
// (their event is closed on or before asOf), so their rows are those of
// any household (monitored_at_as_of false, months_since_elimination 0).
func RelapseLabels(ctx context.Context, db *sql.DB, w Tables, asOf time.Time, horizonMonths int) (map[string]Label, error) {
	if horizonMonths < 1 {
		return nil, fmt.Errorf("relapse labels: horizon %d months: want 1 or more", horizonMonths)
	}
	end := civil.Format(addMonths(asOf, horizonMonths))
	out := map[string]Label{}
	err := withSession(ctx, db, w, asOf, rules.SamplePolicy(), Options{}, func(conn *sql.Conn, present map[string]bool) error {
		if !present["monitoring_events"] {
			return errors.New("relapse labels: the warehouse has no monitoring_events table: ingest a drop with it")
		}
		rows, err := conn.QueryContext(ctx, `
WITH elim AS (
    SELECT DISTINCT e.household_id
    FROM monitoring_events e CROSS JOIN params p
    JOIN hh USING (household_id)
    WHERE e.eliminated_date >= p.m0 AND e.eliminated_date <= p.as_of
), still AS (
    SELECT DISTINCT e.household_id
    FROM monitoring_events e CROSS JOIN params p
    WHERE e.identified_date <= p.as_of AND (e.eliminated_date IS NULL OR e.eliminated_date > p.as_of)
)
SELECT x.household_id, a.rt
FROM elim x
LEFT JOIN (
    SELECT m.household_id,
           arg_min(m.risk_type, strftime(m.identified_date, '%Y%m%d') || m.risk_type) AS rt
    FROM monitoring_events m CROSS JOIN params p
    WHERE m.identified_date > p.as_of AND m.identified_date <= CAST(? AS DATE)
    GROUP BY m.household_id
) a USING (household_id)
WHERE x.household_id NOT IN (SELECT household_id FROM still)
ORDER BY x.household_id`, end)
		if err != nil {
			return fmt.Errorf("relapse labels: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var id string
			var rt sql.NullString
			if err := rows.Scan(&id, &rt); err != nil {
				return fmt.Errorf("relapse labels: %w", err)
			}
			out[id] = Label{Positive: rt.Valid, RiskType: rt.String}
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
