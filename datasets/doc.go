// Package datasets knows the verification data standard (DATA-STANDARD v1)
// and simulates drops that follow it.
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
// 8 villages (12-digit codes county+1tt+2vv). Households (H00000001, ...)
// are escaped (~36%), monitored at the start (~6%, with a monitoring event
// before the start) or general. Members (P + household number + 2 digits)
// carry an 18-digit ID number with a valid check digit, and the extra
// columns name and phone. Months run from Start; each household is simulated
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
// earner stops working for months. Deaths and new disabilities (grade 1-2,
// labour capacity lost, dated by an inpatient claim) hit earners. School
// terms start in March and September; non-compulsory levels cost more, poor
// households receive subsidies. Disasters are drawn per county, township or
// village prefix and month; they cut farm income and some households record
// a loss. Assets (vehicles, property, business, public payroll, deposits) are
// more frequent in richer households; ~3% of escaped households are
// misregistered (hidden wealth, lower true risk).
//
// persons is a snapshot at the end of the data (deceased_date, labour
// capacity, disability, disease registers as they stand then); households
// holds the registry status at the start (poverty_status, monitor_type):
// identifications during the data appear only in monitoring_events.
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
// the components of h. Monitoring objects are eliminated with probability
// 0.06 a month from 6 months after identification. About 2-3% of eligible
// households are identified per 6 months.
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
// # Formats
//
// CSV: UTF-8, header in the standard's column order then the extra columns,
// dates YYYY-MM-DD, months YYYY-MM, money with two decimals, booleans
// true/false, null as an empty field. Encoding "gb18030" writes households
// and persons in GB18030 and income_records in UTF-8 with a BOM. Parquet:
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
