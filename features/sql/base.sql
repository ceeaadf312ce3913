-- base: the households of the as-of date and their members.
--   hh:   households registered on or before D (household_id, region_code, snapshot columns)
--   pev:  per person and field of person_events, the value of the latest
--         change dated on or before D (v_at, NULL when every change of the
--         field is dated after D)
--   mem:  members of hh born on or before D, with age in whole years on D,
--         alive (not deceased on or before D), died_12m (deceased within the
--         12-month window), and their state ON D (labor_capacity,
--         disability_grade, chronic_disease, major_disease, schooling). A
--         person who dies after D is alive on D.
-- State of a field on D (docs/labels.md, "Person state on D"):
--   * the person has changes of the field in person_events: the value of the
--     latest change dated on or before D; when every change is dated after D,
--     the initial value: chronic_disease and major_disease false,
--     disability_grade 0, labor_capacity 'full' for ages 16-59 on D (else
--     the persons value), schooling the persons value;
--   * no change of the field (or no person_events table): the persons value
--     (the export's state, which then held all along).
CREATE OR REPLACE TEMP TABLE hh AS
SELECT h.household_id, h.region_code, h.poverty_status, h.escape_year, h.monitor_type,
       h.housing_safe, h.water_safe
FROM households h CROSS JOIN params p
WHERE h.registered_date IS NULL OR h.registered_date <= p.as_of;

CREATE OR REPLACE TEMP TABLE pev AS
SELECT e.person_id, e.field,
       arg_max(e.value, e.event_date) FILTER (WHERE e.event_date <= p.as_of) AS v_at
FROM person_events e CROSS JOIN params p
GROUP BY e.person_id, e.field;

CREATE OR REPLACE TEMP TABLE mem AS
WITH pe AS (
    SELECT pe.*, date_sub('year', pe.birth_date, p.as_of) AS age
    FROM persons pe
    JOIN hh USING (household_id)
    CROSS JOIN params p
    WHERE pe.birth_date <= p.as_of
)
SELECT pe.person_id, pe.household_id, pe.age,
       CASE WHEN lc.person_id IS NULL THEN pe.labor_capacity
            WHEN lc.v_at IS NOT NULL THEN lc.v_at
            WHEN pe.age BETWEEN 16 AND 59 THEN 'full'
            ELSE pe.labor_capacity END                                   AS labor_capacity,
       CASE WHEN dg.person_id IS NULL THEN pe.disability_grade
            WHEN dg.v_at IS NOT NULL THEN coalesce(TRY_CAST(dg.v_at AS INTEGER), pe.disability_grade)
            ELSE 0 END                                                   AS disability_grade,
       CASE WHEN cd.person_id IS NULL THEN pe.chronic_disease
            WHEN cd.v_at IS NOT NULL THEN lower(trim(cd.v_at)) IN ('1', 'true', '是')
            ELSE false END                                               AS chronic_disease,
       CASE WHEN md.person_id IS NULL THEN pe.major_disease
            WHEN md.v_at IS NOT NULL THEN lower(trim(md.v_at)) IN ('1', 'true', '是')
            ELSE false END                                               AS major_disease,
       CASE WHEN sc.v_at IS NOT NULL THEN sc.v_at ELSE pe.schooling END  AS schooling,
       (pe.deceased_date IS NULL OR pe.deceased_date > p.as_of)        AS alive,
       (pe.deceased_date >= p.w12 AND pe.deceased_date <= p.as_of)     AS died_12m
FROM pe
CROSS JOIN params p
LEFT JOIN pev lc ON lc.person_id = pe.person_id AND lc.field = 'labor_capacity'
LEFT JOIN pev dg ON dg.person_id = pe.person_id AND dg.field = 'disability_grade'
LEFT JOIN pev cd ON cd.person_id = pe.person_id AND cd.field = 'chronic_disease'
LEFT JOIN pev md ON md.person_id = pe.person_id AND md.field = 'major_disease'
LEFT JOIN pev sc ON sc.person_id = pe.person_id AND sc.field = 'schooling';
