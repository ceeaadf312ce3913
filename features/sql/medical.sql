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
-- The 12 base months are summed in that pass too (m0 .. m11, 0 without
-- claims), not grouped by household and month: the median of the same 12
-- values.
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
           mc.service_date >= p.m0  AS in1,
           mc.service_date >= CAST(p.m0 - INTERVAL 1 MONTH AS DATE) AS in2
    FROM medical_claims mc
    JOIN mem m USING (person_id)
    CROSS JOIN params p
    WHERE mc.service_date >= p.b_start AND mc.service_date <= p.as_of
), bm AS (
    -- the first days of the 12 base months and of the month after them (w3)
    SELECT CAST(p.b_start + INTERVAL 0 MONTH AS DATE) AS s0,
           CAST(p.b_start + INTERVAL 1 MONTH AS DATE) AS s1,
           CAST(p.b_start + INTERVAL 2 MONTH AS DATE) AS s2,
           CAST(p.b_start + INTERVAL 3 MONTH AS DATE) AS s3,
           CAST(p.b_start + INTERVAL 4 MONTH AS DATE) AS s4,
           CAST(p.b_start + INTERVAL 5 MONTH AS DATE) AS s5,
           CAST(p.b_start + INTERVAL 6 MONTH AS DATE) AS s6,
           CAST(p.b_start + INTERVAL 7 MONTH AS DATE) AS s7,
           CAST(p.b_start + INTERVAL 8 MONTH AS DATE) AS s8,
           CAST(p.b_start + INTERVAL 9 MONTH AS DATE) AS s9,
           CAST(p.b_start + INTERVAL 10 MONTH AS DATE) AS s10,
           CAST(p.b_start + INTERVAL 11 MONTH AS DATE) AS s11,
           CAST(p.b_start + INTERVAL 12 MONTH AS DATE) AS s12
    FROM params p
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
           max(out_of_pocket) FILTER (WHERE in12)                  AS largest12,
           CAST(coalesce(sum(CAST(out_of_pocket AS DECIMAL(18,2))) FILTER (WHERE service_date >= b.s0 AND service_date < b.s1), 0) AS DOUBLE) AS m0,
           CAST(coalesce(sum(CAST(out_of_pocket AS DECIMAL(18,2))) FILTER (WHERE service_date >= b.s1 AND service_date < b.s2), 0) AS DOUBLE) AS m1,
           CAST(coalesce(sum(CAST(out_of_pocket AS DECIMAL(18,2))) FILTER (WHERE service_date >= b.s2 AND service_date < b.s3), 0) AS DOUBLE) AS m2,
           CAST(coalesce(sum(CAST(out_of_pocket AS DECIMAL(18,2))) FILTER (WHERE service_date >= b.s3 AND service_date < b.s4), 0) AS DOUBLE) AS m3,
           CAST(coalesce(sum(CAST(out_of_pocket AS DECIMAL(18,2))) FILTER (WHERE service_date >= b.s4 AND service_date < b.s5), 0) AS DOUBLE) AS m4,
           CAST(coalesce(sum(CAST(out_of_pocket AS DECIMAL(18,2))) FILTER (WHERE service_date >= b.s5 AND service_date < b.s6), 0) AS DOUBLE) AS m5,
           CAST(coalesce(sum(CAST(out_of_pocket AS DECIMAL(18,2))) FILTER (WHERE service_date >= b.s6 AND service_date < b.s7), 0) AS DOUBLE) AS m6,
           CAST(coalesce(sum(CAST(out_of_pocket AS DECIMAL(18,2))) FILTER (WHERE service_date >= b.s7 AND service_date < b.s8), 0) AS DOUBLE) AS m7,
           CAST(coalesce(sum(CAST(out_of_pocket AS DECIMAL(18,2))) FILTER (WHERE service_date >= b.s8 AND service_date < b.s9), 0) AS DOUBLE) AS m8,
           CAST(coalesce(sum(CAST(out_of_pocket AS DECIMAL(18,2))) FILTER (WHERE service_date >= b.s9 AND service_date < b.s10), 0) AS DOUBLE) AS m9,
           CAST(coalesce(sum(CAST(out_of_pocket AS DECIMAL(18,2))) FILTER (WHERE service_date >= b.s10 AND service_date < b.s11), 0) AS DOUBLE) AS m10,
           CAST(coalesce(sum(CAST(out_of_pocket AS DECIMAL(18,2))) FILTER (WHERE service_date >= b.s11 AND service_date < b.s12), 0) AS DOUBLE) AS m11
    FROM c CROSS JOIN bm b
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
       (coalesce(a.oop3, 0.0) / 3) / greatest(coalesce(list_median([a.m0, a.m1, a.m2, a.m3, a.m4, a.m5, a.m6, a.m7, a.m8, a.m9, a.m10, a.m11]), 0.0), p.spike_floor) AS oop_spike_ratio,
       CASE WHEN i.net_income_12m > 0 THEN coalesce(a.oop12, 0.0) / i.net_income_12m END AS oop_share_income_12m,
       a.oop1 AS x_oop1, a.oop2 AS x_oop2, a.largest12 AS x_largest12
FROM hh h
CROSS JOIN params p
JOIN f_income i USING (household_id)
LEFT JOIN agg a USING (household_id)
