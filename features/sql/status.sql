-- family: status
-- Poverty-alleviation status on D. The households snapshot may postdate D, so
-- the monitoring state is read from the dated monitoring_events; the snapshot
-- status 'monitored' counts only for a household without any event record.
-- column: escaped_household | BOOLEAN | flag | model | households | lifted out of poverty on or before D (escape_year <= year of D, or status escaped)
--   label: 脱贫户 | escaped household
--   risk: other
--   reason: 脱贫户 | household lifted out of poverty
--   reason_not: 非脱贫户 | not a formerly poor household
-- column: years_since_escape | INTEGER | years | model | households | year of D - escape_year; NULL when never escaped
--   label: 脱贫年数 | years since escape
--   risk: other
--   reason: 脱贫%s年 | lifted out of poverty %s years ago
-- column: monitored_at_as_of | BOOLEAN | flag | info | households ?monitoring_events | a monitoring object on D: an event identified on or before D and not eliminated on or before D (or snapshot status monitored and no event at all)
--   label: 当前为监测对象 | monitoring object on D
-- column: status_on_as_of | VARCHAR | code | info | households ?monitoring_events | monitored, escaped or general on D
--   label: 当前户类型 | status on D
-- column: past_monitoring_events | INTEGER | events | model | monitoring_events | monitoring identifications on or before D
--   label: 历史监测识别次数 | past monitoring
--   risk: other
--   reason: 曾%s次被识别为监测对象 | identified as a monitoring object %s times before
--   profile: past_monitoring
-- column: months_since_elimination | INTEGER | months | model | monitoring_events | months from the last risk elimination on or before D to D; NULL when none
--   label: 风险消除后月数 | months since risk elimination
--   risk: other
--   reason: 风险消除仅%s个月 | risk eliminated only %s months ago
--   reason_zero: 本月刚消除风险 | risk eliminated this month
-- column: housing_safe | BOOLEAN | flag | model | households | the house passed the safety appraisal (snapshot)
--   label: 住房安全 | safe housing
--   risk: housing
--   reason: 住房安全有保障 | safe housing
--   reason_not: 住房安全鉴定未通过 | the house failed the safety appraisal
-- column: water_safe | BOOLEAN | flag | model | households | safe drinking water (snapshot)
--   label: 饮水安全 | safe water
--   risk: water
--   reason: 饮水安全有保障 | safe drinking water
--   reason_not: 饮水安全未保障 | drinking water not secured
WITH ev AS (
    SELECT e.household_id,
           count(*) FILTER (WHERE e.identified_date <= p.as_of)                                  AS past,
           count(*) FILTER (WHERE e.identified_date <= p.as_of
                            AND (e.eliminated_date IS NULL OR e.eliminated_date > p.as_of))      AS open_,
           max(e.eliminated_date) FILTER (WHERE e.eliminated_date <= p.as_of)                   AS last_elim
    FROM monitoring_events e CROSS JOIN params p
    GROUP BY e.household_id
), st AS (
    SELECT h.household_id, h.housing_safe, h.water_safe,
           (h.escape_year <= year(p.as_of) OR h.poverty_status = 'escaped')                      AS escaped,
           CASE WHEN h.escape_year <= year(p.as_of) THEN year(p.as_of) - h.escape_year END       AS yse,
           CASE WHEN ev.household_id IS NULL THEN h.poverty_status = 'monitored'
                ELSE ev.open_ > 0 END                                                            AS monitored,
           coalesce(ev.past, 0)                                                                  AS past,
           CASE WHEN ev.last_elim IS NOT NULL THEN date_sub('month', ev.last_elim, p.as_of) END  AS mse
    FROM hh h CROSS JOIN params p
    LEFT JOIN ev USING (household_id)
)
SELECT household_id,
       coalesce(escaped, false)                  AS escaped_household,
       CAST(yse AS INTEGER)                      AS years_since_escape,
       monitored                                 AS monitored_at_as_of,
       CASE WHEN monitored THEN 'monitored'
            WHEN coalesce(escaped, false) THEN 'escaped'
            ELSE 'general' END                   AS status_on_as_of,
       CAST(past AS INTEGER)                     AS past_monitoring_events,
       CAST(mse AS INTEGER)                      AS months_since_elimination,
       housing_safe,
       water_safe
FROM st
