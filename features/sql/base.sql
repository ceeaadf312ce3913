-- base: the households of the as-of date and their members.
--   hh:  households registered on or before D (household_id, region_code, snapshot columns)
--   mem: members of hh born on or before D, with age in whole years on D,
--        alive (not deceased on or before D) and died_12m (deceased within the
--        12-month window). A person who dies after D is alive on D.
CREATE OR REPLACE TEMP TABLE hh AS
SELECT h.household_id, h.region_code, h.poverty_status, h.escape_year, h.monitor_type,
       h.housing_safe, h.water_safe
FROM households h CROSS JOIN params p
WHERE h.registered_date IS NULL OR h.registered_date <= p.as_of;

CREATE OR REPLACE TEMP TABLE mem AS
SELECT pe.person_id, pe.household_id,
       date_sub('year', pe.birth_date, p.as_of)                         AS age,
       pe.labor_capacity, pe.disability_grade, pe.chronic_disease, pe.major_disease,
       (pe.deceased_date IS NULL OR pe.deceased_date > p.as_of)        AS alive,
       (pe.deceased_date >= p.w12 AND pe.deceased_date <= p.as_of)     AS died_12m
FROM persons pe
JOIN hh USING (household_id)
CROSS JOIN params p
WHERE pe.birth_date <= p.as_of;
