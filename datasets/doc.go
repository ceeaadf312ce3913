// Package datasets knows the verification data standard (DATA-STANDARD v1
// and the optional v1.1 tables) and simulates drops that follow it.
//
// standard.go describes every table and column of the standard: its kind,
// code list, bounds, keys and references, and the Arrow type it is stored
// under in the warehouse. The ingest in package engine checks drops against
// it; the simulator writes drops that follow it. Nothing here knows of
// features or models.
//
// # A small drop in tests
//
//	rep, err := datasets.Generate(ctx, datasets.GenerateOptions{
//		Households: 500, Months: 18, Seed: 1, Out: filepath.Join(t.TempDir(), "drop"),
//	})
//	// rep.Truth: Out + ".truth.csv"; rep.Tables[i].Path: the table files
//
// It takes well under a second. Add Dirty: 0.02 for defective rows (listed in
// rep.Defects), Encoding: "gb18030", or Format: "csv.gz" / "parquet".
//
// # The simulated world
//
// Six real counties of Guizhou (52) and Yunnan (53), each with 6 townships of
// 8 villages (12-digit codes county+1tt+2vv). Counties (--counties) sets
// another number: fewer keep the first real ones; more add simulated
// counties, alternately in Guizhou and Yunnan (codes of prefectures 21 and
// up, drawn names ending in 县), each of 3 to 12 townships drawn uniformly
// from their own stream, so that the default world's counties, names and
// disasters stay what they are. Households are spread evenly over
// villages, so a county's size follows its townships (fourfold between the
// smallest and the largest, as in a real province: bench/scale.sh gives
// about 40,000 households per county). The regions table names them
// all (see "Places" below). Households (H00000001, ...)
// are escaped (~36%), monitored at the start (~6%, with a monitoring event
// before the start) or general. Members (P + household number + 2 digits)
// carry an 18-digit ID number with a valid check digit, and the extra
// columns name and phone (households carry no extra column: place names
// are in regions). Months run from Start; each household is simulated
// month by month from its own random stream PCG(Seed, index), so the output
// does not depend on the number of workers. The draws are named after their
// distributions (draws.go: chance = Bernoulli, logNormal, normal through
// gonum's distuv; uniform and pickIndex our own, see there why).
//
// Incomes: migrant wages (Spring Festival dip, year-end bonus), local wages,
// seasonal farm business income with spring production costs, small property
// income, transfers (pensions from 60, dibao/tekun, subsidies). Insured
// migrants pay social insurance monthly until they lose the job; about half
// of job losses are registered as unemployment, ended on re-employment.
// Medical claims: frequent small outpatient claims (chronic patients more),
// rare ordinary inpatient stays, and serious illnesses or accidents with
// large out-of-pocket spikes and follow-up claims (ICD-10 codes); the sick
// earner stops working for months, and a working-age member (16-64) may
// keep a lost (4%; 8% after an accident, with a disability of grade 3-4)
// or weakened (20%: wage x0.7) labour capacity. An illness (not an
// accident) puts the person on the major-disease register, and one in
// three on the chronic-disease register, on the day of the claim. Deaths and new disabilities (grade 1-2,
// labour capacity lost, dated by an inpatient claim) hit earners. School
// terms start in March and September; non-compulsory levels cost more, poor
// households receive subsidies. Disasters are drawn per county, township or
// village prefix and month; they cut farm income and some households record
// a loss. Assets (vehicles, property, business, public payroll, deposits) are
// more frequent in richer households; ~3% of escaped households are
// misregistered (hidden wealth, lower true risk).
//
// persons is a snapshot at the end of the data (deceased_date, labour
// capacity, disability, disease registers as they stand then; schooling as
// of the latest term start), with every change of those five fields dated
// in person_events (see below). households holds the registry status at
// export: monitored (with the monitor_type of the current monitoring:
// unstable for an escaped household, marginal below 1.5 times the line,
// else sudden) while a monitoring event is open on the last day; else
// escaped when the household has an escape year, else general, which is
// what a household becomes again after its risk is eliminated.
//
// # Places
//
// The regions table (v1.1) holds every county (6 digits: its real name,
// ending in 县, or a drawn one for a simulated county), township (9 digits: two drawn syllables and 镇, 乡, or
// 街道 for half of the first townships, the county seats) and village (12
// digits: two syllables and 村, 寨村, 坝村, 沟村, 湾村, or 社区: mostly
// under a 街道, 5% elsewhere), sorted by code. Names are drawn from their
// own stream PCG(Seed, names), so they depend only on the seed; a name
// drawn twice under the same parent is drawn again, so names are unique
// within their parent.
//
// # person_events: the state on an earlier date
//
// Each change of labor_capacity, disability_grade, chronic_disease,
// major_disease or schooling inside the data is a row (person_id,
// event_date, field, value in the persons encoding: full/weak/lost/none,
// "0".."4", "true"/"false", a schooling level), dated by what drove it: an
// inpatient claim (major and chronic registers after an illness, labour
// lost or weakened after an illness or accident, a disability and its lost
// labour), or the term start (1 March, 1 September) at which the schooling
// level moved on. The state of a field on a date D is:
//
//	the value of the person's latest event of that field with event_date <= D;
//	without one: chronic_disease and major_disease "false", disability_grade "0",
//	labor_capacity "full" when the person is aged 16-59 on D (whole years),
//	else the persons (export) value; schooling the persons value.
//
// The simulator writes whatever extra event that rule needs to give its
// true state on every day of the data: when the state at the start is not
// the rule's default, an event with that state dated before the start (a
// registration date 31 days to 3 years before, not before birth; for
// schooling the latest term start before the start); for labour, an event
// on the 16th or 60th birthday inside the data where the default turns and
// the state does not (a 14-year-old pupil with no labour gets "none" on her
// 16th birthday). Applied on the last day, the rule gives persons back
// exactly (TestPersonEventsRebuildPersons).
//
// # The hazard of identification
//
// Each month a household that is not a monitoring object is identified with
// probability
//
//	h = min(0.6, V * (b0 + sum over shocks s of c_s * delay(t - t_s))) + u
//
// where delay puts 20/30/30/20% of a shock's weight 1/2/3/4 months after it,
// c_s grows with the shock's size against the household's income (serious
// illness and accident by out-of-pocket cost, job loss by the wage's share,
// disaster by severity and the farm's share, school fees, death or
// disability of an earner, failed farm business), V is the vulnerability
// (12-month per-capita net income against the 8,000 yuan line, no labour,
// escaped status, chronic illness, unsafe housing or water), and u a latent
// frailty that no data explains. The risk type of the event is drawn from
// the components of h. About 2-3% of eligible households are identified
// per 6 months.
//
// # Elimination and relapse
//
// A monitoring object's risk is eliminated in a month with probability
// (eliminationP) 0.22 when its 12-month net income per head is at least 1.4
// times the line, 0.14 from 1.05 times, 0.018 below; these from 6 months
// after identification; before 6 months 0.02 (at 1.15 times or more) or
// 0.004: the early eliminations (about 10% of them); halved without
// labour. After an elimination in month e the hazard gains, outside V, a
// relapse term relapseC·exp(-(t-e-1)/10) for t-e = 1..18, with
//
//	relapseC = 0.006·exp(1.8·clamp(0.5 - margin, 0, 1.5) + 0.9·no labour + 0.5·chronic or major illness + 1.0·early)
//
// where margin is the income per head against the line minus 1 at the
// elimination: observable in income_records, persons, person_events and
// monitoring_events. A relapse is a new monitoring event with the risk type
// of the eliminated one (when drawn from that term). On 20,000 households
// and 36 months (seed 4): 2,415 eliminations, 10% of them early and 24%
// below 1.05 times the line; 18% relapse within 12 months, 32% of the early
// ones; 8-10% of the households are monitoring objects (6% at the start).
// Relapse within 12 months by margin at the elimination: 35% below 0.2,
// 15% from 0.2 to 0.5, 7% above; 24% with illness against 16%; 27%
// without labour against 18%.
//
// # Ground truth
//
// Out + ".truth.csv": household_id,as_of,p_identified_6m for each of the
// last 7 month-ends (as_of = end - 6 months ... end), sorted by as_of then
// household_id: the probability, from the same hazard model and the state
// at as_of (known shocks with their remaining delay, future shocks at their
// expected rate, scheduled school terms exactly, V held), that the household
// is identified in the 6 months after as_of. The school terms it expects
// come from the same owner as the terms simulated (terms.go: termMonth,
// termPlan), so the truth cannot expect terms the simulation does not write. Households that are monitoring
// objects at as_of get 0: they are outside the label's population.
//
// Out + ".relapse.csv" (GenerateOptions.Relapse): household_id,
// eliminated_date,p_relapse_12m for every elimination inside the data, in
// household then date order: the probability, from the same hazard and the
// state at the end of the elimination's month, that the household is
// identified again in the 12 months after that month (the label of
// features.RelapseLabels with a 12-month horizon).
//
// # Formats
//
// CSV: UTF-8, header in the standard's column order then the extra columns,
// dates YYYY-MM-DD, months YYYY-MM, money with two decimals, booleans
// true/false, null as an empty field. Encoding "gb18030" writes households,
// persons and regions in GB18030 and income_records in UTF-8 with a BOM. Parquet:
// one file per table, the standard's columns under their own names with
// Column.ArrowType (months as date32 of the first day), id_number in clear
// (the ingest pseudonymises it), extras as strings.
//
// # Defects
//
// With Dirty > 0 (CSV only), after each genuine row a defective copy is
// added with probability Dirty: one field spoiled with a kind drawn from the
// kinds the table can carry (DefectKinds), and a fresh key (key + "D<n>", or
// a period before the start for monthly tables) so that it collides with
// nothing, except duplicate_key rows, which repeat the previous row exactly.
// The genuine rows of a dirty drop are exactly those of the clean drop with
// the same seed. Out + ".defects.csv" lists table,line,column,kind (line 1
// is the header; duplicate_key names the key columns joined by "+").
package datasets
