-- family: income
-- Household income from income_records, periods up to the month of D.
-- Net income of a month = wage + business + property + transfer - production_cost.
-- A household without any record in a window has NULL income for it (unknown,
-- not zero); a month without a record counts as a month without wage income.
-- column: income_months_12m | INTEGER | months | model | income_records | months with an income record among the 12 months to D
--   label: 有收入记录月数 | months with income records
--   risk: other
--   reason: 近12个月仅%s个月有收入记录 | income records for only %s of 12 months
-- column: net_income_12m | DOUBLE | yuan | model | income_records | household net income, 12 months to D
--   label: 近12个月家庭纯收入 | household net income, 12 months
--   risk: other
--   reason: 近12个月家庭纯收入%s | household net income %s over 12 months
-- column: net_income_pc_12m | DOUBLE | yuan/person | model | income_records persons | net_income_12m / household_size; NULL when no member
--   label: 近12个月人均纯收入 | net income per person, 12 months
--   risk: other
--   reason: 近12个月人均纯收入%s | net income per person %s over 12 months
-- column: net_income_prev_12m | DOUBLE | yuan | model | income_records | household net income of the 12 months before those
--   label: 上一年度家庭纯收入 | net income, previous 12 months
--   risk: other
--   reason: 上一个12个月家庭纯收入%s | net income %s in the 12 months before
-- column: income_change_ratio | DOUBLE | ratio | model | income_records | net_income_12m / net_income_prev_12m; NULL when the earlier income is not positive
--   label: 纯收入同比 | income vs a year before
--   risk: other
--   reason: 近12个月纯收入为上一年度的%s倍 | net income %sx that of the 12 months before
-- column: wage_share_12m | DOUBLE | share | model | income_records | wage income / gross income (wage+business+property+transfer), 12 months; NULL when gross is not positive
--   label: 工资性收入占比 | wage share of income
--   risk: unemployment
--   reason: 工资性收入占比%s | wages %s of gross income
-- column: transfer_share_12m | DOUBLE | share | model | income_records | transfer income / gross income, 12 months; NULL when gross is not positive
--   label: 转移性收入占比 | transfer share of income
--   risk: other
--   reason: 转移性收入占比%s | transfers %s of gross income
--   profile: transfer_dependent
-- column: zero_wage_months_12m | INTEGER | months | model | income_records | months of the 12 without positive wage income (a missing month counts)
--   label: 无工资收入月数 | months without wages
--   risk: unemployment
--   reason: 近12个月有%s个月无工资收入 | no wage income in %s of the last 12 months
--   profile: no_wage
-- The same pass sums the calendar months the family shocks compares a year
-- apart (x_c1 .. x_b6: not catalog columns; the join leaves them out).
-- "back" months before m0 (date_sub('month', period, m0)) as date bounds:
-- back < K when period > m0 - K months, back >= K when period <= m0 - K
-- months, so no month arithmetic per row.
WITH mb AS (
    SELECT CAST(m0 - INTERVAL 1 MONTH AS DATE)  AS k1,
           CAST(m0 - INTERVAL 3 MONTH AS DATE)  AS k3,
           CAST(m0 - INTERVAL 6 MONTH AS DATE)  AS k6,
           CAST(m0 - INTERVAL 12 MONTH AS DATE) AS k12,
           CAST(m0 - INTERVAL 13 MONTH AS DATE) AS k13,
           CAST(m0 - INTERVAL 15 MONTH AS DATE) AS k15,
           CAST(m0 - INTERVAL 18 MONTH AS DATE) AS k18
    FROM params
), inc AS (
    SELECT i.household_id,
           i.period,
           i.period >= p.w12 AS recent,
           i.wage_income,
           CAST(i.wage_income AS DECIMAL(18,2)) AS wage_d,
           CAST(i.transfer_income AS DECIMAL(18,2)) AS transfer_d,
           CAST(i.wage_income + i.business_income + i.property_income + i.transfer_income AS DECIMAL(18,2)) AS gross_d,
           CAST(i.wage_income + i.business_income + i.property_income + i.transfer_income - i.production_cost AS DECIMAL(18,2)) AS net_d
    FROM income_records i CROSS JOIN params p
    WHERE i.period >= p.w24 AND i.period <= p.m0
), agg AS (
    SELECT household_id,
           count(*) FILTER (WHERE recent)                          AS months12,
           CAST(sum(net_d) FILTER (WHERE recent) AS DOUBLE)        AS net12,
           CAST(sum(net_d) FILTER (WHERE NOT recent) AS DOUBLE)    AS netprev,
           CAST(sum(gross_d) FILTER (WHERE recent) AS DOUBLE)      AS gross12,
           CAST(sum(wage_d) FILTER (WHERE recent) AS DOUBLE)       AS wage12,
           CAST(sum(transfer_d) FILTER (WHERE recent) AS DOUBLE)   AS transfer12,
           count(*) FILTER (WHERE recent AND wage_income > 0)      AS wage_months12,
           CAST(coalesce(sum(net_d) FILTER (WHERE period > k1), 0) AS DOUBLE)                      AS c1,
           CAST(coalesce(sum(net_d) FILTER (WHERE period <= k12 AND period > k13), 0) AS DOUBLE)   AS b1,
           CAST(coalesce(sum(net_d) FILTER (WHERE period > k3), 0) AS DOUBLE)                      AS c3,
           CAST(coalesce(sum(net_d) FILTER (WHERE period <= k12 AND period > k15), 0) AS DOUBLE)   AS b3,
           CAST(coalesce(sum(net_d) FILTER (WHERE period > k6), 0) AS DOUBLE)                      AS c6,
           CAST(coalesce(sum(net_d) FILTER (WHERE period <= k12 AND period > k18), 0) AS DOUBLE)   AS b6
    FROM inc CROSS JOIN mb
    GROUP BY household_id
)
SELECT h.household_id,
       CAST(coalesce(a.months12, 0) AS INTEGER)                             AS income_months_12m,
       a.net12                                                              AS net_income_12m,
       CASE WHEN d.household_size > 0 THEN a.net12 / d.household_size END   AS net_income_pc_12m,
       a.netprev                                                            AS net_income_prev_12m,
       CASE WHEN a.netprev > 0 THEN a.net12 / a.netprev END                 AS income_change_ratio,
       CASE WHEN a.gross12 > 0 THEN a.wage12 / a.gross12 END                AS wage_share_12m,
       CASE WHEN a.gross12 > 0 THEN a.transfer12 / a.gross12 END            AS transfer_share_12m,
       CAST(CASE WHEN a.months12 > 0 THEN 12 - a.wage_months12 END AS INTEGER) AS zero_wage_months_12m,
       a.c1 AS x_c1, a.b1 AS x_b1, a.c3 AS x_c3, a.b3 AS x_b3, a.c6 AS x_c6, a.b6 AS x_b6
FROM hh h
JOIN f_demographics d USING (household_id)
LEFT JOIN agg a USING (household_id)
