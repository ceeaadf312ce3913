package datasets

import (
	"fmt"
	"slices"

	"github.com/apache/arrow-go/v18/arrow"
)

// SchemaVersion is the version of the verification data standard that this
// package describes (../shared/DATA-STANDARD.md).
const SchemaVersion = "1.1"

// Kind is the logical type of a column in the data standard.
type Kind int

const (
	String Kind = iota // free text or an identifier
	Date               // a calendar day: YYYY-MM-DD, YYYY/MM/DD or YYYYMMDD
	Month              // a calendar month: YYYY-MM or YYYYMM; stored as its first day
	Money              // yuan, a decimal number without thousands separators
	Int                // a whole number, optionally bounded by Min and Max
	Bool               // true/false, 1/0, 是/否
	Enum               // one of Values
	Region             // a statistical division code: 12 digits (or a prefix, see RegionLengths)
)

func (k Kind) String() string {
	switch k {
	case String:
		return "string"
	case Date:
		return "date"
	case Month:
		return "month"
	case Money:
		return "money"
	case Int:
		return "int"
	case Bool:
		return "bool"
	case Enum:
		return "enum"
	case Region:
		return "region"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Column describes one column of a table in the data standard.
type Column struct {
	Name     string
	Kind     Kind
	Nullable bool     // an empty field is allowed (null)
	Values   []string // the code list of an Enum
	Min, Max int64    // bounds of an Int (both zero: unbounded)
	// RegionLengths lists the accepted lengths of a Region code; nil means 12 only.
	RegionLengths []int
	// Ref names the table whose key this column references ("" for none).
	Ref string
	// Pseudonymised columns are replaced on ingest by a keyed hash and stored
	// under StoredName; their clear value never reaches the warehouse.
	Pseudonymised bool
	// Meaning is the column's meaning, in English (with the Chinese term).
	Meaning string
}

// StoredName is the column's name in the warehouse: pseudonymised columns
// are stored as NAME_hash.
func (c Column) StoredName() string {
	if c.Pseudonymised {
		return c.Name + "_hash"
	}
	return c.Name
}

// ArrowType is the Arrow type of the column in the warehouse.
//
//	String, Enum, Region: utf8; Date and Month: date32 (a month is its first
//	day); Money: float64 (yuan); Int: int32; Bool: bool.
func (c Column) ArrowType() arrow.DataType {
	switch c.Kind {
	case Date, Month:
		return arrow.FixedWidthTypes.Date32
	case Money:
		return arrow.PrimitiveTypes.Float64
	case Int:
		return arrow.PrimitiveTypes.Int32
	case Bool:
		return arrow.FixedWidthTypes.Boolean
	default:
		return arrow.BinaryTypes.String
	}
}

// Table describes one table of the data standard.
type Table struct {
	Name     string
	Required bool     // a drop without it is invalid
	Key      []string // columns that together identify a row (nil: no key)
	Columns  []Column
	Meaning  string
	// Version is the version of the standard that added the table: "1", or
	// "1.1" for the optional tables regions, person_events and
	// visit_outcomes (every v1 drop stays valid without them).
	Version string
}

// Column returns the named column and whether it exists.
func (t Table) Column(name string) (Column, bool) {
	for _, c := range t.Columns {
		if c.Name == name {
			return c, true
		}
	}
	return Column{}, false
}

// ArrowSchema is the schema of the table in the warehouse, in the column
// order of the standard, with pseudonymised columns under their stored names.
func (t Table) ArrowSchema() *arrow.Schema {
	fields := make([]arrow.Field, len(t.Columns))
	for i, c := range t.Columns {
		fields[i] = arrow.Field{Name: c.StoredName(), Type: c.ArrowType(), Nullable: c.Nullable}
	}
	return arrow.NewSchema(fields, nil)
}

// Code lists of the standard. They are unexported so that no caller can
// change the standard; the functions below return fresh copies.
var (
	povertyStatuses = []string{"escaped", "monitored", "general"}
	monitorTypes    = []string{"unstable", "marginal", "sudden"}
	sexes           = []string{"M", "F"}
	relations       = []string{"head", "spouse", "child", "parent", "grandchild", "other"}
	laborCapacities = []string{"full", "weak", "lost", "none"}
	schoolingLevels = []string{"none", "preschool", "compulsory", "high_school", "vocational", "tertiary"}
	disasterKinds   = []string{"flood", "drought", "hail", "frost", "earthquake", "landslide", "fire", "epidemic", "other"}
	assetKinds      = []string{"vehicle", "property", "business", "public_payroll", "deposit", "securities"}
	programs        = []string{"dibao", "tekun", "temporary", "medical_aid", "employment_aid", "industry_aid", "education_aid", "housing_aid"}
	riskTypes       = []string{"illness", "disability", "education", "disaster", "accident", "unemployment", "industry", "labor_shortage", "housing", "water", "other"}
)

// PovertyStatuses is the code list of households.poverty_status.
func PovertyStatuses() []string { return slices.Clone(povertyStatuses) }

// MonitorTypes is the code list of households.monitor_type.
func MonitorTypes() []string { return slices.Clone(monitorTypes) }

// Sexes is the code list of persons.sex.
func Sexes() []string { return slices.Clone(sexes) }

// Relations is the code list of persons.relation.
func Relations() []string { return slices.Clone(relations) }

// LaborCapacities is the code list of persons.labor_capacity.
func LaborCapacities() []string { return slices.Clone(laborCapacities) }

// SchoolingLevels is the code list of persons.schooling and education.level.
func SchoolingLevels() []string { return slices.Clone(schoolingLevels) }

// DisasterKinds is the code list of disasters.kind.
func DisasterKinds() []string { return slices.Clone(disasterKinds) }

// AssetKinds is the code list of assets.kind.
func AssetKinds() []string { return slices.Clone(assetKinds) }

// Programs is the code list of assistance.program, in the standard's order.
func Programs() []string { return slices.Clone(programs) }

// RiskTypes is the code list of monitoring_events.risk_type, in the
// standard's order ("other" last).
func RiskTypes() []string { return slices.Clone(riskTypes) }

// householdRef and personRef are the columns that reference a household
// or a person by its key.
var (
	householdRef = Column{Name: "household_id", Kind: String, Ref: "households", Meaning: "household"}
	personRef    = Column{Name: "person_id", Kind: String, Ref: "persons", Meaning: "person"}
)

// Code lists of the v1.1 tables.
var (
	personFields  = []string{"labor_capacity", "disability_grade", "chronic_disease", "major_disease", "schooling"}
	visitOutcomes = []string{"confirmed", "no_risk", "not_reached", "moved", "other"}
	visitSources  = []string{"model", "rule", "other"}
)

// PersonFields is the code list of person_events.field: the persons
// columns whose changes are dated.
func PersonFields() []string { return slices.Clone(personFields) }

// VisitOutcomes is the code list of visit_outcomes.outcome.
func VisitOutcomes() []string { return slices.Clone(visitOutcomes) }

// VisitSources is the code list of visit_outcomes.source.
func VisitSources() []string { return slices.Clone(visitSources) }

// standard is the data standard, v1: every table in the order in which a
// drop is ingested (referenced tables first). It is never modified; callers
// outside the package get copies (Tables, Lookup).
var standard = []Table{
	{
		Name: "households", Required: true, Key: []string{"household_id"},
		Meaning: "户: one row per registered household",
		Columns: []Column{
			{Name: "household_id", Kind: String, Meaning: "household number in the registry"},
			{Name: "region_code", Kind: Region, Meaning: "village of residence (12-digit 统计用区划代码)"},
			{Name: "poverty_status", Kind: Enum, Values: povertyStatuses, Meaning: "escaped 脱贫户, monitored 监测户, general 一般农户"},
			{Name: "escape_year", Kind: Int, Nullable: true, Min: 1978, Max: 2100, Meaning: "year lifted out of poverty"},
			{Name: "monitor_type", Kind: Enum, Nullable: true, Values: monitorTypes, Meaning: "for monitored households: unstable, marginal, sudden"},
			{Name: "registered_date", Kind: Date, Meaning: "household registration date"},
			{Name: "housing_safe", Kind: Bool, Nullable: true, Meaning: "house passed the safety appraisal (住房安全有保障)"},
			{Name: "water_safe", Kind: Bool, Nullable: true, Meaning: "safe drinking water (饮水安全有保障)"},
		},
	},
	{
		Name: "persons", Required: true, Key: []string{"person_id"},
		Meaning: "人: one row per household member",
		Columns: []Column{
			{Name: "person_id", Kind: String, Meaning: "person number"},
			householdRef,
			{Name: "id_number", Kind: String, Nullable: true, Pseudonymised: true, Meaning: "resident ID number (pseudonymised on ingest)"},
			{Name: "birth_date", Kind: Date, Meaning: "date of birth"},
			{Name: "sex", Kind: Enum, Values: sexes, Meaning: "M or F"},
			{Name: "relation", Kind: Enum, Values: relations, Meaning: "relation to the head of household"},
			{Name: "labor_capacity", Kind: Enum, Values: laborCapacities, Meaning: "full 普通劳动力, weak 弱劳动力, lost 丧失劳动力, none 无劳动力"},
			{Name: "disability_grade", Kind: Int, Min: 0, Max: 4, Meaning: "0 none; 1 (most severe) to 4"},
			{Name: "chronic_disease", Kind: Bool, Meaning: "on the chronic-disease register (慢病)"},
			{Name: "major_disease", Kind: Bool, Meaning: "on the major-disease register (大病)"},
			{Name: "schooling", Kind: Enum, Values: schoolingLevels, Meaning: "current or highest schooling"},
			{Name: "deceased_date", Kind: Date, Nullable: true, Meaning: "date of death"},
		},
	},
	{
		Name: "income_records", Key: []string{"household_id", "period"},
		Meaning: "收入: monthly household income",
		Columns: []Column{
			householdRef,
			{Name: "period", Kind: Month, Meaning: "month"},
			{Name: "wage_income", Kind: Money, Meaning: "工资性收入"},
			{Name: "business_income", Kind: Money, Meaning: "生产经营性收入 (gross)"},
			{Name: "property_income", Kind: Money, Meaning: "财产性收入"},
			{Name: "transfer_income", Kind: Money, Meaning: "转移性收入"},
			{Name: "production_cost", Kind: Money, Meaning: "生产经营费用"},
		},
	},
	{
		Name: "social_insurance", Key: []string{"person_id", "period"},
		Meaning: "社保缴费: a contribution paid by a person in a month",
		Columns: []Column{
			personRef,
			{Name: "period", Kind: Month, Meaning: "month"},
			{Name: "employer_id", Kind: String, Nullable: true, Meaning: "paying employer; null for flexible employment"},
			{Name: "contribution_base", Kind: Money, Meaning: "缴费基数"},
		},
	},
	{
		Name:    "unemployment",
		Meaning: "失业登记: unemployment registrations",
		Columns: []Column{
			personRef,
			{Name: "registered_date", Kind: Date, Meaning: "registration date"},
			{Name: "ended_date", Kind: Date, Nullable: true, Meaning: "re-employed or registration ended"},
		},
	},
	{
		Name: "medical_claims", Key: []string{"claim_id"},
		Meaning: "医保结算: medical-insurance claims",
		Columns: []Column{
			{Name: "claim_id", Kind: String, Meaning: "claim"},
			personRef,
			{Name: "service_date", Kind: Date, Meaning: "date of service"},
			{Name: "total_cost", Kind: Money, Meaning: "医疗总费用"},
			{Name: "insurance_paid", Kind: Money, Meaning: "paid by insurance and medical assistance"},
			{Name: "out_of_pocket", Kind: Money, Meaning: "个人自付"},
			{Name: "inpatient", Kind: Bool, Meaning: "住院"},
			{Name: "diagnosis", Kind: String, Nullable: true, Meaning: "ICD-10 code (a health condition: never printed)"},
		},
	},
	{
		Name:    "education",
		Meaning: "教育: school terms with fees and subsidies",
		Columns: []Column{
			personRef,
			{Name: "term_start", Kind: Date, Meaning: "start of the term"},
			{Name: "level", Kind: Enum, Values: schoolingLevels, Meaning: "level of schooling"},
			{Name: "fees", Kind: Money, Meaning: "tuition, boarding and fees for the term"},
			{Name: "subsidy", Kind: Money, Meaning: "资助 received for the term"},
		},
	},
	{
		Name:    "disasters",
		Meaning: "灾情: disasters by region, with household losses",
		Columns: []Column{
			{Name: "event_id", Kind: String, Meaning: "event"},
			{Name: "region_code", Kind: Region, RegionLengths: []int{6, 9, 12}, Meaning: "6, 9 or 12 digits: every household under the prefix is exposed"},
			{Name: "household_id", Kind: String, Nullable: true, Ref: "households", Meaning: "set when a household's own loss was recorded"},
			{Name: "start_date", Kind: Date, Meaning: "start of the event"},
			{Name: "kind", Kind: Enum, Values: disasterKinds, Meaning: "kind of disaster"},
			{Name: "severity", Kind: Int, Min: 1, Max: 4, Meaning: "1 most severe"},
			{Name: "loss_amount", Kind: Money, Nullable: true, Meaning: "the household's recorded loss"},
		},
	},
	{
		Name:    "assets",
		Meaning: "资产与身份核对: vehicles, property, business, payroll, deposits",
		Columns: []Column{
			householdRef,
			{Name: "person_id", Kind: String, Nullable: true, Ref: "persons", Meaning: "person"},
			{Name: "kind", Kind: Enum, Values: assetKinds, Meaning: "kind of asset or status"},
			{Name: "event_date", Kind: Date, Meaning: "purchase, registration or balance date"},
			{Name: "value", Kind: Money, Nullable: true, Meaning: "value in yuan"},
		},
	},
	{
		Name:    "assistance",
		Meaning: "救助与帮扶: assistance programmes received",
		Columns: []Column{
			householdRef,
			{Name: "program", Kind: Enum, Values: programs, Meaning: "programme"},
			{Name: "start_date", Kind: Date, Meaning: "start"},
			{Name: "end_date", Kind: Date, Nullable: true, Meaning: "end"},
			{Name: "amount", Kind: Money, Nullable: true, Meaning: "yearly amount"},
		},
	},
	{
		Name:    "monitoring_events",
		Meaning: "防返贫监测识别记录: identification as a monitoring object (the outcome)",
		Columns: []Column{
			householdRef,
			{Name: "identified_date", Kind: Date, Meaning: "identified as a monitoring object"},
			{Name: "risk_type", Kind: Enum, Values: riskTypes, Meaning: "official risk type"},
			{Name: "eliminated_date", Kind: Date, Nullable: true, Meaning: "风险消除"},
		},
	},
	// v1.1 additions: optional.
	{
		Name: "regions", Key: []string{"region_code"}, Version: "1.1",
		Meaning: "区划名称: names of counties, townships and villages",
		Columns: []Column{
			{Name: "region_code", Kind: Region, RegionLengths: []int{6, 9, 12}, Meaning: "county (6), township (9) or village (12) code"},
			{Name: "name", Kind: String, Meaning: "县(市、区), 乡(镇、街道) or 村(社区) name"},
		},
	},
	{
		Name: "person_events", Key: []string{"person_id", "event_date", "field"}, Version: "1.1",
		Meaning: "人员状态变更: dated changes of a person's labour capacity, disability, disease registers, schooling",
		Columns: []Column{
			personRef,
			{Name: "event_date", Kind: Date, Meaning: "the day the change took effect"},
			{Name: "field", Kind: Enum, Values: personFields, Meaning: "the persons column that changed"},
			{Name: "value", Kind: String, Meaning: "the new value, in that column's encoding in persons"},
		},
	},
	{
		Name: "visit_outcomes", Key: []string{"household_id", "visit_date"}, Version: "1.1",
		Meaning: "入户核查结果: what a home visit found",
		Columns: []Column{
			householdRef,
			{Name: "visit_date", Kind: Date, Meaning: "day of the home visit"},
			{Name: "outcome", Kind: Enum, Values: visitOutcomes, Meaning: "confirmed 核实存在风险, no_risk 核实无风险, not_reached 未见到户, moved 已迁出, other 其他"},
			{Name: "source", Kind: Enum, Nullable: true, Values: visitSources, Meaning: "why visited: model (povrisk's list), rule (a rule screen), other"},
			{Name: "visitor_code", Kind: String, Nullable: true, Meaning: "code of the visiting cadre or team, never a name"},
			{Name: "note", Kind: String, Nullable: true, Meaning: "free text; stored, never printed in briefs or summaries"},
		},
	},
}

// Tables returns the data standard, v1 and the optional v1.1 tables: every table in the order in which a
// drop is ingested (referenced tables first). The tables are fresh copies:
// changing them changes nothing else.
func Tables() []Table {
	out := make([]Table, len(standard))
	for i, t := range standard {
		out[i] = t.clone()
	}
	return out
}

// Lookup returns (a copy of) the named table of the standard and whether it
// exists.
func Lookup(name string) (Table, bool) {
	for _, t := range standard {
		if t.Name == name {
			return t.clone(), true
		}
	}
	return Table{}, false
}

// TableNames lists the tables of the standard in ingest order.
func TableNames() []string {
	names := make([]string, len(standard))
	for i, t := range standard {
		names[i] = t.Name
	}
	return names
}

// clone copies every slice of the table, so that the copy shares nothing
// with the standard.
func (t Table) clone() Table {
	if t.Version == "" {
		t.Version = "1"
	}
	t.Key = slices.Clone(t.Key)
	t.Columns = slices.Clone(t.Columns)
	for i := range t.Columns {
		c := &t.Columns[i]
		c.Values = slices.Clone(c.Values)
		c.RegionLengths = slices.Clone(c.RegionLengths)
	}
	return t
}
