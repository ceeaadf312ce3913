-- family: medical
-- Medical claims of the household's members (alive or not), service_date on or before D.
-- Spike ratio: the mean monthly out-of-pocket of the last 3 calendar months
-- (oop_medical_3m / 3) divided by the median monthly out-of-pocket of the 12
-- calendar months before them (months m0-14 .. m0-3), where a month without
-- claims counts as 0. The median is floored at params.spike_floor (100 yuan by
-- default) so that a household with no usual spending gets a large finite
-- ratio, not a division by zero; no recent spending gives 0.
-- The same pass gives the family shocks its sums of the month of D and of
-- 2 months and the largest claim of 12 months (x_oop1, x_oop2,
-- x_largest12: not catalog columns; the join leaves them out).
-- column: oop_medical_3m | DOUBLE | yuan | model | medical_claims persons | household out-of-pocket medical spending, 3 months to D
--   label: 近3个月自付医疗费 | out-of-pocket medical, 3 months
--   risk: illness
--   reason: 近3个月自付医疗费%s | out-of-pocket medical spending %s in 3 months
--   profile: medical_burden
-- column: oop_medical_6m | DOUBLE | yuan | model | medical_claims persons | household out-of-pocket medical spending, 6 months to D
--   label: 近6个月自付医疗费 | out-of-pocket medical, 6 months
--   risk: illness
--   reason: 近6个月自付医疗费%s | out-of-pocket medical spending %s in 6 months
--   profile: medical_burden
-- column: oop_medical_12m | DOUBLE | yuan | model | medical_claims persons | household out-of-pocket medical spending, 12 months to D
--   label: 近12个月自付医疗费 | out-of-pocket medical, 12 months
--   risk: illness
--   reason: 近12个月自付医疗费%s | out-of-pocket medical spending %s in 12 months
--   profile: medical_burden
-- column: medical_total_12m | DOUBLE | yuan | model | medical_claims persons | total medical cost, 12 months to D
--   label: 近12个月医疗总费用 | medical cost, 12 months
--   risk: illness
--   reason: 近12个月医疗总费用%s | total medical cost %s in 12 months
--   profile: medical_burden
-- column: inpatient_stays_12m | INTEGER | stays | model | medical_claims persons | inpatient claims, 12 months to D
--   label: 近12个月住院次数 | inpatient stays, 12 months
--   risk: illness
--   reason: 近12个月住院%s次 | %s inpatient stays in 12 months
--   profile: inpatient
-- column: claims_12m | INTEGER | claims | model | medical_claims persons | claims, 12 months to D
--   label: 近12个月就医结算次数 | medical claims, 12 months
--   risk: illness
--   reason: 近12个月就医结算%s次 | %s medical claims in 12 months
-- column: members_with_claims_12m | INTEGER | persons | model | medical_claims persons | members with a claim, 12 months to D
--   label: 近12个月就医人数 | members with claims, 12 months
--   risk: illness
--   reason: 近12个月%s名成员就医 | %s members with medical claims in 12 months
-- column: oop_spike_ratio | DOUBLE | ratio | model | medical_claims persons | (oop_medical_3m / 3) / max(median monthly out-of-pocket of months m0-14..m0-3, spike floor)
--   label: 近3个月自付医疗费倍数 | recent medical spike
--   risk: illness
--   reason: 近3个月自付医疗费为平常月份的%s倍 | out-of-pocket medical spending in the last 3 months %sx the usual month
--   profile: medical_spike
-- column: oop_share_income_12m | DOUBLE | share | model | medical_claims persons income_records | oop_medical_12m / net_income_12m; NULL when net income is not positive
--   label: 自付医疗费占纯收入比例 | medical spending / income
--   risk: illness
--   reason: 自付医疗费相当于年纯收入的%s | out-of-pocket medical spending %s of the yearly net income
--   profile: medical_burden
WITH c AS MATERIALIZED (
    SELECT m.household_id, m.person_id, mc.service_date, mc.out_of_pocket, mc.total_cost, mc.inpatient,
           mc.service_date >= p.w3  AS in3,
           mc.service_date >= p.w6  AS in6,
           mc.service_date >= p.w12 AS in12,
           mc.service_date < p.w3   AS in_base,
           mc.service_date >= p.m0  AS in1,
           mc.service_date >= CAST(p.m0 - INTERVAL 1 MONTH AS DATE) AS in2
    FROM medical_claims mc
    JOIN mem m USING (person_id)
    CROSS JOIN params p
    WHERE mc.service_date >= p.b_start AND mc.service_date <= p.as_of
), agg AS (
    SELECT household_id,
           CAST(sum(CAST(out_of_pocket AS DECIMAL(18,2))) FILTER (WHERE in3) AS DOUBLE)                   AS oop3,
           CAST(sum(CAST(out_of_pocket AS DECIMAL(18,2))) FILTER (WHERE in6) AS DOUBLE)                   AS oop6,
           CAST(sum(CAST(out_of_pocket AS DECIMAL(18,2))) FILTER (WHERE in12) AS DOUBLE)                  AS oop12,
           CAST(sum(CAST(total_cost AS DECIMAL(18,2))) FILTER (WHERE in12) AS DOUBLE)                     AS total12,
           count(*) FILTER (WHERE in12 AND inpatient)              AS inpat12,
           count(*) FILTER (WHERE in12)                            AS claims12,
           count(DISTINCT person_id) FILTER (WHERE in12)           AS members12,
           CAST(sum(CAST(out_of_pocket AS DECIMAL(18,2))) FILTER (WHERE in1) AS DOUBLE)                   AS oop1,
           CAST(sum(CAST(out_of_pocket AS DECIMAL(18,2))) FILTER (WHERE in2) AS DOUBLE)                   AS oop2,
           max(out_of_pocket) FILTER (WHERE in12)                  AS largest12
    FROM c
    GROUP BY household_id
), monthly AS (
    SELECT household_id, date_trunc('month', service_date) AS m, CAST(sum(CAST(out_of_pocket AS DECIMAL(18,2))) AS DOUBLE) AS s
    FROM c
    WHERE in_base
    GROUP BY ALL
), base AS (
    SELECT household_id,
           list_median(list_concat(list(s), list_resize([]::DOUBLE[], 12 - count(*), 0.0))) AS median_month
    FROM monthly
    GROUP BY household_id
)
SELECT h.household_id,
       coalesce(a.oop3, 0.0)                                          AS oop_medical_3m,
       coalesce(a.oop6, 0.0)                                          AS oop_medical_6m,
       coalesce(a.oop12, 0.0)                                         AS oop_medical_12m,
       coalesce(a.total12, 0.0)                                       AS medical_total_12m,
       CAST(coalesce(a.inpat12, 0) AS INTEGER)                        AS inpatient_stays_12m,
       CAST(coalesce(a.claims12, 0) AS INTEGER)                       AS claims_12m,
       CAST(coalesce(a.members12, 0) AS INTEGER)                      AS members_with_claims_12m,
       (coalesce(a.oop3, 0.0) / 3) / greatest(coalesce(b.median_month, 0.0), p.spike_floor) AS oop_spike_ratio,
       CASE WHEN i.net_income_12m > 0 THEN coalesce(a.oop12, 0.0) / i.net_income_12m END AS oop_share_income_12m,
       a.oop1 AS x_oop1, a.oop2 AS x_oop2, a.largest12 AS x_largest12
FROM hh h
CROSS JOIN params p
JOIN f_income i USING (household_id)
LEFT JOIN agg a USING (household_id)
LEFT JOIN base b USING (household_id)
