-- family: disasters
-- Disasters starting on or before D. A household is exposed to an event when
-- the event's region_code (6, 9 or 12 digits) is a prefix of the household's
-- village code; events are counted once per household whatever the number of
-- rows or levels naming them. Losses are the rows recording the household's own loss.
-- column: disaster_events_12m | INTEGER | events | model | disasters | events the household was exposed to, starting within the 12 months to D
-- column: disaster_sev12_12m | INTEGER | events | model | disasters | exposed events of severity 1-2 (most severe), 12 months
-- column: disaster_sev34_12m | INTEGER | events | model | disasters | exposed events of severity 3-4, 12 months
-- column: disaster_county_12m | INTEGER | events | model | disasters | events recorded for the household's county (6-digit code), 12 months
-- column: disaster_township_12m | INTEGER | events | model | disasters | events recorded for the household's township (9-digit code), 12 months
-- column: disaster_village_12m | INTEGER | events | model | disasters | events recorded for the household's village (12-digit code), 12 months
-- column: months_since_disaster | INTEGER | months | model | disasters | whole months from the start of the latest exposed event to D; NULL when none
-- column: disaster_loss_12m | DOUBLE | yuan | model | disasters | the household's recorded losses, events starting within the 12 months to D
-- column: disaster_loss_share_income | DOUBLE | share | model | disasters income_records | disaster_loss_12m / net_income_12m; NULL when net income is not positive
WITH ev AS (
    SELECT d.event_id, d.region_code, length(d.region_code) AS lvl, d.start_date, d.severity,
           d.start_date >= p.w12 AS in12
    FROM disasters d CROSS JOIN params p
    WHERE d.start_date <= p.as_of
), exposed AS (
    SELECT h.household_id, e.event_id, e.lvl, e.start_date, e.severity, e.in12
    FROM hh h JOIN ev e ON e.lvl = 6 AND e.region_code = left(h.region_code, 6)
    UNION ALL
    SELECT h.household_id, e.event_id, e.lvl, e.start_date, e.severity, e.in12
    FROM hh h JOIN ev e ON e.lvl = 9 AND e.region_code = left(h.region_code, 9)
    UNION ALL
    SELECT h.household_id, e.event_id, e.lvl, e.start_date, e.severity, e.in12
    FROM hh h JOIN ev e ON e.lvl = 12 AND e.region_code = h.region_code
), ex AS (
    SELECT household_id,
           count(DISTINCT event_id) FILTER (WHERE in12)                      AS n12,
           count(DISTINCT event_id) FILTER (WHERE in12 AND severity <= 2)    AS s12,
           count(DISTINCT event_id) FILTER (WHERE in12 AND severity >= 3)    AS s34,
           count(DISTINCT event_id) FILTER (WHERE in12 AND lvl = 6)          AS c12,
           count(DISTINCT event_id) FILTER (WHERE in12 AND lvl = 9)          AS t12,
           count(DISTINCT event_id) FILTER (WHERE in12 AND lvl = 12)         AS v12,
           max(start_date)                                                   AS latest
    FROM exposed
    GROUP BY household_id
), loss AS (
    SELECT d.household_id, sum(d.loss_amount) AS loss12
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
       CASE WHEN i.net_income_12m > 0 THEN coalesce(l.loss12, 0.0) / i.net_income_12m END AS disaster_loss_share_income
FROM hh h
CROSS JOIN params p
JOIN f_income i USING (household_id)
LEFT JOIN ex x USING (household_id)
LEFT JOIN loss l USING (household_id)
