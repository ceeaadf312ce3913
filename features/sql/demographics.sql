-- family: demographics
-- Household composition on D: members alive on D (born on or before D, not
-- deceased on or before D). labor_capacity, disability_grade and the disease
-- registers are the snapshot's current values (undated; see doc.go).
-- Format of a column line: name | type | unit | model or info [+health] | source tables | meaning
-- column: household_size | INTEGER | persons | model | persons | members alive on D
-- column: members_0_15 | INTEGER | persons | model | persons | members aged 0-15 on D
-- column: members_16_59 | INTEGER | persons | model | persons | members aged 16-59 on D
-- column: members_60_plus | INTEGER | persons | model | persons | members aged 60 or more on D
-- column: labor_full | INTEGER | persons | model | persons | members with full labour capacity (普通劳动力)
-- column: labor_weak | INTEGER | persons | model | persons | members with weak labour capacity (弱劳动力)
-- column: dependency_ratio | DOUBLE | ratio | model | persons | (members 0-15 + members 60+) / members 16-59; NULL when no member is 16-59
-- column: disabled_grade_1_2 | INTEGER | persons | model | persons | members with disability grade 1 or 2 (severe)
-- column: disabled_grade_3_4 | INTEGER | persons | model | persons | members with disability grade 3 or 4
-- column: chronic_members | INTEGER | persons | model+health | persons | members on the chronic-disease register
-- column: major_disease_members | INTEGER | persons | model+health | persons | members on the major-disease register
SELECT
    h.household_id,
    CAST(coalesce(a.n, 0) AS INTEGER)          AS household_size,
    CAST(coalesce(a.a0, 0) AS INTEGER)         AS members_0_15,
    CAST(coalesce(a.a16, 0) AS INTEGER)        AS members_16_59,
    CAST(coalesce(a.a60, 0) AS INTEGER)        AS members_60_plus,
    CAST(coalesce(a.full_, 0) AS INTEGER)      AS labor_full,
    CAST(coalesce(a.weak, 0) AS INTEGER)       AS labor_weak,
    CASE WHEN a.a16 > 0 THEN (a.a0 + a.a60) / a.a16 END AS dependency_ratio,
    CAST(coalesce(a.g12, 0) AS INTEGER)        AS disabled_grade_1_2,
    CAST(coalesce(a.g34, 0) AS INTEGER)        AS disabled_grade_3_4,
    CAST(coalesce(a.chronic, 0) AS INTEGER)    AS chronic_members,
    CAST(coalesce(a.major, 0) AS INTEGER)      AS major_disease_members
FROM hh h
LEFT JOIN (
    SELECT household_id,
           count(*)                                              AS n,
           count(*) FILTER (WHERE age <= 15)                     AS a0,
           count(*) FILTER (WHERE age BETWEEN 16 AND 59)         AS a16,
           count(*) FILTER (WHERE age >= 60)                     AS a60,
           count(*) FILTER (WHERE labor_capacity = 'full')       AS full_,
           count(*) FILTER (WHERE labor_capacity = 'weak')       AS weak,
           count(*) FILTER (WHERE disability_grade IN (1, 2))    AS g12,
           count(*) FILTER (WHERE disability_grade IN (3, 4))    AS g34,
           count(*) FILTER (WHERE chronic_disease)               AS chronic,
           count(*) FILTER (WHERE major_disease)                 AS major
    FROM mem
    WHERE alive
    GROUP BY household_id
) a USING (household_id)
