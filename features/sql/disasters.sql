-- family: disasters
-- Disasters starting on or before D. A household is exposed to an event when
-- the event's region_code (6, 9 or 12 digits) is a prefix of the household's
-- village code; events are counted once per household whatever the number of
-- rows or levels naming them, at the level of the widest region of the event
-- that covers the household. Losses are the rows recording the household's own loss.
-- column: disaster_events_12m | INTEGER | events | model | disasters | events the household was exposed to, starting within the 12 months to D
--   label: 近12个月受灾次数 | disasters, 12 months
--   risk: disaster
--   reason: 近12个月受灾%s次 | exposed to %s disasters in 12 months
--   profile: disaster_exposure
-- column: disaster_sev12_12m | INTEGER | events | model | disasters | exposed events of severity 1-2 (most severe), 12 months
--   label: 近12个月重大灾害次数 | severe disasters, 12 months
--   risk: disaster
--   reason: 近12个月遭受%s次重大(一、二级)灾害 | %s severe (grade 1-2) disasters in 12 months
--   profile: disaster_exposure
-- column: disaster_sev34_12m | INTEGER | events | model | disasters | exposed events of severity 3-4, 12 months
--   label: 近12个月一般灾害次数 | minor disasters, 12 months
--   risk: disaster
--   reason: 近12个月遭受%s次一般灾害 | %s minor disasters in 12 months
-- column: disaster_county_12m | INTEGER | events | model | disasters | events whose widest region covering the household is its county (6-digit code), 12 months
--   label: 本县近12个月灾害次数 | county disasters, 12 months
--   risk: disaster
--   reason: 所在县近12个月发生灾害%s次 | %s disasters in the county in 12 months
-- column: disaster_township_12m | INTEGER | events | model | disasters | events whose widest region covering the household is its township (9-digit code), 12 months
--   label: 本乡镇近12个月灾害次数 | township disasters, 12 months
--   risk: disaster
--   reason: 所在乡镇近12个月发生灾害%s次 | %s disasters in the township in 12 months
-- column: disaster_village_12m | INTEGER | events | model | disasters | events recorded for the household's village (12-digit code) only, 12 months
--   label: 本村近12个月灾害次数 | village disasters, 12 months
--   risk: disaster
--   reason: 所在村近12个月发生灾害%s次 | %s disasters in the village in 12 months
-- column: months_since_disaster | INTEGER | months | model | disasters | whole months from the start of the latest exposed event to D; NULL when none
--   label: 距最近受灾月数 | months since disaster
--   risk: disaster
--   reason: %s个月前受灾 | hit by a disaster %s months ago
--   reason_zero: 本月受灾 | hit by a disaster this month
-- column: disaster_loss_12m | DOUBLE | yuan | model | disasters | the household's recorded losses, events starting within the 12 months to D
--   label: 近12个月灾害损失 | disaster losses, 12 months
--   risk: disaster
--   reason: 近12个月灾害损失%s | disaster losses of %s in 12 months
--   profile: disaster_loss
-- column: disaster_loss_share_income | DOUBLE | share | model | disasters income_records | disaster_loss_12m / net_income_12m; NULL when net income is not positive
--   label: 灾害损失占纯收入比例 | disaster loss / income
--   risk: disaster
--   reason: 灾害损失相当于年纯收入的%s | disaster losses %s of the yearly net income
--   profile: disaster_loss
WITH ev AS (
    -- one row per event and region code
    SELECT d.event_id, d.region_code, length(d.region_code) AS lvl,
           min(d.start_date) AS start_date, min(d.severity) AS severity
    FROM disasters d CROSS JOIN params p
    WHERE d.start_date <= p.as_of
    GROUP BY d.event_id, d.region_code
), widest AS (
    -- drop a region of an event covered by a wider region of the same event
    -- (a township row under a county row, a household's village loss row
    -- under a township row): the regions left are disjoint, so a household
    -- is exposed to an event through exactly one of them and counts add up.
    SELECT e.*
    FROM ev e
    WHERE NOT EXISTS (SELECT 1 FROM ev w WHERE w.event_id = e.event_id AND w.lvl < e.lvl AND w.region_code = left(e.region_code, w.lvl))
), reg AS (
    -- exposure per region code: hash-joined to households below, so the
    -- work is events + households, never events x households
    SELECT w.region_code, w.lvl,
           count(*) FILTER (WHERE w.start_date >= p.w12)                       AS n12,
           count(*) FILTER (WHERE w.start_date >= p.w12 AND w.severity <= 2)   AS s12,
           count(*) FILTER (WHERE w.start_date >= p.w12 AND w.severity >= 3)   AS s34,
           max(w.start_date)                                                   AS latest
    FROM widest w CROSS JOIN params p
    GROUP BY w.region_code, w.lvl
), ex AS (
    SELECT h.household_id,
           coalesce(c.n12, 0) + coalesce(t.n12, 0) + coalesce(v.n12, 0)  AS n12,
           coalesce(c.s12, 0) + coalesce(t.s12, 0) + coalesce(v.s12, 0)  AS s12,
           coalesce(c.s34, 0) + coalesce(t.s34, 0) + coalesce(v.s34, 0)  AS s34,
           coalesce(c.n12, 0)                                            AS c12,
           coalesce(t.n12, 0)                                            AS t12,
           coalesce(v.n12, 0)                                            AS v12,
           greatest(c.latest, t.latest, v.latest)                        AS latest
    FROM hh h
    LEFT JOIN reg c ON c.lvl = 6 AND c.region_code = left(h.region_code, 6)
    LEFT JOIN reg t ON t.lvl = 9 AND t.region_code = left(h.region_code, 9)
    LEFT JOIN reg v ON v.lvl = 12 AND v.region_code = h.region_code
), loss AS (
    SELECT d.household_id, CAST(sum(CAST(d.loss_amount AS DECIMAL(18,2))) AS DOUBLE) AS loss12,
           max(d.loss_amount) AS largest12
    FROM disasters d CROSS JOIN params p
    WHERE d.household_id IS NOT NULL AND d.start_date >= p.w12 AND d.start_date <= p.as_of
    GROUP BY d.household_id
)
SELECT h.household_id,
       CAST(coalesce(x.n12, 0) AS INTEGER)    AS disaster_events_12m,
       CAST(coalesce(x.s12, 0) AS INTEGER)    AS disaster_sev12_12m,
       CAST(coalesce(x.s34, 0) AS INTEGER)    AS disaster_sev34_12m,
       CAST(coalesce(x.c12, 0) AS INTEGER)    AS disaster_county_12m,
       CAST(coalesce(x.t12, 0) AS INTEGER)    AS disaster_township_12m,
       CAST(coalesce(x.v12, 0) AS INTEGER)    AS disaster_village_12m,
       CAST(CASE WHEN x.latest IS NOT NULL THEN date_sub('month', x.latest, p.as_of) END AS INTEGER) AS months_since_disaster,
       coalesce(l.loss12, 0.0)                AS disaster_loss_12m,
       CASE WHEN i.net_income_12m > 0 THEN coalesce(l.loss12, 0.0) / i.net_income_12m END AS disaster_loss_share_income,
       l.largest12                            AS x_largest_loss12
FROM hh h
CROSS JOIN params p
JOIN f_income i USING (household_id)
LEFT JOIN ex x USING (household_id)
LEFT JOIN loss l USING (household_id)
