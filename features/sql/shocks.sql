-- family: shocks
-- The size and recency of shocks at monthly resolution, the largest single
-- event rather than sums, the income lost with a stopped contribution, and
-- each relative to the household's income and labour (issue 14, item 4):
-- what a tree cannot build from the 12-month sums. Windows are calendar
-- months ending with the month m0 of D ("1 month" = m0 up to D, "2 months"
-- = m0-1 and m0); the income comparisons take the same calendar months a
-- year before. Reads f_income, f_medical, f_demographics, f_employment
-- and f_disasters.
-- Stopped contribution: a working-age member alive on D whose last
-- contribution month L lies in m0-6 .. m0-1 (the first month without a
-- contribution is within the 6 months to D); the base of month L is the
-- wage that stopped (缴费基数, yuan a month).
-- column: oop_medical_1m | DOUBLE | yuan | model | medical_claims persons | household out-of-pocket medical spending in the month of D (day 1 to D)
--   label: 本月自付医疗费 | out-of-pocket medical, this month
--   risk: illness
--   reason: 本月自付医疗费%s | out-of-pocket medical spending %s this month
--   profile: medical_spike
-- column: oop_medical_2m | DOUBLE | yuan | model | medical_claims persons | household out-of-pocket medical spending, 2 months to D
--   label: 近2个月自付医疗费 | out-of-pocket medical, 2 months
--   risk: illness
--   reason: 近2个月自付医疗费%s | out-of-pocket medical spending %s in 2 months
--   profile: medical_spike
-- column: oop_largest_claim_12m | DOUBLE | yuan | model | medical_claims persons | the largest out-of-pocket amount of a single claim, 12 months to D (0 without claims)
--   label: 近12个月单次最大自付医疗费 | largest single medical bill, 12 months
--   risk: illness
--   reason: 近12个月单次就医自付最高%s | a single medical bill of %s out of pocket in 12 months
--   profile: medical_burden
-- column: oop_6m_share_income | DOUBLE | share | model | medical_claims persons income_records | oop_medical_6m / net_income_12m; NULL when net income is not positive
--   label: 近6个月自付医疗费占年纯收入比例 | 6-month medical spending / income
--   risk: illness
--   reason: 近6个月自付医疗费相当于年纯收入的%s | out-of-pocket medical spending in 6 months %s of the yearly net income
--   profile: medical_burden
-- column: income_change_1m | DOUBLE | ratio | model | income_records | net income of the month of D / that of the same month a year before; NULL when that is not positive or the household has no income record in the 24 months
--   label: 本月纯收入同比 | income this month vs a year before
--   risk: other
--   reason: 本月纯收入为上年同月的%s倍 | net income this month %sx that of the same month a year before
-- column: income_change_3m | DOUBLE | ratio | model | income_records | net income of the 3 months to D / that of the same 3 months a year before (NULL as income_change_1m)
--   label: 近3个月纯收入同比 | 3-month income vs a year before
--   risk: other
--   reason: 近3个月纯收入为上年同期的%s倍 | net income of the last 3 months %sx that of a year before
-- column: income_change_6m | DOUBLE | ratio | model | income_records | net income of the 6 months to D / that of the same 6 months a year before (NULL as income_change_1m)
--   label: 近6个月纯收入同比 | 6-month income vs a year before
--   risk: other
--   reason: 近6个月纯收入为上年同期的%s倍 | net income of the last 6 months %sx that of a year before
-- column: months_since_unemployment | INTEGER | months | model | unemployment persons | whole months from the latest unemployment registration on or before D of a member alive on D; NULL when none
--   label: 距最近失业登记月数 | months since unemployment registration
--   risk: unemployment
--   reason: %s个月前有成员登记失业 | a member registered as unemployed %s months ago
--   reason_zero: 本月有成员登记失业 | a member registered as unemployed this month
-- column: disaster_largest_loss_12m | DOUBLE | yuan | model | disasters | the largest recorded loss of the household in one event starting within the 12 months to D (0 without any)
--   label: 近12个月单次最大灾害损失 | largest single disaster loss, 12 months
--   risk: disaster
--   reason: 近12个月单次灾害损失最高%s | a single disaster loss of %s in 12 months
--   profile: disaster_loss
-- column: lost_contrib_base_6m | DOUBLE | yuan/month | model | social_insurance persons | sum of the last contribution bases of the working-age members whose contributions stopped within the 6 months to D (the wages that stopped)
--   label: 近6个月停缴社保的缴费基数 | wages stopped, 6 months
--   risk: unemployment
--   reason: 近6个月停缴社保成员原缴费基数合计每月%s | members who stopped paying social insurance in 6 months had a base of %s a month
--   profile: job_loss
-- column: lost_base_share_income | DOUBLE | share | model | social_insurance persons income_records | 12 x lost_contrib_base_6m / net_income_12m: the yearly wage stopped against the yearly net income; NULL when net income is not positive
--   label: 停缴工资占年纯收入比例 | stopped wages / income
--   risk: unemployment
--   reason: 停缴社保对应的年工资相当于年纯收入的%s | the wages stopped amount to %s of the yearly net income
--   profile: job_loss
-- column: lost_base_per_worker | DOUBLE | yuan/person/month | model | social_insurance persons | lost_contrib_base_6m / members aged 16-59; NULL when no member is 16-59
--   label: 劳动年龄人均停缴工资 | stopped wages per working-age member
--   risk: unemployment
--   reason: 劳动年龄成员人均停缴工资每月%s | wages stopped of %s a month per working-age member
--   profile: job_loss
-- Every sum is computed in the pass of the family that reads the same rows
-- (the x_ columns of f_income, f_medical, f_employment, f_disasters: the
-- monthly income comparisons, the claims of 1 and 2 months and the largest
-- claim, the latest unemployment registration and the last contribution
-- bases, the largest disaster loss): no table is read twice.
SELECT h.household_id,
       coalesce(f.x_oop1, 0.0)                                                  AS oop_medical_1m,
       coalesce(f.x_oop2, 0.0)                                                  AS oop_medical_2m,
       coalesce(f.x_largest12, 0.0)                                             AS oop_largest_claim_12m,
       CASE WHEN i.net_income_12m > 0 THEN f.oop_medical_6m / i.net_income_12m END AS oop_6m_share_income,
       CASE WHEN i.x_b1 > 0 THEN i.x_c1 / i.x_b1 END                            AS income_change_1m,
       CASE WHEN i.x_b3 > 0 THEN i.x_c3 / i.x_b3 END                            AS income_change_3m,
       CASE WHEN i.x_b6 > 0 THEN i.x_c6 / i.x_b6 END                            AS income_change_6m,
       CAST(CASE WHEN e.x_unemp_latest IS NOT NULL THEN date_sub('month', e.x_unemp_latest, p.as_of) END AS INTEGER) AS months_since_unemployment,
       coalesce(ds.x_largest_loss12, 0.0)                                       AS disaster_largest_loss_12m,
       coalesce(e.x_base6, 0.0)                                                 AS lost_contrib_base_6m,
       CASE WHEN i.net_income_12m > 0 THEN 12 * coalesce(e.x_base6, 0.0) / i.net_income_12m END AS lost_base_share_income,
       CASE WHEN d.members_16_59 > 0 THEN coalesce(e.x_base6, 0.0) / d.members_16_59 END AS lost_base_per_worker
FROM hh h
CROSS JOIN params p
JOIN f_income i USING (household_id)
JOIN f_medical f USING (household_id)
JOIN f_demographics d USING (household_id)
JOIN f_employment e USING (household_id)
JOIN f_disasters ds USING (household_id)
