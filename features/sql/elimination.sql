-- elimination: the facts of the risk elimination assessment (not a feature
-- family: AssessElimination runs it after the families demographics,
-- status, labour and assistance) for the households monitored on D
-- (f_status.monitored_at_as_of, the households the ranking leaves out).
-- Bound parameters:
--   $1 income window, months to D (policy elimination.income_months)
--   $2 rigid expenditure window, months to D (elimination.rigid_months)
--   $3, $4 compulsory schooling ages (elimination.compulsory_age_min, _max)
-- identified: the latest identification of an open event (NULL: a
-- monitoring object by the snapshot status only).
-- dropouts: children alive on D of compulsory age whose schooling state on
-- D is 'none' and who have no school term starting in the 12 months to D.
-- uninsured_claims: claims of members alive on D in the 12 months to D with
-- a cost and nothing paid by insurance (the basic medical guarantee's proxy:
-- the standard has no enrolment table).
-- net_income_12m: the family income's (the sum of the 12 months to D, NULL
-- without a record), from the same pass as the windows of the policy.
WITH prm AS (
    SELECT CAST(p.m0 - to_months(CAST($1 AS INTEGER) - 1) AS DATE) AS inc_start,
           CAST(p.m0 - to_months(CAST($2 AS INTEGER) - 1) AS DATE) AS rigid_start,
           CAST($3 AS INTEGER) AS age_min, CAST($4 AS INTEGER) AS age_max
    FROM params p
), ev AS (
    SELECT e.household_id, max(e.identified_date) AS identified
    FROM monitoring_events e CROSS JOIN params p
    WHERE e.identified_date <= p.as_of AND (e.eliminated_date IS NULL OR e.eliminated_date > p.as_of)
    GROUP BY e.household_id
), inc AS (
    SELECT i.household_id,
           CAST(sum(CAST(i.wage_income + i.business_income + i.property_income + i.transfer_income - i.production_cost AS DECIMAL(18,2))) FILTER (WHERE i.period >= r.inc_start) AS DOUBLE)   AS net_inc,
           CAST(sum(CAST(i.wage_income + i.business_income + i.property_income + i.transfer_income - i.production_cost AS DECIMAL(18,2))) FILTER (WHERE i.period >= r.rigid_start) AS DOUBLE) AS net_rigid,
           CAST(sum(CAST(i.wage_income + i.business_income + i.property_income + i.transfer_income - i.production_cost AS DECIMAL(18,2))) FILTER (WHERE i.period >= p.w12) AS DOUBLE) AS net12
    FROM income_records i CROSS JOIN params p CROSS JOIN prm r
    WHERE i.period >= least(r.inc_start, r.rigid_start, p.w12) AND i.period <= p.m0
    GROUP BY i.household_id
), med AS (
    SELECT m.household_id,
           CAST(sum(CAST(mc.out_of_pocket AS DECIMAL(18,2))) FILTER (WHERE mc.service_date >= r.rigid_start) AS DOUBLE) AS oop_rigid,
           count(*) FILTER (WHERE m.alive AND mc.total_cost > 0 AND mc.insurance_paid <= 0)                              AS uninsured
    FROM medical_claims mc
    JOIN mem m USING (person_id)
    CROSS JOIN params p CROSS JOIN prm r
    WHERE mc.service_date >= least(r.rigid_start, p.w12) AND mc.service_date <= p.as_of
    GROUP BY m.household_id
), edu AS (
    SELECT m.household_id,
           CAST(sum(CAST(greatest(e.fees - e.subsidy, 0.0) AS DECIMAL(18,2))) AS DOUBLE) AS nc_rigid
    FROM education e
    JOIN mem m USING (person_id)
    CROSS JOIN params p CROSS JOIN prm r
    WHERE e.term_start >= r.rigid_start AND e.term_start <= p.as_of
      AND e.level IN ('preschool', 'high_school', 'vocational', 'tertiary')
    GROUP BY m.household_id
), kids AS (
    SELECT m.household_id, count(*) AS dropouts
    FROM mem m CROSS JOIN params p CROSS JOIN prm r
    WHERE m.alive AND m.age BETWEEN r.age_min AND r.age_max AND m.schooling = 'none'
      AND NOT EXISTS (SELECT 1 FROM education e
                      WHERE e.person_id = m.person_id AND e.term_start >= p.w12 AND e.term_start <= p.as_of)
    GROUP BY m.household_id
)
SELECT h.household_id, h.region_code,
       strftime(ev.identified, '%Y-%m-%d')                                                     AS identified,
       CAST(CASE WHEN ev.identified IS NOT NULL THEN date_sub('month', ev.identified, p.as_of) END AS INTEGER) AS months,
       d.household_size,
       inc.net12                                                                               AS net_income_12m,
       inc.net_inc,
       coalesce(inc.net_rigid, 0.0)                                                            AS net_rigid,
       coalesce(med.oop_rigid, 0.0)                                                            AS oop_rigid,
       coalesce(edu.nc_rigid, 0.0)                                                             AS nc_rigid,
       CAST(coalesce(kids.dropouts, 0) AS INTEGER)                                              AS dropouts,
       CAST(coalesce(med.uninsured, 0) AS INTEGER)                                              AS uninsured,
       s.housing_safe, s.water_safe, l.no_labor,
       coalesce(a.assist_amount, 0.0)                                                          AS assist_amount
FROM hh h
CROSS JOIN params p
JOIN f_status s USING (household_id)
JOIN f_demographics d USING (household_id)
JOIN f_labour l USING (household_id)
JOIN f_assistance a USING (household_id)
LEFT JOIN ev USING (household_id)
LEFT JOIN inc USING (household_id)
LEFT JOIN med USING (household_id)
LEFT JOIN edu USING (household_id)
LEFT JOIN kids USING (household_id)
WHERE s.monitored_at_as_of
ORDER BY h.household_id
